#!/usr/bin/env bash
# bench/serve_load.sh [BUILD_DIR] — issue 13's load test: builds the inputs and a model, then runs
# serve_load_bench (bench/serve_load_bench.cpp: `accent serve` at concurrency 1, 8 and 64 against offline
# `accent predict` on the same texts, every answer checked).
#
# Texts (one per line, mixed lengths): the 872 SST-2 dev sentences (tests/data) and the demo's mails
# (node demo/prepare.js: SpamAssassin subject + body start, newlines flattened; needs tests/oracle/node_modules,
# else the UCI IMDb reviews stand in).
# Model: a BERT of the shape given by SERVE_BENCH_SHAPE="layers hidden heads intermediate" (default "4 256 4 1024",
# bert-mini's), bert-base-uncased's vocabulary, 512 positions, fine-tuned 2 steps on SST-2 rows (a saved model
# with every weight, as `accent serve` requires; its accuracy is not the point, its cost per token is).
# Environment: SERVE_BENCH_REQUESTS (default 2000 per level), SERVE_BENCH_SECONDS (60 per level),
# SERVE_BENCH_PRECISION (fp32), SERVE_BENCH_THREADS (default: accent's), SERVE_BENCH_TEXTS_PER_REQUEST (1).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
read -r layers hidden heads intermediate <<<"${SERVE_BENCH_SHAPE:-4 256 4 1024}"

# Every SST-2 dev sentence, alternating with as many longer texts: short and long requests mixed.
tail -n +2 "$root/tests/data/sentiment/sst2/dev.tsv" | cut -f1 >"$work/short.txt"
if [ -d "$root/tests/oracle/node_modules" ] && node "$root/demo/prepare.js" "$work/demo" >/dev/null 2>&1; then
  long_source="the demo's mails"
  /usr/bin/python3 -c '
import csv, sys
for row in csv.DictReader(open(sys.argv[1], newline="")):
    print(" ".join(row["text"].split()))' "$work/demo/spam_ham.csv" >"$work/long.txt"
else
  long_source="UCI IMDb reviews (no tests/oracle/node_modules for the demo's mails)"
  cut -f1 "$root/tests/data/sentiment/uci/imdb_labelled.txt" >"$work/long.txt"
fi
/usr/bin/python3 -c '
import sys
short = [l for l in open(sys.argv[1]).read().splitlines() if l.strip()]
long = [l for l in open(sys.argv[2]).read().splitlines() if l.strip()][:len(short)]
for i, s in enumerate(short):
    print(s)
    if i < len(long): print(long[i])' "$work/short.txt" "$work/long.txt" >"$work/texts.txt"
echo "texts: SST-2 dev alternating with $long_source: $(wc -l <"$work/texts.txt") lines"

mkdir -p "$work/base"
cp "$root/tests/data/vocab/bert-base-uncased/vocab.txt" "$root/tests/data/vocab/bert-base-uncased/tokenizer_config.json" "$work/base/"
cat >"$work/base/config.json" <<JSON
{"model_type": "bert", "architectures": ["BertForMaskedLM"], "vocab_size": 30522, "hidden_size": $hidden,
 "num_hidden_layers": $layers, "num_attention_heads": $heads, "intermediate_size": $intermediate,
 "max_position_embeddings": 512, "type_vocab_size": 2, "pad_token_id": 0}
JSON
{ echo "text,label"; sed -n '2,65p' "$root/tests/data/sentiment/sst2/train.tsv" |
  awk -F'\t' '{gsub(/"/, "\"\"", $1); print "\"" $1 "\"," ($2 == 1 ? "positive" : "negative")}'; } >"$work/train.csv"
"$build/accent" train --model "$work/base" --train-file "$work/train.csv" --output-dir "$work/model" --max-steps 2 \
  --per-device-train-batch-size 8 --progress none --seed 1 >/dev/null 2>&1
echo "model: BERT $layers layers, hidden $hidden, $heads heads, intermediate $intermediate"

threads=()
[ -n "${SERVE_BENCH_THREADS:-}" ] && threads=(--threads "$SERVE_BENCH_THREADS")
"$build/serve_load_bench" --accent "$build/accent" --model "$work/model" --texts "$work/texts.txt" \
  --requests "${SERVE_BENCH_REQUESTS:-2000}" --max-seconds "${SERVE_BENCH_SECONDS:-60}" \
  --precision "${SERVE_BENCH_PRECISION:-fp32}" --texts-per-request "${SERVE_BENCH_TEXTS_PER_REQUEST:-1}" "${threads[@]}"
