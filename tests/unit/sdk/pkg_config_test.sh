#!/bin/sh
# Builds c_client.c with the flags that pkg-config returns for jamjet.pc, then runs it.
# Usage: pkg_config_test.sh C_COMPILER PKG_CONFIG_PATH SOURCE WORK_DIR [SYSROOT]
# With SYSROOT, the .pc file comes from a DESTDIR-staged install under SYSROOT.
# CLIENT_FLAGS, if set, adds compiler flags, such as the sanitizers of a sanitizer build.
set -eu
compiler=$1
export PKG_CONFIG_PATH=$2
source=$3
work_dir=$4
if [ $# -ge 5 ]; then
  export PKG_CONFIG_SYSROOT_DIR=$5
fi
export PKG_CONFIG_LIBDIR=$PKG_CONFIG_PATH  # ignore system .pc files

cflags=$(pkg-config --cflags jamjet)
libs=$(pkg-config --libs jamjet)
# The -L directory, which includes SYSROOT when one is set.
libdir=$(pkg-config --libs-only-L jamjet | sed 's/^ *-L//; s/ *$//')
echo "pkg-config --cflags --libs jamjet: $cflags $libs"
mkdir -p "$work_dir"
# shellcheck disable=SC2086  # the flags are word lists
"$compiler" ${CLIENT_FLAGS:-} $cflags -o "$work_dir/c_client" "$source" $libs -Wl,-rpath,"$libdir"
"$work_dir/c_client"
