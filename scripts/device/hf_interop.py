#!/usr/bin/env python3
"""accent's files against the real Hugging Face libraries (transformers, PEFT, tokenizers), one family at a time.

For each family: `transformers` creates a small model with random weights and a real tokenizer and saves them
(save_pretrained) -> `accent train --device DEVICE` fine-tunes that directory -> `transformers` loads accent's
output directory: the tokenizer must give accent's ids, the model accent's logits (accent predicting on the CPU and
on DEVICE), and pipeline("text-classification") accent's labels and scores (within 1e-3); `accent evaluate` gives
the same metrics on the CPU and on DEVICE. The same with `accent train --lora` and PEFT's PeftModel.from_pretrained.
Every difference is recorded; the JSON report is the evidence for the issue's "against the real libraries" check.

Runs where transformers/PEFT are installed (the GPU machine).

Usage: hf_interop.py --accent BIN --work DIR --vocab-dir DIR --data TSV --out REPORT.json [--families a,b]
                     [--device cuda|cpu]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import traceback

import torch
import transformers
from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline

FAMILIES = ["bert", "roberta", "distilbert", "electra", "gpt2"]
LABELS = {0: "negative", 1: "positive"}


def load_tokenizer(family, vocab_dir, staging):
    """The family's real tokenizer, loaded by AutoTokenizer from its original vocabulary files (the way a hub
    checkpoint's files are loaded, whichever tokenizer classes this transformers version has)."""
    os.makedirs(staging, exist_ok=True)
    if family in ("bert", "distilbert", "electra"):
        shutil.copy(os.path.join(vocab_dir, "bert-base-uncased", "vocab.txt"), staging)
        cls, extra = "BertTokenizer", {"do_lower_case": True}
    else:
        src = os.path.join(vocab_dir, "roberta-base" if family == "roberta" else "gpt2")
        for name in ("vocab.json", "merges.txt"):
            shutil.copy(os.path.join(src, name), staging)
        cls, extra = ("RobertaTokenizer", {}) if family == "roberta" else ("GPT2Tokenizer", {})
    with open(os.path.join(staging, "tokenizer_config.json"), "w") as f:
        json.dump({"tokenizer_class": cls, "model_max_length": 128, **extra}, f)
    tok = AutoTokenizer.from_pretrained(staging)
    if family == "gpt2":
        tok.pad_token = tok.eos_token  # HF's fine-tuning recipe for GPT-2, as accent does
    return tok


def make_base(family, vocab_dir, path, seed):
    """A small random-weight *ForSequenceClassification of `family` plus its real tokenizer, saved to `path`."""
    torch.manual_seed(seed)
    small = dict(num_labels=2, id2label=LABELS, label2id={v: k for k, v in LABELS.items()})
    tok = load_tokenizer(family, vocab_dir, path + ".tokenizer-files")
    vocab = len(tok)
    if family == "bert":
        cfg = transformers.BertConfig(vocab_size=vocab, hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                                      intermediate_size=128, max_position_embeddings=128, **small)
    elif family == "roberta":
        cfg = transformers.RobertaConfig(vocab_size=vocab, hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                                         intermediate_size=128, max_position_embeddings=130, pad_token_id=1,
                                         bos_token_id=0, eos_token_id=2, type_vocab_size=1, **small)
    elif family == "distilbert":
        cfg = transformers.DistilBertConfig(vocab_size=vocab, dim=64, n_layers=2, n_heads=4, hidden_dim=128,
                                            max_position_embeddings=128, **small)
    elif family == "electra":
        cfg = transformers.ElectraConfig(vocab_size=vocab, embedding_size=32, hidden_size=64, num_hidden_layers=2,
                                         num_attention_heads=4, intermediate_size=128, max_position_embeddings=128,
                                         **small)
    elif family == "gpt2":
        cfg = transformers.GPT2Config(vocab_size=vocab, n_embd=64, n_layer=2, n_head=4, n_positions=128,
                                      pad_token_id=tok.eos_token_id, **small)
    model = AutoModelForSequenceClassification.from_config(cfg)
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return tok


def run(cmd, log):
    t0 = time.time()
    p = subprocess.run(cmd, capture_output=True, text=True)
    log.write(f"$ {' '.join(cmd)}\n[rc={p.returncode}, {time.time() - t0:.1f}s]\n{p.stdout[-4000:]}{p.stderr[-4000:]}\n")
    log.flush()
    if p.returncode != 0:
        raise RuntimeError(f"{cmd[1]} failed (rc {p.returncode}): {p.stderr[-2000:]}")
    return p.stdout


def accent_logits(accent, model_dir, texts_file, log, extra=()):
    out = run([accent, "predict", "--model", model_dir, "--input", texts_file, "--top-k", "all",
               "--function-to-apply", "none", "--precision", "fp32", *extra], log)
    rows = [json.loads(line) for line in out.splitlines() if line.strip()]
    return [{d["label"]: d["score"] for d in row} for row in rows]


def accent_pipeline(accent, model_dir, texts_file, log, extra=()):
    out = run([accent, "predict", "--model", model_dir, "--input", texts_file, "--top-k", "all", *extra], log)
    rows = [json.loads(line) for line in out.splitlines() if line.strip()]
    return [{d["label"]: d["score"] for d in row} for row in rows]


def hf_logits(model, tok, texts):
    model.eval()
    out = []
    with torch.no_grad():
        for t in texts:
            enc = tok(t, return_tensors="pt", truncation=True, max_length=128)
            z = model(**enc).logits[0].float()
            out.append({model.config.id2label[i]: float(z[i]) for i in range(z.shape[0])})
    return out


def compare_scores(a, b, what, tol, report):
    worst = 0.0
    label_mismatch = 0
    for i, (x, y) in enumerate(zip(a, b)):
        if set(x) != set(y):
            report["differences"].append(f"{what}: row {i} labels {sorted(x)} vs {sorted(y)}")
            return
        worst = max(worst, max(abs(x[k] - y[k]) for k in x))
        if max(x, key=x.get) != max(y, key=y.get):
            label_mismatch += 1
    report[what] = {"max_abs_diff": worst, "top_label_mismatches": label_mismatch, "rows": len(a)}
    if len(a) != len(b):
        report["differences"].append(f"{what}: {len(a)} vs {len(b)} rows")
    if worst > tol or label_mismatch:
        report["differences"].append(f"{what}: max |diff| {worst:.3g} (tolerance {tol}), {label_mismatch} top-label "
                                     f"mismatches of {len(a)}")


def check_family(family, args, texts, texts_file, train_csv, log):
    report = {"family": family, "differences": []}
    base = os.path.join(args.work, family, "base")
    tok = make_base(family, args.vocab_dir, base, seed=1)
    full = os.path.join(args.work, family, "full")
    common = ["--train-file", train_csv, "--validation-split", "0.1", "--max-steps", "30",
              "--per-device-train-batch-size", "16", "--seed", "7", "--max-length", "64", "--progress", "none"]
    dev = ["--device", args.device]
    t0 = time.time()
    run([args.accent, "train", "--model", base, "--output-dir", full, "--learning-rate", "5e-4", *common, *dev], log)
    report["train_seconds"] = round(time.time() - t0, 1)
    report["full_files"] = sorted(os.listdir(full))

    # Tokenizer: transformers loading accent's saved tokenizer gives accent's ids.
    hf_tok = AutoTokenizer.from_pretrained(full)
    ids_out = run([args.accent, "tokenize", "--model", full, "--input", texts_file], log)
    accent_ids = [json.loads(line) for line in ids_out.splitlines() if line.strip()]
    hf_ids = [hf_tok(t)["input_ids"] for t in texts]
    mismatched = [i for i, (a, b) in enumerate(zip(accent_ids, hf_ids)) if a != b]
    report["tokenizer"] = {"rows": len(texts), "mismatches": len(mismatched)}
    if mismatched or len(accent_ids) != len(hf_ids):
        i = mismatched[0] if mismatched else 0
        report["differences"].append(f"tokenizer: {len(mismatched)} of {len(texts)} rows differ; first row {i}: "
                                     f"accent {accent_ids[i][:20] if i < len(accent_ids) else None} vs HF {hf_ids[i][:20]}")

    # Model: the same logits (fp32; accent on the CPU and on the device, HF on the CPU), and pipeline()
    # labels/scores as accent predict (on the device, its default precision).
    model = AutoModelForSequenceClassification.from_pretrained(full)
    hf = hf_logits(model, hf_tok, texts)
    compare_scores(accent_logits(args.accent, full, texts_file, log, ["--device", "cpu"]), hf, "logits_fp32", 1e-4,
                   report)
    if args.device != "cpu":
        compare_scores(accent_logits(args.accent, full, texts_file, log, dev), hf, f"logits_fp32_{args.device}", 1e-4,
                       report)
        metrics = {}
        for d in ("cpu", args.device):
            out = run([args.accent, "evaluate", "--model", full, "--data", train_csv, "--precision", "fp32",
                       "--device", d], log)
            metrics[d] = json.loads(out)
        report["evaluate"] = metrics
        for key in ("eval_accuracy", "eval_f1"):
            a, b = metrics["cpu"].get(key), metrics[args.device].get(key)
            if a is None or b is None or abs(a - b) > 1e-9:
                report["differences"].append(f"evaluate: {key} cpu {a} vs {args.device} {b}")
        if abs(metrics["cpu"]["eval_loss"] - metrics[args.device]["eval_loss"]) > 1e-4:
            report["differences"].append(f"evaluate: eval_loss cpu {metrics['cpu']['eval_loss']} vs "
                                         f"{args.device} {metrics[args.device]['eval_loss']}")
    pipe = pipeline("text-classification", model=full, tokenizer=full, top_k=None, device="cpu")
    hf_pipe = [{d["label"]: d["score"] for d in row} for row in pipe(texts, batch_size=1)]
    compare_scores(accent_pipeline(args.accent, full, texts_file, log, dev), hf_pipe, "pipeline_scores", 1e-3, report)

    # LoRA: PEFT loads accent's adapter onto the base and agrees with accent predict on the adapter directory.
    try:
        import peft
        lora = os.path.join(args.work, family, "lora")
        run([args.accent, "train", "--model", base, "--output-dir", lora, "--lora", "--learning-rate", "2e-3",
             *common, *dev], log)
        report["lora_files"] = sorted(os.listdir(lora))
        base_model = AutoModelForSequenceClassification.from_pretrained(base)
        peft_model = peft.PeftModel.from_pretrained(base_model, lora)
        compare_scores(accent_logits(args.accent, lora, texts_file, log, ["--base-model", base, *dev]),
                       hf_logits(peft_model, hf_tok, texts), "lora_logits_fp32", 1e-4, report)
        merged = peft_model.merge_and_unload()
        compare_scores(accent_logits(args.accent, lora, texts_file, log, ["--base-model", base]),
                       hf_logits(merged, hf_tok, texts), "lora_merged_logits_fp32", 1e-4, report)
    except Exception as e:  # recorded, the other families still run
        report["differences"].append(f"lora: {type(e).__name__}: {e}")
        log.write(traceback.format_exc())
    return report


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--accent", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--vocab-dir", required=True)
    ap.add_argument("--data", required=True, help="SST-2 style TSV: sentence<TAB>label with a header")
    ap.add_argument("--out", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--families", default=",".join(FAMILIES))
    ap.add_argument("--rows", type=int, default=64, help="texts compared per family")
    ap.add_argument("--device", default="cuda", help="where accent trains (and predicts, besides the CPU)")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    torch.set_num_threads(4)

    rows = []
    with open(args.data, encoding="utf-8") as f:
        next(f)
        for line in f:
            sentence, label = line.rstrip("\n").rsplit("\t", 1)
            rows.append((sentence, int(label)))
    train_csv = os.path.join(args.work, "train.csv")
    import csv
    with open(train_csv, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["text", "label"])
        for s, l in rows:
            w.writerow([s, LABELS[l]])
    texts = [s for s, _ in rows[: args.rows]]
    texts_file = os.path.join(args.work, "texts.txt")
    with open(texts_file, "w", encoding="utf-8") as f:
        f.write("\n".join(texts) + "\n")

    versions = {"torch": torch.__version__, "transformers": transformers.__version__}
    for mod in ("peft", "tokenizers", "safetensors"):
        try:
            versions[mod] = __import__(mod).__version__
        except Exception as e:
            versions[mod] = f"missing ({e})"
    result = {"versions": versions, "families": []}
    with open(args.log, "w") as log:
        for family in args.families.split(","):
            t0 = time.time()
            try:
                rep = check_family(family, args, texts, texts_file, train_csv, log)
            except Exception as e:
                rep = {"family": family, "differences": [f"failed: {type(e).__name__}: {e}"]}
                log.write(traceback.format_exc())
            rep["seconds"] = round(time.time() - t0, 1)
            result["families"].append(rep)
            print(json.dumps({"family": family, "differences": rep["differences"], "seconds": rep["seconds"]}),
                  flush=True)
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
    ok = all(not r["differences"] for r in result["families"])
    print("HF interop:", "no differences" if ok else "differences found (see report)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
