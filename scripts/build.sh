#!/usr/bin/env bash
# Configures and builds accent into build/: everything (library, CLI, tests, benchmarks), or only the targets
# named as arguments (e.g. `scripts/build.sh accent` for the CLI alone).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
if [ $# -gt 0 ]; then
  cmake --build build -j "$(nproc)" --target "$@"
else
  cmake --build build -j "$(nproc)"
fi
