#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine (the demo's packages plus the tests' own), builds everything and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --tests
bash scripts/build.sh
cd build && ctest --output-on-failure -j 2 --timeout 1800
cd .. && bash scripts/test_sanitizers.sh
