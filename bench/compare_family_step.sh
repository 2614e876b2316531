#!/bin/sh
# One full fine-tuning training step (forward + backward, *ForSequenceClassification, B=16 T=128, random weights,
# no padding) at a family's base shape: accent (bench/train_step_bench.cpp --family F) and the PyTorch twin
# (bench/torch_family_step.py: tests/reference/family_twin.py's model of HF's modeling file) one after the other on
# this machine, then the step-time ratio torch/accent (> 1: accent is faster).
# --bf16: accent in bf16 mixed precision against torch.autocast("cpu", bfloat16) (the fair pair on Debian's
# PyTorch, whose fp32 matmul is a generic BLAS); without it both run fp32.
# Usage: bench/compare_family_step.sh BUILD_DIR --family modernbert [--bf16] [--batch 16] [--seq 128] [--steps 3]
#                                     [--layers L] [--threads 2]
set -e
BUILD=${1:?build dir}
shift
[ "$1" = "--family" ] || { echo "usage: $0 BUILD_DIR --family F [--bf16] [options]" >&2; exit 2; }
FAMILY=$2
shift 2
ACCENT_PRECISION="--precision fp32"
TORCH_FLAG=""
if [ "$1" = "--bf16" ]; then
  ACCENT_PRECISION="--precision bf16"
  TORCH_FLAG="--autocast"
  shift
fi
HERE=$(dirname "$0")
ACCENT=$("$BUILD/train_step_bench" --family "$FAMILY" $ACCENT_PRECISION "$@")
echo "$ACCENT"
TORCH=$(/usr/bin/python3 "$HERE/torch_family_step.py" --family "$FAMILY" $TORCH_FLAG "$@")
echo "$TORCH"
median() { awk '{for (i = 1; i < NF; ++i) if ($i == "step_seconds_median") print $(i + 1)}'; }
a=$(echo "$ACCENT" | median)
t=$(echo "$TORCH" | median)
echo "RESULT $FAMILY ratio torch/accent step time (median): $(awk -v a="$a" -v t="$t" 'BEGIN {printf "%.2f", t / a}')"
