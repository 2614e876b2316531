#!/usr/bin/env bash
# scripts/test_sanitizers.sh — the parser and data-path tests under AddressSanitizer + UndefinedBehaviorSanitizer
# (every UB check fatal), in a second build directory (build-asan/) that builds only those test targets and the
# layers they link (core, io, text, data): a few minutes, not a second full build. Run by scripts/test.sh.
#
# Why: the readers of untrusted files (JSON, CSV/TSV/JSONL, safetensors, pickles, tokenizer files) are where a
# hostile input turns into a memory error; the fuzzers (fuzz/run.sh) explore them, these tests pin the cases
# found so far. Tests that only compare with the Python/node oracles' numbers run in the normal build.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${ACCENT_ASAN_BUILD_DIR:-build-asan}
tests=(core_json_parse_test data_table_test data_dataset_test data_split_test io_config_test io_safetensors_test
       io_torch_bin_test text_tokenizer_test text_hostile_files_test serve_request_fuzz_test)
sanitize="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" \
  -DCMAKE_CXX_FLAGS="$sanitize" -DCMAKE_EXE_LINKER_FLAGS="$sanitize" >/dev/null
cmake --build "$build" -j "$(nproc)" --target "${tests[@]}"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
cd "$build"
status=0
for t in "${tests[@]}"; do
  echo "---- $t (ASan + UBSan)"
  "./$t" --gtest_brief=1 || status=1
done
exit $status
