#!/bin/sh
# LoRA training step at Qwen2.5-0.5B's shape (Qwen2ForSequenceClassification, q_proj,v_proj r=8, B=4 T=64 by
# default): accent (bench/lora_step_bench.cpp --family qwen2) and the PyTorch twin (bench/torch_decoder_lora_step.py)
# one after the other on this machine, each with its peak RSS, then the step-time ratio torch/accent.
# --bf16: accent in bf16 mixed precision against torch.autocast("cpu", bfloat16) (the fair pair on Debian's
# PyTorch, whose fp32 matmul is a generic BLAS); without it both run fp32.
# Usage: bench/compare_decoder_lora.sh BUILD_DIR [--bf16] [--batch 4] [--seq 64] [--steps 3] [--layers 24] [--threads 2]
set -e
BUILD=${1:?build dir}
shift
ACCENT_PRECISION_FLAG="--precision fp32"
TORCH_FLAG=""
if [ "$1" = "--bf16" ]; then
  ACCENT_PRECISION_FLAG="--precision bf16"
  TORCH_FLAG="--autocast"
  shift
fi
HERE=$(dirname "$0")
ACCENT=$("$BUILD/lora_step_bench" --family qwen2 --mode lora --batch 4 --seq 64 $ACCENT_PRECISION_FLAG "$@")
echo "$ACCENT"
TORCH=$(/usr/bin/python3 "$HERE/torch_decoder_lora_step.py" --batch 4 --seq 64 $TORCH_FLAG "$@")
echo "$TORCH"
a=$(echo "$ACCENT" | awk '/step_seconds_median/ {print $4}')
t=$(echo "$TORCH" | awk '/step_seconds_median/ {print $4}')
echo "RESULT ratio torch/accent step time (median): $(awk -v a="$a" -v t="$t" 'BEGIN {printf "%.2f", t / a}')"
