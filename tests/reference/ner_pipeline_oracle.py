#!/usr/bin/env python3
"""ner_pipeline_oracle.py — an independent model of transformers' pipeline("ner") post-processing
(TokenClassificationPipeline.postprocess, fast-tokenizer path, one window), written from the published rules, for
tests/unit/serve_token_classification_test.cpp. transformers is not needed; numpy does the float32 math as the
pipeline does it (softmax over the logits with max subtraction, np.nanmean for averages).

    /usr/bin/python3 ner_pipeline_oracle.py CASES.json OUT.json

CASES = {"cases": [{"text", "ids", "id_tokens" (convert_ids_to_tokens of each id), "offsets" ([start, end] code
points), "special_tokens_mask", "logits" (T x C, float32 values), "id2label", "unk_token_id" (or null),
"continuing_subword_prefix" (the tokenizer model's, or null), "decoder" (tokenizer.json's decoder object or null),
"strategies" (a list of "none" | "simple" | "first" | "average" | "max"), "ignore_labels"}]}
OUT = {"results": [[[{entity | entity_group, score, index (none only), word, start, end}, ...] per strategy]
                   per case]}
"""
import json
import sys

import numpy as np


# ---------------------------------------------------------------------------------------------------------------
# convert_tokens_to_string: the tokenizer's decoder (tokenizers' WordPiece and ByteLevel decoders)

def gpt2_byte_alphabet():
    """GPT-2's bytes_to_unicode as a char -> byte map: printable Latin-1 bytes stand for themselves, the other
    bytes, in increasing order, for U+0100, U+0101, ..."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) + list(range(0xAE, 0xFF + 1))
    mapping = {}
    extra = 0
    for b in range(256):
        if b in keep:
            mapping[chr(b)] = b
        else:
            mapping[chr(0x100 + extra)] = b
            extra += 1
    return mapping


BYTE_OF_CHAR = gpt2_byte_alphabet()

WORDPIECE_CLEANUP = [(" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"),
                     (" 'm", "'m"), (" do not", " don't"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re")]


def convert_tokens_to_string(decoder, tokens):
    if decoder is None:
        return " ".join(tokens)
    if decoder["type"] == "WordPiece":
        prefix = decoder.get("prefix", "##")
        out = []
        for i, token in enumerate(tokens):
            if i > 0:
                token = token[len(prefix):] if token.startswith(prefix) else " " + token
            if decoder.get("cleanup", True):
                for old, new in WORDPIECE_CLEANUP:
                    token = token.replace(old, new)
            out.append(token)
        return "".join(out)
    if decoder["type"] == "ByteLevel":
        data = bytearray()
        for token in tokens:
            if all(c in BYTE_OF_CHAR for c in token):
                data.extend(BYTE_OF_CHAR[c] for c in token)
            else:
                data.extend(token.encode("utf-8"))
        return data.decode("utf-8", errors="replace")
    raise ValueError("unsupported decoder " + decoder["type"])


# ---------------------------------------------------------------------------------------------------------------
# The pipeline's postprocess

def gather_pre_entities(case, scores):
    text = case["text"]
    pre = []
    for idx, token_scores in enumerate(scores):
        if case["special_tokens_mask"][idx]:
            continue
        word = case["id_tokens"][idx]
        start, end = case["offsets"][idx]
        word_ref = text[start:end]
        if case["continuing_subword_prefix"]:
            is_subword = len(word) != len(word_ref)
        else:
            is_subword = start > 0 and " " not in text[start - 1:start + 1]
        if case["unk_token_id"] is not None and case["ids"][idx] == case["unk_token_id"]:
            word = word_ref
            is_subword = False
        pre.append({"word": word, "scores": token_scores, "start": start, "end": end, "index": idx,
                    "is_subword": is_subword})
    return pre


def aggregate_word(case, tokens, strategy):
    id2label = case["id2label"]
    word = convert_tokens_to_string(case["decoder"], [t["word"] for t in tokens])
    if strategy == "first":
        scores = tokens[0]["scores"]
    elif strategy == "max":
        scores = max(tokens, key=lambda t: t["scores"].max())["scores"]
    elif strategy == "average":
        scores = np.nanmean(np.stack([t["scores"] for t in tokens]), axis=0)
    else:
        raise ValueError(strategy)
    best = scores.argmax()
    return {"entity": id2label[best], "score": scores[best], "word": word, "start": tokens[0]["start"],
            "end": tokens[-1]["end"]}


def aggregate_words(case, pre, strategy):
    out, word = [], []
    for p in pre:
        if word and not p["is_subword"]:
            out.append(aggregate_word(case, word, strategy))
            word = []
        word.append(p)
    if word:
        out.append(aggregate_word(case, word, strategy))
    return out


def bio(label):
    if label.startswith("B-") or label.startswith("I-"):
        return label[0], label[2:]
    return "I", label


def group_sub_entities(case, group):
    scores = np.nanmean([e["score"] for e in group])
    return {"entity_group": group[0]["entity"].split("-", 1)[-1], "score": np.mean(scores),
            "word": convert_tokens_to_string(case["decoder"], [e["word"] for e in group]),
            "start": group[0]["start"], "end": group[-1]["end"]}


def group_entities(case, entities):
    groups, current = [], []
    for e in entities:
        if current:
            bi, tag = bio(e["entity"])
            if not (tag == bio(current[-1]["entity"])[1] and bi != "B"):
                groups.append(group_sub_entities(case, current))
                current = []
        current.append(e)
    if current:
        groups.append(group_sub_entities(case, current))
    return groups


def postprocess(case, strategy):
    logits = np.array(case["logits"], dtype=np.float32)
    maxes = np.max(logits, axis=-1, keepdims=True)
    shifted_exp = np.exp(logits - maxes)
    scores = shifted_exp / shifted_exp.sum(axis=-1, keepdims=True)
    pre = gather_pre_entities(case, scores)
    if strategy in ("none", "simple"):
        entities = []
        for p in pre:
            best = p["scores"].argmax()
            entities.append({"entity": case["id2label"][best], "score": p["scores"][best], "index": p["index"],
                             "word": p["word"], "start": p["start"], "end": p["end"]})
    else:
        entities = aggregate_words(case, pre, strategy)
    if strategy != "none":
        entities = group_entities(case, entities)
    key = "entity" if strategy == "none" else "entity_group"
    out = []
    for e in entities:
        if e[key] in case["ignore_labels"]:
            continue
        e["score"] = float(e["score"])
        out.append(e)
    return out


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        cases = json.load(f)["cases"]
    results = [[postprocess(c, s) for s in c["strategies"]] for c in cases]
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        json.dump({"results": results}, f, ensure_ascii=False)


if __name__ == "__main__":
    main()
