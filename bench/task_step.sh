#!/bin/bash
# bench/task_step.sh BUILD_DIR TASK [--steps K] [--layers L] [--threads N] [--fp32] [--torch-fp32]
#
# Issue 12: one training step of a token-classification or question-answering head on the bert-base-shaped model
# (random weights), accent (train_step_bench --task) against the PyTorch twin (bench/torch_step.py --task, Debian
# /usr/bin/python3, torch 1.13) in one run, reported as ratios (PyTorch s/step ÷ accent s/step: > 1 = accent
# faster). TASK is token-classification (B=16 T=128, 13 labels; also the projected WNUT-17 epoch, 3394 sentences =
# 213 steps) or question-answering (B=8 T=384, run_qa.py's max_seq_length); sequence-classification works too.
#   --steps K      timed steps after one warm-up step, each side (default 2)
#   --fp32         also accent fp32 (ratio against PyTorch bf16 autocast; PyTorch fp32 is generic BLAS here)
#   --torch-fp32   also PyTorch fp32 (slow here: minutes per bert-base step)
# Prints the RESULT lines, the ratios and the load average before and after (the machine is shared: compare ratios
# within one run). Logs stay in the work directory printed at the end.
set -euo pipefail
build=${1:?usage: task_step.sh BUILD_DIR TASK [--steps K] [--layers L] [--threads N] [--fp32] [--torch-fp32]}
task=${2:?usage: task_step.sh BUILD_DIR TASK [--steps K] [--layers L] [--threads N] [--fp32] [--torch-fp32]}
shift 2
here=$(cd "$(dirname "$0")" && pwd)
steps=2 layers=12 threads=2 fp32=0 torch_fp32=0
while [ $# -gt 0 ]; do
  case "$1" in
    --steps) steps=$2; shift 2 ;;
    --layers) layers=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --fp32) fp32=1; shift ;;
    --torch-fp32) torch_fp32=1; shift ;;
    *) echo "task_step.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ -x "$build/train_step_bench" ] || { echo "task_step.sh: $build/train_step_bench not built" >&2; exit 2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/accent-task-step.XXXXXX")
common=(--task "$task" --steps "$steps" --layers "$layers" --threads "$threads")
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
run() {  # run NAME CMD...: output to $work/NAME.log, RESULT lines shown
  local name=$1; shift
  echo "== $name: $*"
  "$@" > "$work/$name.log" 2>&1 || { echo "task_step.sh: $name failed; see $work/$name.log" >&2; tail -20 "$work/$name.log" >&2; exit 1; }
  grep '^RESULT' "$work/$name.log" || true
}
# mean NAME: the mean s/step of a log; epoch NAME: its projected epoch seconds (empty when none).
mean() { sed -n 's/^RESULT \(accent train [a-z0-9]*\|pytorch\) [a-z0-9 ]*: mean \([0-9.]*\) s\/step.*/\2/p' "$work/$1.log"; }
epoch() { sed -n 's/^RESULT .* epoch .* projected \([0-9.]*\) s .*/\1/p' "$work/$1.log"; }
run accent_bf16 "$build/train_step_bench" "${common[@]}" --precision bf16
[ "$fp32" = 1 ] && run accent_fp32 "$build/train_step_bench" "${common[@]}" --precision fp32
run torch_bf16 /usr/bin/python3 "$here/torch_step.py" "${common[@]}" --autocast
[ "$torch_fp32" = 1 ] && run torch_fp32 /usr/bin/python3 "$here/torch_step.py" "${common[@]}"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0 && b > 0) printf "%.2f", b / a; else print "n/a" }'; }
report() {  # report ACCENT_LOG TORCH_LOG
  local a t
  a=$(mean "$1") t=$(mean "$2")
  echo "RATIO $task $1 vs $2: accent $a s/step, pytorch $t s/step, pytorch/accent = $(ratio "$a" "$t")"
  if [ -n "$(epoch "$1")" ]; then
    echo "RATIO $task epoch $1 vs $2: accent $(epoch "$1") s, pytorch $(epoch "$2") s"
  fi
}
report accent_bf16 torch_bf16
[ "$fp32" = 1 ] && report accent_fp32 torch_bf16
[ "$torch_fp32" = 1 ] && report accent_bf16 torch_fp32 && { [ "$fp32" = 1 ] && report accent_fp32 torch_fp32 || true; }
echo "logs: $work"
