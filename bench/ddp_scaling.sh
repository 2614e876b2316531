#!/bin/bash
# bench/ddp_scaling.sh BUILD_DIR [--steps K] [--layers L] [--seq T] [--batch B] [--no-torch]
#
# Issue 14: data-parallel scaling on this machine's cores. The same global batch (2·B examples of T tokens, default
# 2·8 × 128) of a bert-base-shaped classifier (random weights, dropout on, AdamW, bf16 mixed precision) trained as
#   1 process × 2 threads    (accent train --threads 2, batch 2B)
#   2 processes × 1 thread   (accent launch --nproc-per-node 2 -- train --threads 1, batch B per rank, Gloo)
# and the same two shapes in PyTorch (bench/torch_ddp.py: the PyTorch twin over torch.distributed's Gloo, bf16
# autocast), in one run. Prints examples/s of each (the global batch × K steps ÷ the run's train_runtime, first step
# included, as HF reports it), the ratio 2×1 ÷ 1×2 of each, accent ÷ PyTorch for each shape, and the measured
# gradient all-reduce time per step (accent: on the communication thread, overlapped with backward, and the part
# the step still waited for; PyTorch: after backward). Logs stay in the work directory printed at the end.
#
# On one machine the two shapes split the same cores, so 2×1 can at best match 1×2; what this measures is the
# cost data parallelism adds (the all-reduce of ~438 MB of fp32 gradients per step over loopback, the padding to the
# step's longest example, a process's fixed costs). README.md ("Data-parallel training") turns the all-reduce
# volume into network time for 10/100 GbE and N = 2…64 nodes.
set -euo pipefail
build=${1:?usage: ddp_scaling.sh BUILD_DIR [--steps K] [--layers L] [--seq T] [--batch B] [--no-torch]}
shift
here=$(cd "$(dirname "$0")" && pwd)
steps=4 layers=12 seq=128 batch=8 torch=1
while [ $# -gt 0 ]; do
  case "$1" in
    --steps) steps=$2; shift 2 ;;
    --layers) layers=$2; shift 2 ;;
    --seq) seq=$2; shift 2 ;;
    --batch) batch=$2; shift 2 ;;
    --no-torch) torch=0; shift ;;
    *) echo "ddp_scaling.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
accent=$build/accent
[ -x "$accent" ] || { echo "ddp_scaling.sh: $accent not built" >&2; exit 2; }
work=$(mktemp -d /tmp/accent_ddp_scaling.XXXXXX)
global=$((2 * batch))

# A bert-base-shaped model directory without weights (accent initialises it from the seed: the same on every rank)
# and bert-base-uncased's real vocabulary; a CSV of K global batches of text longer than T tokens.
mkdir -p "$work/model"
cp "$here/../tests/data/vocab/bert-base-uncased/vocab.txt" "$here/../tests/data/vocab/bert-base-uncased/tokenizer_config.json" "$work/model/"
cat > "$work/model/config.json" <<EOF
{"model_type": "bert", "architectures": ["BertForMaskedLM"], "vocab_size": 30522, "hidden_size": 768,
 "num_hidden_layers": $layers, "num_attention_heads": 12, "intermediate_size": 3072, "max_position_embeddings": 512,
 "type_vocab_size": 2, "hidden_act": "gelu", "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
 "layer_norm_eps": 1e-12, "pad_token_id": 0}
EOF
{
  echo "text,label"
  for i in $(seq 1 $((steps * global))); do
    printf '"'
    for w in $(seq 1 $((seq + 8))); do printf 'word%d ' $(((i * 31 + w * 17) % 997)); done
    printf '",%s\n' $((i % 2))
  done
} > "$work/train.csv"
common="--model $work/model --train-file $work/train.csv --validation-split 0 --max-length $seq --pad-to-max-length
  --max-steps $steps --save-strategy no --report-to none --progress none --json --seed 1 --learning-rate 2e-5"

json_value() { /usr/bin/python3 -c "import json,sys; d=json.loads([l for l in open(sys.argv[1]) if l.startswith('{')][-1]); print(d.get(sys.argv[2], 0))" "$1" "$2"; }
metric() { awk -v k="$2" '$1 == "METRIC" && $2 == k { print $3 }' "$1"; }
per_second() { /usr/bin/python3 -c "import sys; print(f'{$global * $steps / float(sys.argv[1]):.2f}')" "$1"; }
ratio() { /usr/bin/python3 -c "import sys; a, b = map(float, sys.argv[1:]); print(f'{a / b:.2f}' if b else 'n/a')" "$1" "$2"; }

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== accent: 1 process x 2 threads, batch $global =="
"$accent" train $common --threads 2 --per-device-train-batch-size $global --output-dir "$work/one" \
  > "$work/accent_1x2.log" 2>&1
a12=$(per_second "$(json_value "$work/accent_1x2.log" train_runtime)")
echo "RESULT accent 1x2: $a12 examples/s"
echo "== accent: 2 processes x 1 thread, batch $batch each (accent launch, Gloo) =="
"$accent" launch --nproc-per-node 2 --master-port $((29700 + RANDOM % 200)) -- train $common --threads 1 \
  --per-device-train-batch-size $batch --output-dir "$work/two" > "$work/accent_2x1.log" 2>&1
a21=$(per_second "$(json_value "$work/accent_2x1.log" train_runtime)")
echo "RESULT accent 2x1: $a21 examples/s; gradient all-reduce $(json_value "$work/accent_2x1.log" ddp_allreduce_seconds_per_step) s/step" \
     "($(json_value "$work/accent_2x1.log" ddp_gradient_bytes_per_step) bytes in $(json_value "$work/accent_2x1.log" ddp_buckets_per_step) buckets)," \
     "of which the step waited $(json_value "$work/accent_2x1.log" ddp_wait_seconds_per_step) s after backward"
echo "RESULT accent scaling 2x1 / 1x2: $(ratio "$a21" "$a12")"

if [ "$torch" = 1 ]; then
  tflags="--seq $seq --steps $steps --layers $layers --autocast"
  echo "== PyTorch twin: 1 process x 2 threads, batch $global =="
  /usr/bin/python3 "$here/torch_ddp.py" $tflags --threads 2 --batch $global > "$work/torch_1x2.log" 2>&1
  t12=$(metric "$work/torch_1x2.log" examples_per_second)
  echo "RESULT pytorch 1x2: $t12 examples/s"
  echo "== PyTorch twin: 2 processes x 1 thread, batch $batch each (torch.distributed, Gloo) =="
  port=$((29900 + RANDOM % 90))
  RANK=1 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=$port /usr/bin/python3 "$here/torch_ddp.py" $tflags \
    --threads 1 --batch $batch > "$work/torch_2x1_rank1.log" 2>&1 &
  RANK=0 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=$port /usr/bin/python3 "$here/torch_ddp.py" $tflags \
    --threads 1 --batch $batch > "$work/torch_2x1.log" 2>&1
  wait
  t21=$(metric "$work/torch_2x1.log" examples_per_second)
  echo "RESULT pytorch 2x1: $t21 examples/s; gradient all-reduce $(metric "$work/torch_2x1.log" allreduce_seconds_per_step) s/step (after backward)"
  echo "RESULT pytorch scaling 2x1 / 1x2: $(ratio "$t21" "$t12")"
  echo "RESULT accent / pytorch examples/s: 1x2 $(ratio "$a12" "$t12"), 2x1 $(ratio "$a21" "$t21")"
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "logs: $work"
