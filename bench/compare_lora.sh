#!/bin/sh
# LoRA vs full fine-tuning training step at bert-base shape (B=16, T=128 by default): the step-time ratio from one
# process alternating both models' steps, then each mode alone for its peak RSS and state bytes.
# Usage: bench/compare_lora.sh BUILD_DIR [extra lora_step_bench flags, e.g. --precision bf16 --steps 5]
set -e
BUILD=${1:?build dir}
shift
"$BUILD/lora_step_bench" --mode interleaved "$@"
"$BUILD/lora_step_bench" --mode full --steps 1 "$@" | grep -E "peak_rss|optimizer_state|gradient_bytes"
"$BUILD/lora_step_bench" --mode lora --steps 1 "$@" | grep -E "peak_rss|optimizer_state|gradient_bytes"
