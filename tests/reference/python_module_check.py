#!/usr/bin/python3
"""Checks the `accent` Python module (python/accent_python.cpp) the way a transformers user would call it.

  python_module_check.py MODULE_DIR ACCENT_CLI BASE_MODEL TRAIN_CSV WORK_DIR

Trains a tiny model with accent.train (TrainingArguments' keywords, a log callback), compares
accent.pipeline("text-classification") with `accent predict` on the same texts (every result shape HF gives),
compares the tokenizer call with `accent tokenize`, checks numpy output, and stops a long training run with SIGINT
(KeyboardInterrupt, nothing saved). Prints one line per check; exits non-zero on the first failure.
"""
import json
import os
import signal
import subprocess
import sys
import threading

module_dir, cli, base, train_csv, work = sys.argv[1:6]
sys.path.insert(0, module_dir)
import accent  # noqa: E402
import numpy as np  # noqa: E402

accent.configure(precision="fp32", device="cpu", threads=1)
out = os.path.join(work, "model")
logs = []
result = accent.train(model=base, train_file=train_csv, output_dir=out, max_steps=4, logging_steps=1,
                      per_device_train_batch_size=8, learning_rate=1e-3, validation_split=0.25, max_length=32,
                      save_strategy="no", log_callback=logs.append)
assert result["global_step"] == 4, result
assert [entry["step"] for entry in logs if "loss" in entry] == [1, 2, 3, 4], logs
assert all("learning_rate" in e for e in logs if "loss" in e), logs
assert "eval_accuracy" in result["metrics"], result
assert os.path.exists(os.path.join(out, "model.safetensors"))
print("train ok:", result["global_step"], "steps, training_loss", round(result["training_loss"], 4))

texts = ["a fine film", "dull and slow", "the best thing I have seen this year"]
cli_env = dict(os.environ, ACCENT_PRECISION="fp32")
want = [json.loads(line) for line in subprocess.run(
    [cli, "predict", "--threads", "1", "--device", "cpu", "-m", out, "--top-k", "all", *texts],
    check=True, capture_output=True, text=True, env=cli_env).stdout.splitlines()]
clf = accent.pipeline("text-classification", model=out)
every = clf(texts, top_k=None)
assert len(every) == len(texts)
for got, exp in zip(every, want):
    assert [g["label"] for g in got] == [e["label"] for e in exp], (got, exp)
    assert max(abs(g["score"] - e["score"]) for g, e in zip(got, exp)) < 1e-6, (got, exp)
best = clf(texts)  # no top_k: one dict per input, the best label
assert [b["label"] for b in best] == [e[0]["label"] for e in want], (best, want)
single = clf(texts[0])
assert isinstance(single, list) and len(single) == 1 and single[0]["label"] == want[0][0]["label"], single
assert len(clf(texts[0], top_k=None)) == len(want[0]) and len(clf(texts, top_k=1)[0]) == 1
pair = clf({"text": "a fine film", "text_pair": "really"}, top_k=None)
assert len(pair) == len(want[0]), pair
print("pipeline ok: max |score - accent predict| < 1e-6 on", len(texts), "texts")

tok = accent.AutoTokenizer.from_pretrained(out)
with open(os.path.join(work, "lines.txt"), "w") as f:
    f.write("\n".join(texts) + "\n")
cli_ids = [json.loads(line) for line in subprocess.run(
    [cli, "tokenize", "--model", out, "--input", os.path.join(work, "lines.txt")],
    check=True, capture_output=True, text=True).stdout.splitlines()]
enc = tok(texts)
assert enc["input_ids"] == cli_ids, (enc["input_ids"], cli_ids)
assert enc["attention_mask"] == [[1] * len(ids) for ids in cli_ids]
one = tok(texts[0], "really", truncation=True, max_length=5)
assert len(one["input_ids"]) == 5 and 1 in one["token_type_ids"], one
arr = tok(texts, padding=True, return_tensors="np")
assert isinstance(arr["input_ids"], np.ndarray) and arr["input_ids"].dtype == np.int64
assert arr["input_ids"].shape == (3, max(len(i) for i in cli_ids)), arr["input_ids"].shape
assert arr["attention_mask"].sum() == sum(len(i) for i in cli_ids)
try:
    tok(texts, return_tensors="np")
    raise AssertionError("ragged numpy output was not refused")
except ValueError as e:
    assert "padding=True" in str(e), e
assert tok.convert_ids_to_tokens(cli_ids[0][:1]) == ["[CLS]"] and len(tok) > 0
print("tokenizer ok: ids equal accent tokenize; numpy", arr["input_ids"].shape)

try:
    accent.pipeline("text-classification", model=os.path.join(work, "missing"))
    raise AssertionError("a missing model was not an error")
except RuntimeError as e:
    assert "missing" in str(e), e

# Ctrl-C: SIGINT while a long run trains stops it with KeyboardInterrupt, and nothing is saved.
stopped = os.path.join(work, "stopped")
threading.Timer(3.0, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
try:
    accent.train(model=base, train_file=train_csv, output_dir=stopped, max_steps=100000, save_strategy="no",
                 per_device_train_batch_size=8, max_length=32, validation_split=0.25)
    raise AssertionError("training was not interrupted")
except KeyboardInterrupt:
    pass
assert not os.path.exists(os.path.join(stopped, "model.safetensors"))
print("ctrl-c ok: KeyboardInterrupt, nothing saved")
