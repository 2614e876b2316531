#!/usr/bin/env bash
# fuzz/run.sh [SECONDS] — builds accent's libFuzzer targets with clang++ (ASan + UBSan, fuzz/CMakeLists.txt) and
# runs each for SECONDS (default 60), one after the other. Exits non-zero when any target reports a crash, an
# uncaught exception, a broken invariant, a leak, undefined behaviour or a timeout; the reproducer is left in
# $BUILD/artifacts/. Prints the executions and executions/s of every target.
#
# Environment: ACCENT_FUZZ_BUILD_DIR (default <repo>/build-fuzz), ACCENT_FUZZ_TARGETS (default all ten:
# "safetensors torch_bin torch_pickle config jsonl tokenizer_files adapter_config checkpoint_files shard_index
# serve_request"), CXX (default clang++).
# Seeds are generated into $BUILD/seeds by fuzz/make_seeds.py (torch.save via Debian's /usr/bin/python3); the
# inputs libFuzzer finds interesting accumulate in $BUILD/corpus/<target> and are reused by the next run.
# Reproduce a finding: $BUILD/<target>_fuzz $BUILD/artifacts/<target>-crash-...
set -euo pipefail

seconds=${1:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
build=${ACCENT_FUZZ_BUILD_DIR:-$root/build-fuzz}
targets=${ACCENT_FUZZ_TARGETS:-"safetensors torch_bin torch_pickle config jsonl tokenizer_files adapter_config checkpoint_files shard_index serve_request"}
cxx=${CXX:-clang++}
command -v "$cxx" >/dev/null || { echo "fuzz/run.sh: $cxx not found (apt-get install clang libclang-rt-14-dev)" >&2; exit 2; }

generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$root/fuzz" -B "$build" "${generator[@]}" -DCMAKE_CXX_COMPILER="$cxx" >/dev/null
fi
cmake --build "$build" -j "$(nproc)" >/dev/null || { cmake --build "$build" -j 1; exit 1; }

python=/usr/bin/python3
[ -x "$python" ] || python=python3
if [ ! -f "$build/seeds/.stamp" ] || [ "$root/fuzz/make_seeds.py" -nt "$build/seeds/.stamp" ]; then
  rm -rf "$build/seeds"
  "$python" "$root/fuzz/make_seeds.py" "$build/seeds"
  touch "$build/seeds/.stamp"
fi

declare -A dict=([safetensors]=safetensors.dict [torch_bin]=pickle.dict [torch_pickle]=pickle.dict [config]=config.dict
                 [jsonl]=json.dict [tokenizer_files]=json.dict [adapter_config]=json.dict [checkpoint_files]=json.dict
                 [shard_index]=json.dict [serve_request]=json.dict)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
mkdir -p "$build/artifacts" "$build/logs"
status=0
summary=()
for t in $targets; do
  mkdir -p "$build/corpus/$t" "$build/seeds/$t"
  log="$build/logs/$t.log"
  set +e
  "$build/${t}_fuzz" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
    -print_final_stats=1 -dict="$root/fuzz/${dict[$t]}" -artifact_prefix="$build/artifacts/$t-" \
    "$build/corpus/$t" "$build/seeds/$t" >"$log" 2>&1
  rc=$?
  set -e
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  runs=${runs:-0}
  if [ "$rc" -ne 0 ]; then
    status=1
    summary+=("$(printf '%-13s FAILED (exit %d) after %s executions; log %s' "$t" "$rc" "$runs" "$log")")
    echo "---- $t: FAILED, last lines of $log"
    grep -v '^ *#[0-9]' "$log" | tail -n 30
    grep -m 12 '^ *#[0-9]' "$log" || true
  else
    summary+=("$(printf '%-13s ok  %9s executions in %ss  (%s exec/s), corpus %s inputs' "$t" "$runs" "${secs:-?}" \
      "${rate:-?}" "$(ls "$build/corpus/$t" | wc -l)")")
  fi
done
printf '%s\n' "${summary[@]}"
exit $status
