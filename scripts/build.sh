#!/usr/bin/env bash
# Configures and builds accent into build/: everything (library, CLI, tests, benchmarks), or only the targets
# named as arguments (e.g. `scripts/build.sh accent` for the CLI alone).
# --no-tests configures without the GoogleTest suites (ACCENT_BUILD_TESTS=OFF), so that a machine with only the
# demo's packages (scripts/setup.sh without --tests: no GoogleTest) can configure. The option is passed on every
# run, because CMake caches it: the demo and the tests can share build/.
set -euo pipefail
cd "$(dirname "$0")/.."
tests=ON
if [ "${1:-}" = "--no-tests" ]; then tests=OFF; shift; fi
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DACCENT_BUILD_TESTS=$tests >/dev/null
if [ $# -gt 0 ]; then
  cmake --build build -j "$(nproc)" --target "$@"
else
  cmake --build build -j "$(nproc)"
fi
