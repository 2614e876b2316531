#!/bin/bash
# bench/compare_precision.sh BUILD_DIR [LAYERS] [SEQ] — accent (fp32, bf16) and the PyTorch twin (fp32, bf16
# autocast) training step on the same bert-base-shaped model in one run, plus accent inference; prints the
# RESULT lines and the load average (the machine is shared: compare ratios within one run).
set -euo pipefail
build=${1:?usage: compare_precision.sh BUILD_DIR [LAYERS] [SEQ]}
layers=${2:-12}
seq=${3:-128}
here=$(cd "$(dirname "$0")" && pwd)
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$build/train_step_bench" --layers "$layers" --seq "$seq" --steps 2 --precision fp32 --infer | grep RESULT
"$build/train_step_bench" --layers "$layers" --seq "$seq" --steps 2 --precision bf16 --infer | grep RESULT
/usr/bin/python3 "$here/torch_step.py" --layers "$layers" --seq "$seq" --steps 1 --autocast | grep RESULT
/usr/bin/python3 "$here/torch_step.py" --layers "$layers" --seq "$seq" --steps 1 | grep RESULT
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
