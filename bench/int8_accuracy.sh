#!/usr/bin/env bash
# bench/int8_accuracy.sh BUILD_DIR WORK_DIR — accuracy of dynamic int8 inference (`--precision int8`,
# `accent quantize`) against the same model in fp32, on two data sets:
#   demo  the demo's spam/ham model, trained as scripts/demo.sh trains it (tiny BERT from scratch, 3 epochs), scored
#         on its held-out validation split (validation.csv, written by `accent train`);
#   sst2  a small BERT (4 layers, hidden 256, bert-base-uncased's vocabulary) trained from scratch on the first
#         SST2_ROWS (20,000) rows of SST-2 train (1 epoch), scored on SST-2 dev (872 rows).
# No pretrained checkpoint is available offline, so both models are trained here; a fine-tuned bert-base would be the
# closer test (its activations have larger outliers, which per-token scales absorb better than per-tensor ones).
# For each model: `accent evaluate` in fp32 and with --precision int8, then the int8 directory written by
# `accent quantize` evaluated as it is, and per-example agreement of the predicted labels (fp32 vs int8) from
# `accent predict --input` on the evaluation rows. The quantize directory is evaluated with --precision fp32 (its
# attention and head then run fp32), --precision int8 keeps auto (bf16) there: their losses differ in the 4th digit.
# Output: RESULT lines; logs under WORK_DIR.
# Environment: SST2_ROWS (20000), DATASETS ("demo sst2"), THREADS (2).
set -euo pipefail
BUILD=${1:?usage: bench/int8_accuracy.sh BUILD_DIR WORK_DIR}
W=${2:?usage: bench/int8_accuracy.sh BUILD_DIR WORK_DIR}
A=$(cd "$BUILD" && pwd)/accent
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$HERE")
SST2_DIR=$REPO/tests/data/sentiment/sst2
BERT_VOCAB=$REPO/tests/data/vocab/bert-base-uncased
SST2_ROWS=${SST2_ROWS:-20000}
DATASETS=${DATASETS:-demo sst2}
THREADS=${THREADS:-2}
mkdir -p "$W"
W=$(cd "$W" && pwd)

train_demo() {  # → $W/demo/model, eval file $W/demo/model/validation.csv
  local d=$W/demo
  mkdir -p "$d"
  [ -f "$d/src/spam_ham.csv" ] || node "$REPO/demo/prepare.js" "$d/src" >/dev/null
  [ -f "$d/model/model.safetensors" ] || "$A" train --model "$d/src/tiny-bert" --train-file "$d/src/spam_ham.csv" \
    --validation-split 0.1 --output-dir "$d/model" --num-train-epochs 3 --per-device-train-batch-size 32 \
    --learning-rate 1e-3 --warmup-ratio 0.1 --weight-decay 0.01 --max-length 128 --seed 42 --save-strategy no \
    --progress none --threads "$THREADS" > "$d/train.log" 2>&1
  EVAL_FILE=$d/model/validation.csv READ=() TEXT=text
}

train_sst2() {  # → $W/sst2/model, eval file SST-2 dev
  local d=$W/sst2
  bash "$HERE/sst2_small_bert.sh" "$BERT_VOCAB" "$d/init"
  awk -v n="$SST2_ROWS" 'NR <= n + 1' "$SST2_DIR/train.tsv" > "$d/train.tsv"
  [ -f "$d/model/model.safetensors" ] || "$A" train --model "$d/init" --train-file "$d/train.tsv" \
    --text-column sentence --no-quoting --output-dir "$d/model" --num-train-epochs 1 \
    --per-device-train-batch-size 16 --learning-rate 3e-4 --warmup-ratio 0.1 --max-length 64 --seed 1 \
    --save-strategy no --progress none --threads "$THREADS" > "$d/train.log" 2>&1
  EVAL_FILE=$SST2_DIR/dev.tsv READ=(--text-column sentence --no-quoting) TEXT=sentence
}

accuracy_of() {  # accuracy_of JSON_FILE
  /usr/bin/python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print(m.get("eval_accuracy", m.get("accuracy")))' "$1"
}

for D in $DATASETS; do
  "train_$D"
  d=$W/$D
  rm -rf "$d/int8"
  "$A" quantize --model "$d/model" --output-dir "$d/int8" > "$d/quantize.json" 2> "$d/quantize.log"
  "$A" evaluate --model "$d/model" --data "$EVAL_FILE" "${READ[@]}" --precision fp32 --threads "$THREADS" > "$d/eval_fp32.json" 2> "$d/eval_fp32.log"
  "$A" evaluate --model "$d/model" --data "$EVAL_FILE" "${READ[@]}" --precision int8 --threads "$THREADS" > "$d/eval_int8.json" 2> "$d/eval_int8.log"
  "$A" evaluate --model "$d/int8" --data "$EVAL_FILE" "${READ[@]}" --precision fp32 --threads "$THREADS" > "$d/eval_saved_int8.json" 2> "$d/eval_saved_int8.log"
  "$A" predict --model "$d/model" --input "$EVAL_FILE" --text-column "$TEXT" --truncation --precision fp32 --threads "$THREADS" > "$d/pred_fp32.jsonl" 2> "$d/pred_fp32.log"
  "$A" predict --model "$d/int8" --input "$EVAL_FILE" --text-column "$TEXT" --truncation --threads "$THREADS" > "$d/pred_int8.jsonl" 2> "$d/pred_int8.log"
  agree=$(/usr/bin/python3 - "$d/pred_fp32.jsonl" "$d/pred_int8.jsonl" <<'PY'
import json, sys
def labels(path):
    out = []
    for line in open(path):
        j = json.loads(line)
        j = j[0] if isinstance(j, list) else j
        out.append(j["label"])
    return out
a, b = labels(sys.argv[1]), labels(sys.argv[2])
assert len(a) == len(b), (len(a), len(b))
print(f"{sum(x == y for x, y in zip(a, b))}/{len(a)}")
PY
)
  echo "RESULT int8 accuracy $D: fp32 $(accuracy_of "$d/eval_fp32.json"), --precision int8 $(accuracy_of "$d/eval_int8.json"), accent quantize dir $(accuracy_of "$d/eval_saved_int8.json"); predictions agreeing $agree; $(cat "$d/quantize.json")"
done
