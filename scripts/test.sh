#!/usr/bin/env bash
# Builds the agent twice (plain, and with AddressSanitizer and UndefinedBehaviorSanitizer) and
# runs every test in both builds: unit tests, then end-to-end tests that load the real BPF
# programs. Run as root: the end-to-end tests attach uprobes.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
jobs=$(nproc)

run_build() {
  local dir=$1
  shift
  cmake -S "$repo" -B "$dir" -G Ninja "$@"
  cmake --build "$dir" -j "$jobs"
  ctest --test-dir "$dir" --output-on-failure
}

run_build "$repo/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DJAMJET_BUILD_TESTS=ON
run_build "$repo/build-sanitize" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DJAMJET_BUILD_TESTS=ON \
  -DJAMJET_SANITIZE=ON
