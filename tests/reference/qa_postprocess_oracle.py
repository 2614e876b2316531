#!/usr/bin/python3
"""Independent oracle for serve/question_answering: Hugging Face's extractive question-answering
post-processing, written from the published rules with the Python standard library only (no numpy, no
transformers):

  * utils_qa.py postprocess_qa_predictions (examples/pytorch/question-answering, run_qa.py's evaluation);
  * QuestionAnsweringPipeline.postprocess (transformers v4.54+: select_starts_ends, decode_spans with the
    2 * top_k + 10 over-fetch under align_to_words, get_indices, duplicate answers merged by lowercased text).

numpy's float32 arithmetic is emulated: every value numpy keeps in a float32 array is rounded to float32 at the
same step (struct 'f'), np.exp is the double exp rounded to float32, and float32 sums use numpy's pairwise
summation. Where numpy's order is unspecified (argsort/argpartition among equal values) the oracle fixes one:
np.argsort(x)[::-1] puts the higher index first among equal logits; decode_spans ranks equal cells by flat index.

Usage: qa_postprocess_oracle.py in.json out.json
in.json:  {"utils_qa": [{"args": {version_2_with_negative, n_best_size, max_answer_length,
                                   null_score_diff_threshold},
                          "examples": [{"id", "context"}],
                          "features": [{"example_id", "offset_mapping": [[b, e] | null],
                                        "token_is_max_context"?: {"<index>": bool}}],
                          "start_logits": [[...]], "end_logits": [[...]]}],
           "pipeline": [{"options": {top_k, handle_impossible_answer, max_answer_len, align_to_words,
                                     question_first},
                         "context": str,
                         "windows": [{"p_mask", "attention_mask", "offsets", "word_ids" (null = None),
                                      "sequence_ids" (null = None), "start", "end"}]}]}
out.json: {"utils_qa": [{"predictions": {id: text}, "nbest": {id: [{text, start_logit, end_logit,
                                                                   probability}]},
                         "scores_diff": {id: float}}],
           "pipeline": [[{score, start, end, answer}]],
           "merges": [number of duplicate answers merged, per pipeline case]}
"""
import heapq
import json
import math
import struct
import sys


def f32(x):
    return struct.unpack("f", struct.pack("f", x))[0]


def pairwise_sum_f32(values):
    """numpy's pairwise summation (float32 accumulators)."""
    n = len(values)
    if n < 8:
        res = 0.0
        for v in values:
            res = f32(res + v)
        return res
    if n <= 128:
        r = list(values[:8])
        i = 8
        while i < n - (n % 8):
            for j in range(8):
                r[j] = f32(r[j] + values[i + j])
            i += 8
        res = f32(f32(f32(r[0] + r[1]) + f32(r[2] + r[3])) + f32(f32(r[4] + r[5]) + f32(r[6] + r[7])))
        while i < n:
            res = f32(res + values[i])
            i += 1
        return res
    half = n // 2
    half -= half % 8
    return f32(pairwise_sum_f32(values[:half]) + pairwise_sum_f32(values[half:]))


def softmax_f32(values):
    m = max(values)
    exps = [f32(math.exp(f32(v - m))) for v in values]
    total = pairwise_sum_f32(exps)
    return [f32(e / total) for e in exps]


def argsort_desc(values, n):
    """np.argsort(values)[-1:-n-1:-1] with a stable ascending sort reversed."""
    ascending = sorted(range(len(values)), key=lambda i: values[i])
    return ascending[::-1][:n]


# ------------------------------------------------------------------------------------------------------------
# utils_qa.py


def postprocess_qa_predictions(case):
    args = case["args"]
    v2 = args["version_2_with_negative"]
    n_best_size = args["n_best_size"]
    max_answer_length = args["max_answer_length"]
    threshold = args["null_score_diff_threshold"]
    examples = case["examples"]
    features = case["features"]
    all_start = case["start_logits"]
    all_end = case["end_logits"]
    assert len(all_start) == len(features)

    index_of = {ex["id"]: i for i, ex in enumerate(examples)}
    per_example = {}
    for i, feature in enumerate(features):
        per_example.setdefault(index_of[feature["example_id"]], []).append(i)

    predictions, nbest_json, scores_diff = {}, {}, {}
    for example_index, example in enumerate(examples):
        min_null = None
        prelim = []
        for fi in per_example.get(example_index, []):
            start_logits = [f32(x) for x in all_start[fi]]
            end_logits = [f32(x) for x in all_end[fi]]
            offsets = features[fi]["offset_mapping"]
            max_context = features[fi].get("token_is_max_context")
            null_score = f32(start_logits[0] + end_logits[0])
            if min_null is None or min_null["score"] > null_score:
                min_null = {"offsets": (0, 0), "score": null_score, "start_logit": start_logits[0],
                            "end_logit": end_logits[0]}
            for s in argsort_desc(start_logits, n_best_size):
                for e in argsort_desc(end_logits, n_best_size):
                    if s >= len(offsets) or e >= len(offsets) or offsets[s] is None or offsets[e] is None:
                        continue
                    if e < s or e - s + 1 > max_answer_length:
                        continue
                    if max_context is not None and not max_context.get(str(s), False):
                        continue
                    prelim.append({"offsets": (offsets[s][0], offsets[e][1]),
                                   "score": f32(start_logits[s] + end_logits[e]),
                                   "start_logit": start_logits[s], "end_logit": end_logits[e]})
        if v2:
            prelim.append(min_null)
            null_score = min_null["score"]
        preds = sorted(prelim, key=lambda x: x["score"], reverse=True)[:n_best_size]
        if v2 and not any(p["offsets"] == (0, 0) for p in preds):
            preds.append(min_null)
        preds = [dict(p) for p in preds]
        context = example["context"]
        for p in preds:
            b, e = p.pop("offsets")
            p["text"] = context[b:e]
        float64 = False
        if len(preds) == 0 or (len(preds) == 1 and preds[0]["text"] == ""):
            preds.insert(0, {"text": "empty", "start_logit": 0.0, "end_logit": 0.0, "score": 0.0})
            float64 = True  # np.array of float32 scalars and a Python float is float64
        scores = [p.pop("score") for p in preds]
        if float64:
            m = max(scores)
            exps = [math.exp(s - m) for s in scores]
            total = sum(exps)
            probs = [x / total for x in exps]
        else:
            probs = softmax_f32(scores)
        for prob, p in zip(probs, preds):
            p["probability"] = prob
        if not v2:
            predictions[example["id"]] = preds[0]["text"]
        else:
            i = 0
            while preds[i]["text"] == "":
                i += 1
            best = preds[i]
            if float64 and best["text"] == "empty":
                diff = null_score - best["start_logit"] - best["end_logit"]
            else:
                diff = f32(f32(null_score - best["start_logit"]) - best["end_logit"])
            scores_diff[example["id"]] = diff
            predictions[example["id"]] = "" if diff > threshold else best["text"]
        nbest_json[example["id"]] = preds
    return {"predictions": predictions, "nbest": nbest_json, "scores_diff": scores_diff}


# ------------------------------------------------------------------------------------------------------------
# pipeline("question-answering")


def decode_spans(start, end, topk, max_answer_len, desired):
    t = len(start)
    cells = []
    for s in range(t):
        for e in range(t):
            inside = s <= e <= s + max_answer_len - 1  # np.tril(np.triu(outer), max_answer_len - 1)
            cells.append(f32(start[s] * end[e]) if inside else 0.0)
    chosen = heapq.nsmallest(topk, range(t * t), key=lambda i: (-cells[i], i))
    # np.isin(starts, undesired_tokens.nonzero()) with undesired_tokens of shape (1, T): nonzero() is the tuple
    # (row indices, column indices), and isin flattens it, so the test set is {0} | {desired columns}.
    nonzero = [i for i, d in enumerate(desired) if d]
    test_set = set(nonzero) | ({0} if nonzero else set())
    out = []
    for flat in chosen:
        s, e = divmod(flat, t)
        if s in test_set and e in test_set:
            out.append((s, e, cells[flat]))
    return out


def select_starts_ends(start, end, p_mask, attention_mask, min_null_score, top_k, handle_impossible_answer,
                       max_answer_len):
    desired = [(1 - p) & a for p, a in zip(p_mask, attention_mask)]
    start = [f32(x) if d else -10000.0 for x, d in zip(start, desired)]
    end = [f32(x) if d else -10000.0 for x, d in zip(end, desired)]
    start = softmax_f32(start)
    end = softmax_f32(end)
    if handle_impossible_answer:
        min_null_score = min(min_null_score, f32(start[0] * end[0]))
    start[0] = end[0] = 0.0
    return decode_spans(start, end, top_k, max_answer_len, desired), min_null_score


def word_to_chars(window, word, sequence):
    """tokenizers' Encoding.word_to_chars: word_to_tokens over the sequence's range, then the offsets."""
    indices = [i for i, s in enumerate(window["sequence_ids"]) if s == sequence]
    if not indices:
        return None
    first = last = None
    for i in range(indices[0], indices[-1] + 1):
        w = window["word_ids"][i]
        w_key = -1 if w is None else w  # Rust: None < Some(_)
        if w_key > word:
            break
        if w == word:
            first = i if first is None else first
            last = i
    if first is None:
        return None
    return (window["offsets"][first][0], window["offsets"][last][1])


def get_indices(window, s, e, sequence_index, align_to_words):
    if align_to_words:
        try:
            start_word = window["word_ids"][s]
            end_word = window["word_ids"][e]
            if start_word is None or end_word is None:
                raise TypeError("no word")
            start_index = word_to_chars(window, start_word, sequence_index)[0]
            end_index = word_to_chars(window, end_word, sequence_index)[1]
        except TypeError:
            start_index = window["offsets"][s][0]
            end_index = window["offsets"][e][1]
    else:
        start_index = window["offsets"][s][0]
        end_index = window["offsets"][e][1]
    return start_index, end_index


def pipeline_postprocess(case):
    o = case["options"]
    top_k = o["top_k"]
    align = o["align_to_words"]
    context = case["context"]
    sequence_index = 1 if o["question_first"] else 0
    min_null_score = 1000000
    answers = []
    for window in case["windows"]:
        pre_topk = top_k * 2 + 10 if align else top_k
        spans, min_null_score = select_starts_ends(window["start"], window["end"], window["p_mask"],
                                                   window["attention_mask"], min_null_score, pre_topk,
                                                   o["handle_impossible_answer"], o["max_answer_len"])
        for s, e, score in spans:
            start_index, end_index = get_indices(window, s, e, sequence_index, align)
            target = context[start_index:end_index]
            found = None
            for answer in answers:
                if answer["answer"].lower() == target.lower():
                    found = answer
                    break
            if found:
                found["score"] += score
                case["merges"] = case.get("merges", 0) + 1
            else:
                answers.append({"score": score, "start": start_index, "end": end_index, "answer": target})
    if o["handle_impossible_answer"]:
        answers.append({"score": min_null_score, "start": 0, "end": 0, "answer": ""})
    return sorted(answers, key=lambda x: x["score"], reverse=True)[:top_k]


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        cases = json.load(f)
    pipeline = cases.get("pipeline", [])
    out = {"utils_qa": [postprocess_qa_predictions(c) for c in cases.get("utils_qa", [])],
           "pipeline": [pipeline_postprocess(c) for c in pipeline],
           "merges": [c.get("merges", 0) for c in pipeline]}
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False)


if __name__ == "__main__":
    main()
