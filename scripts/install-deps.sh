#!/usr/bin/env bash
# Installs what jamjet-agent needs to build, run and test on Debian 12, as root.
# Safe to run again: apt-get and npm skip what is already there.
set -euo pipefail

if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps.sh: run as root (it calls apt-get)" >&2
  exit 1
fi

packages=(
  # build
  build-essential cmake ninja-build pkg-config clang llvm
  # BPF
  libbpf-dev bpftool libelf-dev
  # agent libraries
  libabsl-dev libspdlog-dev nlohmann-json3-dev libhttp-parser-dev zlib1g-dev libbrotli-dev
  libprotobuf-dev protobuf-compiler libcurl4-openssl-dev libnghttp2-dev libsqlite3-dev libssl-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  libyaml-cpp-dev libmicrohttpd-dev python3-protobuf
  curl openssl python3 python3-httpx python3-pytest python3-fastapi python3-uvicorn
  nodejs npm
)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$package")
done
# nodejs and npm may come from another source (a newer Node.js build); accept a working one.
if command -v node >/dev/null && command -v npm >/dev/null; then
  missing=("${missing[@]/nodejs/}")
  missing=("${missing[@]/npm/}")
fi
filtered=()
for package in "${missing[@]}"; do [[ -n "$package" ]] && filtered+=("$package"); done

if ((${#filtered[@]} > 0)); then
  echo "install-deps.sh: installing ${filtered[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${filtered[@]}"
fi

# Node packages, at the versions in their lock files: the e2e clients, the addon in sdk/node
# (node-addon-api must be there before the bindings tests install and build it), and the
# bindings tests, whose install builds the addon with node-gyp.
repo=$(cd "$(dirname "$0")/.." && pwd)
for dir in "$repo"/tests/e2e/node "$repo"/sdk/node "$repo"/tests/bindings/node; do
  if [[ -f "$dir/package-lock.json" ]]; then
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
done
