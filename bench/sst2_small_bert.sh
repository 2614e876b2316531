#!/usr/bin/env bash
# bench/sst2_small_bert.sh VOCAB_DIR OUT_DIR — a small BERT to train from scratch on SST-2 (bench/accuracy.sh,
# bench/int8_accuracy.sh): bert-base-uncased's WordPiece tokenizer files from VOCAB_DIR and its config with 4 layers,
# hidden 256, 4 heads, FFN 1024, no weights (accent initialises it as HF's _init_weights does).
set -euo pipefail
VOCAB=${1:?usage: bench/sst2_small_bert.sh VOCAB_DIR OUT_DIR}
OUT=${2:?usage: bench/sst2_small_bert.sh VOCAB_DIR OUT_DIR}
mkdir -p "$OUT"
cp "$VOCAB"/{tokenizer.json,tokenizer_config.json,vocab.txt} "$OUT/"
/usr/bin/python3 - "$VOCAB/config.json" "$OUT/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c.update(architectures=["BertForSequenceClassification"], num_hidden_layers=4, hidden_size=256,
         num_attention_heads=4, intermediate_size=1024)
json.dump(c, open(sys.argv[2], "w"), indent=2)
PY
