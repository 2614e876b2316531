#!/usr/bin/python3
"""Independent oracle for train/seqeval: entity metrics of the `seqeval` package's default mode
(mode=None, suffix=False) as Hugging Face `evaluate`'s "seqeval" metric reports them.

Standard library only (seqeval and numpy are not needed). Written from seqeval's documented behaviour:
the conlleval chunk rules (a chunk ends after E/S, at B/I followed by B/S/O, and at a type change after
anything but O or '.'; a chunk starts at B/S, at I/E after E/S/O, and at a type change on anything but O
or '.'), sentences joined with an 'O' after each plus one final 'O', tag prefix = first character,
type = the rest after its first '-' (or the whole rest), '_' when empty; micro/per-type precision,
recall and F1 from entity sets with zero_division = 0; accuracy = equal tag strings / tokens.

Usage: seqeval_oracle.py cases.json out.json
cases.json: [{"gold": [[tag, ...], ...], "pred": [[tag, ...], ...]}, ...]
out.json:   one object per case: {"gold_entities": [[type, start, end], ...],
            "pred_entities": [...], "types": [{"type", "precision", "recall", "f1", "number",
            "predicted", "correct"}, ...], "overall": {...}, "accuracy", "tokens", "tokens_correct"}
"""
import json
import sys

ENDS_AFTER = {"E", "S"}
ENDING_PAIRS = {(p, t) for p in "BI" for t in "BSO"}
STARTS_AT = {"B", "S"}
STARTING_PAIRS = {(p, t) for p in "ESO" for t in "EI"}
NEUTRAL = {"O", "."}


def prefix_and_type(tag):
    prefix, rest = tag[0], tag[1:]
    if "-" in rest:
        rest = rest[rest.index("-") + 1:]
    return prefix, (rest if rest else "_")


def chunks(sentences):
    flat = []
    for sentence in sentences:
        flat.extend(sentence)
        flat.append("O")
    flat.append("O")
    found = []
    last = ("O", "")
    start = 0
    for pos, tag in enumerate(flat):
        cur = prefix_and_type(tag)
        (p_prefix, p_type), (c_prefix, c_type) = last, cur
        type_changed = p_type != c_type
        ended = (p_prefix in ENDS_AFTER or (p_prefix, c_prefix) in ENDING_PAIRS
                 or (p_prefix not in NEUTRAL and type_changed))
        started = (c_prefix in STARTS_AT or (p_prefix, c_prefix) in STARTING_PAIRS
                   or (c_prefix not in NEUTRAL and type_changed))
        if ended:
            found.append((p_type, start, pos - 1))
        if started:
            start = pos
        last = cur
    return found


def divide(num, den):
    return num / den if den else 0.0


def f_beta1(p, r):
    # numpy's expression in seqeval: (1 + beta2) * p * r / denom, denom = beta2 * p + r (1 when 0)
    denom = 1.0 * p + r
    if denom == 0.0:
        denom = 1.0
    return (1 + 1.0) * p * r / denom


def evaluate(gold, pred):
    g, p = chunks(gold), chunks(pred)
    gold_sets, pred_sets = {}, {}
    for t, s, e in g:
        gold_sets.setdefault(t, set()).add((s, e))
    for t, s, e in p:
        pred_sets.setdefault(t, set()).add((s, e))
    types = []
    tot_gold = tot_pred = tot_correct = 0
    for name in sorted(set(gold_sets) | set(pred_sets)):
        gs, ps = gold_sets.get(name, set()), pred_sets.get(name, set())
        correct = len(gs & ps)
        prec, rec = divide(correct, len(ps)), divide(correct, len(gs))
        types.append({"type": name, "precision": prec, "recall": rec, "f1": f_beta1(prec, rec),
                      "number": len(gs), "predicted": len(ps), "correct": correct})
        tot_gold += len(gs)
        tot_pred += len(ps)
        tot_correct += correct
    prec, rec = divide(tot_correct, tot_pred), divide(tot_correct, tot_gold)
    gold_tokens = [t for s in gold for t in s]
    pred_tokens = [t for s in pred for t in s]
    same = sum(1 for a, b in zip(gold_tokens, pred_tokens) if a == b)
    return {
        "gold_entities": [list(x) for x in g],
        "pred_entities": [list(x) for x in p],
        "types": types,
        "overall": {"precision": prec, "recall": rec, "f1": f_beta1(prec, rec), "number": tot_gold,
                    "predicted": tot_pred, "correct": tot_correct},
        "accuracy": same / len(gold_tokens),
        "tokens": len(gold_tokens),
        "tokens_correct": same,
    }


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        cases = json.load(f)
    out = [evaluate(c["gold"], c["pred"]) for c in cases]
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
