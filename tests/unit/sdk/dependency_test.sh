#!/bin/sh
# Checks that the SDK libraries need nothing beyond libc and pthread: no C++ runtime, no absl.
# Usage: dependency_test.sh SHARED_LIBRARY STATIC_LIBRARY
set -eu
shared=$1
static=$2
status=0

needed=$(readelf -d "$shared" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
echo "$shared needs: $needed"
for library in $needed; do
  case $library in
    libc.so.* | libpthread.so.* | ld-linux*) ;;
    libasan.so.* | libubsan.so.*) ;;  # sanitizer builds
    *)
      echo "unexpected dependency of $shared: $library" >&2
      status=1
      ;;
  esac
done

soname=$(readelf -d "$shared" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
if [ "$soname" != "libjamjet.so.0" ]; then
  echo "SONAME of $shared is '$soname', expected libjamjet.so.0" >&2
  status=1
fi

# Undefined symbols of the static library must come from libc (and sanitizers).
bad_symbols=$(nm -u "$static" | awk '{print $2}' | grep -E '^(_Z|absl|__cxa|__gxx)' || true)
if [ -n "$bad_symbols" ]; then
  echo "$static refers to C++ symbols: $bad_symbols" >&2
  status=1
fi

# Only the jamjet_ API is exported from the shared library.
exported=$(nm -D --defined-only "$shared" | awk '$2 ~ /[TDB]/ {print $3}' | grep -v '^jamjet_' || true)
if [ -n "$exported" ]; then
  echo "$shared exports symbols outside the API: $exported" >&2
  status=1
fi
exit $status
