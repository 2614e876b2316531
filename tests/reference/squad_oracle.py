#!/usr/bin/python3
"""Independent oracle for train/squad_metrics: the official SQuAD evaluation (evaluate-v1.1.py and
evaluate-v2.0.py, as Hugging Face `evaluate`'s "squad" and "squad_v2" metrics run them), written from the
published rules with the Python standard library only.

Normalisation: lower(), drop string.punctuation, re.sub(r'\b(a|an|the)\b', ' '), ' '.join(split()).
Usage: squad_oracle.py in.json out.json
in.json: {"texts": [str, ...], "pairs": [[prediction, gold], ...],
          "v1": [{"predictions": [{"id", "text"}], "references": [{"id", "answers"}]}, ...],
          "v2": [{"predictions": [{"id", "text", "no_answer_probability"}], "references": [...],
                  "threshold": float}, ...]}
         optional "probe_code_points": true adds "probes" (see probe_code_points).
out.json: {"normalized": [...], "pairs": [[exact, f1_v1, f1_v2], ...], "v1": [{"exact_match", "f1",
           "total", "unanswered"}], "v2": [dict as HF squad_v2 returns it]}
"""
import collections
import json
import re
import string
import sys
import unicodedata

ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
PUNCTUATION = frozenset(string.punctuation)


def normalize(text):
    lowered = text.lower()
    no_punct = "".join(ch for ch in lowered if ch not in PUNCTUATION)
    no_articles = ARTICLES.sub(" ", no_punct)
    return " ".join(no_articles.split())


def tokens(text):
    return normalize(text).split()


def exact(pred, gold):
    return int(normalize(pred) == normalize(gold))


def overlap_f1(pred_toks, gold_toks):
    same = sum((collections.Counter(pred_toks) & collections.Counter(gold_toks)).values())
    if same == 0:
        return 0
    precision = 1.0 * same / len(pred_toks)
    recall = 1.0 * same / len(gold_toks)
    return (2 * precision * recall) / (precision + recall)


def f1_v1(pred, gold):
    return overlap_f1(tokens(pred), tokens(gold))


def f1_v2(pred, gold):
    p, g = tokens(pred), tokens(gold)
    if not p or not g:
        return int(p == g)
    return overlap_f1(p, g)


def score_v1(case):
    preds = {p["id"]: p["text"] for p in case["predictions"]}
    em_total, f1_total, count, unanswered = 0, 0.0, 0, []
    for ref in case["references"]:
        count += 1
        if ref["id"] not in preds:
            unanswered.append(ref["id"])
            continue
        guess = preds[ref["id"]]
        em_total += max(exact(guess, g) for g in ref["answers"])
        f1_total += max(f1_v1(guess, g) for g in ref["answers"])
    return {"exact_match": 100.0 * em_total / count, "f1": 100.0 * f1_total / count, "total": count,
            "unanswered": unanswered}


def score_v2(case):
    texts = {p["id"]: p["text"] for p in case["predictions"]}
    probs = {p["id"]: p["no_answer_probability"] for p in case["predictions"]}
    thresh = case["threshold"]
    answerable = {r["id"]: len(r["answers"]) > 0 for r in case["references"]}
    raw = {}  # id -> (exact, f1)
    for ref in case["references"]:
        golds = [a for a in ref["answers"] if normalize(a)] or [""]
        guess = texts[ref["id"]]
        raw[ref["id"]] = (max(exact(guess, g) for g in golds), max(f1_v2(guess, g) for g in golds))
    final = {}
    for qid, (e, f) in raw.items():
        if probs[qid] > thresh:
            final[qid] = (float(not answerable[qid]),) * 2
        else:
            final[qid] = (e, f)

    def summary(ids):
        return (100.0 * sum(final[i][0] for i in ids) / len(ids),
                100.0 * sum(final[i][1] for i in ids) / len(ids), len(ids))

    result = {}
    result["exact"], result["f1"], result["total"] = summary(list(final))
    with_answer = [i for i in answerable if answerable[i]]
    without = [i for i in answerable if not answerable[i]]
    if with_answer:
        result["HasAns_exact"], result["HasAns_f1"], result["HasAns_total"] = summary(with_answer)
    if without:
        result["NoAns_exact"], result["NoAns_f1"], result["NoAns_total"] = summary(without)

    ranked = sorted(probs.items(), key=lambda item: item[1])  # stable: ties in prediction order
    for name, column in (("exact", 0), ("f1", 1)):
        running = len(without)
        best, best_at = running, 0.0
        for qid, prob in ranked:
            if qid not in raw:
                continue
            if answerable[qid]:
                running += raw[qid][column]
            elif texts[qid]:
                running -= 1
            if running > best:
                best, best_at = running, prob
        result["best_" + name] = 100.0 * best / len(raw)
        result["best_" + name + "_thresh"] = best_at
    return result


def probe_code_points():
    """normalize() of short strings around every code point assigned in this Python's Unicode data: the
    character alone (lowercase mapping, punctuation, whitespace), before and after a capital sigma with a
    cased letter on the other side (final-sigma context: cased / case-ignorable), and next to "a" and
    "the" (is it a word character?)."""
    sigma, alpha = "\u03a3", "\u0391"
    rows = []
    for cp in range(0x110000):
        ch = chr(cp)
        if 0xD800 <= cp <= 0xDFFF or unicodedata.category(ch) == "Cn":
            continue
        rows.append([cp, normalize(ch), normalize(ch + sigma), normalize(alpha + ch + sigma),
                     normalize(sigma + ch + alpha), normalize("a" + ch), normalize(ch + "the" + ch)])
    return rows


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        spec = json.load(f)
    out = {
        "normalized": [normalize(t) for t in spec.get("texts", [])],
        "pairs": [[exact(p, g), f1_v1(p, g), f1_v2(p, g)] for p, g in spec.get("pairs", [])],
        "v1": [score_v1(c) for c in spec.get("v1", [])],
        "v2": [score_v2(c) for c in spec.get("v2", [])],
    }
    if spec.get("probe_code_points"):
        out["probes"] = probe_code_points()
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False)


if __name__ == "__main__":
    main()
