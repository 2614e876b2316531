#!/bin/sh
# Validation accuracy, LoRA vs full fine-tuning, on the demo spam/ham data (demo/prepare.js).
# demo/tiny-bert has no weights, so the comparison starts from a checkpoint made here: stage 1 trains it fully for
# one epoch on one part of the data; stage 2 fine-tunes that checkpoint on another part, once fully and once with
# LoRA (query,value, r=8, alpha=8 — PEFT's defaults — plus a 10× higher learning rate, as LoRA recipes use); both
# are scored on the same held-out rows. Usage: bench/lora_vs_full_accuracy.sh BUILD_DIR DEMO_DIR WORK_DIR
set -e
A=${1:?build dir}/accent
DEMO=${2:?demo dir (node demo/prepare.js DIR)}
W=${3:?work dir}
mkdir -p "$W"
/usr/bin/python3 - "$DEMO/spam_ham.csv" "$W" <<'PY'
import csv, random, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
header, rows = rows[0], rows[1:]
random.Random(0).shuffle(rows)
n = len(rows)
parts = {"stage1.csv": rows[: n * 2 // 5], "stage2.csv": rows[n * 2 // 5: n * 4 // 5], "val.csv": rows[n * 4 // 5:]}
for name, part in parts.items():
    with open(f"{sys.argv[2]}/{name}", "w", newline="") as f:
        w = csv.writer(f); w.writerow(header); w.writerows(part)
    print(name, len(part), "rows")
PY
COMMON="--epochs 1 --max-length 64 --batch-size 16 --progress none --save-strategy no --seed 1 --json"
$A train -m "$DEMO/tiny-bert" -t "$W/stage1.csv" -v "$W/val.csv" -o "$W/base" --lr 1e-3 $COMMON 2>/dev/null | tail -1 > "$W/base.json"
$A train -m "$W/base" -t "$W/stage2.csv" -v "$W/val.csv" -o "$W/full" --lr 1e-4 $COMMON 2>/dev/null | tail -1 > "$W/full.json"
$A train -m "$W/base" -t "$W/stage2.csv" -v "$W/val.csv" -o "$W/lora" --lr 1e-3 --lora $COMMON 2>/dev/null | tail -1 > "$W/lora.json"
/usr/bin/python3 - "$W" <<'PY'
import json, sys
w = sys.argv[1]
for name in ("base", "full", "lora"):
    j = json.load(open(f"{w}/{name}.json"))
    print(f"RESULT {name:5s} eval_accuracy {j['eval_accuracy']:.4f} eval_f1 {j['eval_f1']:.4f} train_runtime {j['train_runtime']:.1f}s")
full = json.load(open(f"{w}/full.json"))["eval_accuracy"]; lora = json.load(open(f"{w}/lora.json"))["eval_accuracy"]
print(f"RESULT lora - full accuracy {100 * (lora - full):+.2f} points")
PY
