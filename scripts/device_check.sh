#!/usr/bin/env bash
# Issue 11's checks on the GPU machine (run there through the device tool; at most ~8 minutes). Needs .device/bundle.tar.xz
# (scripts/device_bundle.sh) and writes everything under $OUT:
#   env.txt               GPU, driver, CPU, Python packages, which cuBLASLt was used
#   ops_cuda_test.log     every CUDA op against ref (tests/unit/ops_cuda_test.cpp)
#   train_cuda_models_test.log  every family on the GPU against the CPU: logits, gradients, AdamW steps, bf16, LoRA,
#                         no cudaMalloc in a repeated step, checkpoints across devices (tests/unit/train_cuda_models_test.cpp)
#   cuda_step_bench.json  bert-base training step / inference on the GPU (bench/cuda_step_bench.cpp)
#   epoch_bench_cuda.txt  a whole SST-2 epoch (8,000 rows, dynamic padding) trained on the GPU (bench/epoch_bench.cpp);
#                         PyTorch trains the same batches in torch_gpu_bench.json ("epoch_sst2_dynamic_eager")
#   cuda_ops_bench.json   each CUDA op's time and rate at bert-base shapes (bench/cuda_ops_bench.cpp)
#   interop.json / .log   accent's output directories against real transformers / PEFT (scripts/device/hf_interop.py)
#   torch_gpu_bench.json  PyTorch's numbers on this GPU (bench/torch_gpu_bench.py)
#   summary.txt           one line per part: passed / failed / what ran
# Everything except summary.txt is packed into results.tar.gz at the end (the device tool returns a few files only).
# Each part runs under its own timeout and the next part runs whatever happened, so one failure costs one part.
# Environment: OUT (default /tmp/accent-device), VOCAB_DIR and SST2_DEV (fixtures; defaults in the repository).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/accent-device}
VOCAB_DIR=${VOCAB_DIR:-tests/data/vocab}
SST2_DEV=${SST2_DEV:-tests/data/sentiment/sst2/dev.tsv}
mkdir -p "$OUT"
SUMMARY="$OUT/summary.txt"
: >"$SUMMARY"
pack() {
  (cd "$OUT" && tar -czf /tmp/accent-results.tar.gz --exclude=summary.txt . &&
    find . -mindepth 1 ! -name summary.txt -delete && mv /tmp/accent-results.tar.gz results.tar.gz)
}
trap pack EXIT
note() { echo "$*" | tee -a "$SUMMARY"; }

BUNDLE=/tmp/accent-bundle
rm -rf "$BUNDLE" && mkdir -p "$BUNDLE" && tar -C "$BUNDLE" -xJf .device/bundle.tar.xz || { note "bundle: missing"; exit 1; }
LT=$(find -H /usr/local/cuda*/lib64 /usr/local/cuda*/targets /opt /usr/lib -name 'libcublasLt.so.13*' 2>/dev/null | head -1)
export LD_LIBRARY_PATH="$BUNDLE/lib${LT:+:$(dirname "$LT")}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
ACCENT="$BUNDLE/bin/accent"
{
  date -u
  nvidia-smi -L; nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv
  lscpu | grep -E 'Model name|^CPU\(s\)'
  grep -o -w -E 'avx512f|avx512_bf16|amx_bf16|avx512_vp2intersect' /proc/cpuinfo | sort -u | tr '\n' ' '; echo
  ldd --version | head -1
  echo "cuBLASLt: ${LT:-not found}"
  python3 -c 'import torch, transformers, peft, tokenizers; print("torch", torch.__version__, "transformers", transformers.__version__, "peft", peft.__version__, "tokenizers", tokenizers.__version__)'
  ldd "$ACCENT" | grep -E 'not found' || echo "accent: all libraries found"
} >"$OUT/env.txt" 2>&1
"$ACCENT" --version >>"$OUT/env.txt" 2>&1

# 1. Every CUDA op against ref.
timeout 120 "$BUNDLE/bin/ops_cuda_test" >"$OUT/ops_cuda_test.log" 2>&1
rc=$?
note "ops_cuda_test: rc=$rc $(grep -E '^\[  (PASSED|FAILED) |^\[  SKIPPED \] [0-9]' "$OUT/ops_cuda_test.log" | tr '\n' ' ')"

# 2. Whole models on the GPU against the CPU.
timeout 150 "$BUNDLE/bin/train_cuda_models_test" >"$OUT/train_cuda_models_test.log" 2>&1
rc=$?
note "train_cuda_models_test: rc=$rc $(grep -E '^\[  (PASSED|FAILED) |^\[  SKIPPED \] [0-9]' "$OUT/train_cuda_models_test.log" | tr '\n' ' ')"
grep -E '^\[  FAILED  \]' "$OUT/train_cuda_models_test.log" | head -20 >>"$SUMMARY"

timeout 90 "$BUNDLE/bin/cuda_step_bench" >"$OUT/cuda_step_bench.json" 2>&1
note "cuda_step_bench: rc=$?"
cat "$OUT/cuda_step_bench.json" >>"$SUMMARY"
EPOCH_BATCHES=/tmp/accent-epoch-batches.safetensors
timeout 90 "$BUNDLE/bin/epoch_bench" --device cuda --recipe dynamic --steps 100000 --precision bf16 --threads 8 \
  --data tests/data --write-batches "$EPOCH_BATCHES" >"$OUT/epoch_bench_cuda.txt" 2>&1
note "epoch_bench --device cuda: rc=$?"
grep -E '^RESULT|^epoch' "$OUT/epoch_bench_cuda.txt" >>"$SUMMARY"
[ -n "${SKIP_OPS_BENCH:-}" ] || { timeout 60 "$BUNDLE/bin/cuda_ops_bench" >"$OUT/cuda_ops_bench.json" 2>&1; note "cuda_ops_bench: rc=$?"; }

# 3. accent's files against transformers / PEFT (accent trains and predicts on the GPU, and predicts on the CPU).
PYTHONUNBUFFERED=1 timeout 200 python3 scripts/device/hf_interop.py --accent "$ACCENT" --work /tmp/accent-interop \
  --vocab-dir "$VOCAB_DIR" --data "$SST2_DEV" --out "$OUT/interop.json" --log "$OUT/interop.log" \
  >"$OUT/interop.stdout" 2>&1
rc=$?
note "hf_interop: rc=$rc"
cat "$OUT/interop.stdout" >>"$SUMMARY"
cat "$OUT/interop.stdout" >>"$OUT/interop.log" && rm -f "$OUT/interop.stdout"

# 4. PyTorch on this GPU (the speed targets' reference). SKIP_TORCH_BENCH=1 leaves it out (a re-run of 1–2).
[ -n "${SKIP_TORCH_BENCH:-}" ] && { cat "$SUMMARY"; exit 0; }
PYTHONUNBUFFERED=1 timeout ${TORCH_BENCH_TIMEOUT:-150} python3 bench/torch_gpu_bench.py --out "$OUT/torch_gpu_bench.json" \
  $([ -f "$EPOCH_BATCHES" ] && echo --epoch-batches "$EPOCH_BATCHES") ${TORCH_BENCH_ARGS:-} \
  >"$OUT/torch_gpu_bench.log" 2>&1
rc=$?
note "torch_gpu_bench: rc=$rc"
tail -n 40 "$OUT/torch_gpu_bench.log" >>"$SUMMARY"
cat "$SUMMARY"
