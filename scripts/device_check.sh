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
#   nccl_world1.log       issue 14: data-parallel training as a world of 1 over NCCL against the plain GPU run
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
NCCL=$(find -H /usr/local/cuda*/lib64 /usr/local/cuda*/targets /opt /usr/lib -name 'libnccl.so.2*' 2>/dev/null | head -1)
export LD_LIBRARY_PATH="$BUNDLE/lib${LT:+:$(dirname "$LT")}${NCCL:+:$(dirname "$NCCL")}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
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

# 2b. Issue 14: the data-parallel path on the GPU — a world of 1 (torchrun's environment) all-reduces its gradient
# buckets over NCCL; its weights after 10 fp32 steps must equal the plain GPU run's (a sum over one rank is exact).
NCCL_DIR=/tmp/accent-nccl
rm -rf "$NCCL_DIR" && mkdir -p "$NCCL_DIR/bert"
cp "$VOCAB_DIR/bert-base-uncased/vocab.txt" "$VOCAB_DIR/bert-base-uncased/tokenizer_config.json" "$NCCL_DIR/bert/"
echo '{"model_type": "bert", "vocab_size": 30522, "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2,
  "intermediate_size": 128, "max_position_embeddings": 128, "pad_token_id": 0}' >"$NCCL_DIR/bert/config.json"
NCCL_FLAGS="train --device cuda --precision fp32 --model $NCCL_DIR/bert --train-file $SST2_DEV --text-column sentence
  --validation-split 0 --max-steps 10 --per-device-train-batch-size 16 --max-length 64 --seed 7 --learning-rate 1e-3
  --save-strategy no --progress none --report-to none --json"
{
  timeout 60 "$ACCENT" $NCCL_FLAGS --output-dir "$NCCL_DIR/plain" && \
  WORLD_SIZE=1 RANK=0 LOCAL_RANK=0 LOCAL_WORLD_SIZE=1 MASTER_ADDR=127.0.0.1 MASTER_PORT=29561 NCCL_DEBUG=WARN \
    timeout 90 "$ACCENT" $NCCL_FLAGS --output-dir "$NCCL_DIR/nccl" && \
  python3 -c 'import sys; from safetensors.numpy import load_file as l; a, b = l(sys.argv[1]), l(sys.argv[2]); d = max(float(abs(a[k] - b[k]).max()) for k in a); print("max |w(nccl world 1) - w(plain)|:", d); sys.exit(d > 1e-6)' \
    "$NCCL_DIR/plain/model.safetensors" "$NCCL_DIR/nccl/model.safetensors"
} >"$OUT/nccl_world1.log" 2>&1
note "nccl_world1: rc=$? $(grep -E '^max' "$OUT/nccl_world1.log")"

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
