"""Real SentencePiece Unigram models, converted to tokenizer.json the way transformers does it.

usage: /usr/bin/python3 spm_tokenizer_json.py --data TESTS_DATA_DIR --out DIR

Trains two Unigram models with Debian's sentencepiece (python3-sentencepiece, the C++ trainer of spm_train) on
real text from tests/data (SST-2 training sentences and AG News titles and descriptions): a plain one and one with
byte_fallback. Character coverage below 1 leaves rare characters out of the vocabulary, so unknown pieces occur.
Two use SentencePiece's NFKC rules (nmt_nfkc, and nmt_nfkc_cf which also case-folds), whose precompiled charsmap
becomes a Precompiled normalizer; the byte-fallback one the identity rule. Each model is then written as the
tokenizer.json of transformers' convert_slow_tokenizer.py:

  DIR/xlm-roberta/    XLMRobertaConverter: <s> <pad> </s> <unk> first, then pieces[3:], then <mask>; unk_id 3;
                      Precompiled + Strip(right) + Replace(Regex " {2,}" -> "▁"); Metaspace(prepend "always");
                      "<s> $A </s>" / "<s> $A </s> </s> $B </s>".
  DIR/deberta-v3/     DebertaV2Converter (split_by_punct False, do_lower_case False) of a model trained with
                      DeBERTa's ids ([PAD] 0, [CLS] 1, [SEP] 2, [UNK] 3): Strip + Precompiled +
                      Replace(Regex " {2,}" -> " ");
                      Sequence[Metaspace(prepend "always")]; "[CLS] $A [SEP]" / "... $B:1 [SEP]:1"; [MASK] added.
  DIR/byte-fallback/  SpmConverter with handle_byte_fallback (as Llama/Gemma converters set it) and legacy=False
                      (prepend "first"): Unigram with byte_fallback, <0xXX> pieces; no post-processor; <unk>,
                      <s>, </s> special added tokens (as transformers saves it after loading with its config).
Each directory also gets a tokenizer_config.json naming the transformers class.
"""
import argparse
import base64
import csv
import json
import os

import sentencepiece as spm
from sentencepiece import sentencepiece_model_pb2 as model_pb2

REPLACEMENT = "\u2581"


def training_lines(data_dir):
    lines = []
    with open(os.path.join(data_dir, "sentiment/sst2/train.tsv"), encoding="utf-8") as f:
        next(f)
        lines += [row.split("\t")[0] for row in f if row.strip()]
    with open(os.path.join(data_dir, "topic/ag_news/test.csv"), encoding="utf-8", newline="") as f:
        for row in csv.reader(f):
            lines += row[1:3]
    return [line for line in lines if line.strip()]


def train(lines, out_prefix, rule, **extra):
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines), model_prefix=out_prefix, model_type="unigram", vocab_size=6000,
        character_coverage=0.995, normalization_rule_name=rule, num_threads=2, minloglevel=2, **extra)
    proto = model_pb2.ModelProto()
    with open(out_prefix + ".model", "rb") as f:
        proto.ParseFromString(f.read())
    assert bool(proto.normalizer_spec.precompiled_charsmap) == (rule != "identity")
    return proto


def precompiled(proto):
    return {"type": "Precompiled",
            "precompiled_charsmap": base64.b64encode(proto.normalizer_spec.precompiled_charsmap).decode("ascii")}


def added(content, token_id, special=True, lstrip=False):
    return {"id": token_id, "content": content, "single_word": False, "lstrip": lstrip, "rstrip": False,
            "normalized": False, "special": special}


def special(name, token_id):
    return {"id": name, "ids": [token_id], "tokens": [name]}


def template(single, pair, specials):
    def items(spec):
        out = []
        for item in spec.split():
            name, _, type_id = item.partition(":")
            type_id = int(type_id or 0)
            if name in ("$A", "$B"):
                out.append({"Sequence": {"id": name[1], "type_id": type_id}})
            else:
                out.append({"SpecialToken": {"id": name, "type_id": type_id}})
        return out
    return {"type": "TemplateProcessing", "single": items(single), "pair": items(pair),
            "special_tokens": {name: special(name, i) for name, i in specials}}


def metaspace(prepend_scheme):
    return {"type": "Metaspace", "replacement": REPLACEMENT, "prepend_scheme": prepend_scheme, "split": True}


def strip(left, right):
    return {"type": "Strip", "strip_left": left, "strip_right": right}


def spaces(content):
    return {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": content}


def write(out_dir, tokenizer, config):
    os.makedirs(out_dir, exist_ok=True)
    full = {"version": "1.0", "truncation": None, "padding": None}
    full.update(tokenizer)
    with open(os.path.join(out_dir, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(full, f, ensure_ascii=False, indent=2)
    with open(os.path.join(out_dir, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, ensure_ascii=False, indent=2)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    lines = training_lines(args.data)

    # XLM-R: the model's own <unk> <s> </s> (ids 0..2) are replaced by fairseq's four.
    proto = train(lines, os.path.join(args.out, "plain"), "nmt_nfkc")
    pieces = [(p.piece, p.score) for p in proto.pieces]
    vocab = [("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)] + pieces[3:] + [("<mask>", 0.0)]
    mask_id = len(vocab) - 1
    write(os.path.join(args.out, "xlm-roberta"), {
        "added_tokens": [added("<s>", 0), added("<pad>", 1), added("</s>", 2), added("<unk>", 3),
                         added("<mask>", mask_id, lstrip=True)],
        "normalizer": {"type": "Sequence", "normalizers": [precompiled(proto), strip(False, True),
                                                           spaces(REPLACEMENT)]},
        "pre_tokenizer": metaspace("always"),
        "post_processor": template("<s> $A </s>", "<s> $A </s> </s> $B </s>", [("<s>", 0), ("</s>", 2)]),
        "decoder": metaspace("always"),
        "model": {"type": "Unigram", "unk_id": 3, "vocab": [list(v) for v in vocab], "byte_fallback": False},
    }, {"tokenizer_class": "XLMRobertaTokenizer", "model_max_length": 512, "bos_token": "<s>", "eos_token": "</s>",
        "sep_token": "</s>", "cls_token": "<s>", "unk_token": "<unk>", "pad_token": "<pad>",
        "mask_token": {"content": "<mask>", "lstrip": True, "normalized": False, "rstrip": False,
                       "single_word": False, "special": True}})

    # DeBERTa-v3: the SentencePiece ids are the model's ids.
    proto = train(lines, os.path.join(args.out, "deberta"), "nmt_nfkc_cf", pad_id=0, bos_id=1, eos_id=2, unk_id=3,
                  pad_piece="[PAD]", bos_piece="[CLS]", eos_piece="[SEP]", unk_piece="[UNK]")
    vocab = [(p.piece, p.score) for p in proto.pieces]
    mask_id = len(vocab)
    write(os.path.join(args.out, "deberta-v3"), {
        "added_tokens": [added("[PAD]", 0), added("[CLS]", 1), added("[SEP]", 2), added("[UNK]", 3),
                         added("[MASK]", mask_id)],
        "normalizer": {"type": "Sequence", "normalizers": [strip(True, True), precompiled(proto), spaces(" ")]},
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [metaspace("always")]},
        "post_processor": template("[CLS]:0 $A:0 [SEP]:0", "[CLS]:0 $A:0 [SEP]:0 $B:1 [SEP]:1",
                                   [("[CLS]", 1), ("[SEP]", 2)]),
        "decoder": metaspace("always"),
        "model": {"type": "Unigram", "unk_id": 3, "vocab": [list(v) for v in vocab], "byte_fallback": False},
    }, {"tokenizer_class": "DebertaV2Tokenizer", "model_max_length": 512, "bos_token": "[CLS]", "eos_token": "[SEP]",
        "sep_token": "[SEP]", "cls_token": "[CLS]", "unk_token": "[UNK]", "pad_token": "[PAD]",
        "mask_token": "[MASK]", "do_lower_case": False, "split_by_punct": False})

    # Byte fallback: control pieces (<s>, </s>) become special added tokens, as SpmConverter.tokenizer adds them.
    proto = train(lines, os.path.join(args.out, "bytes"), "identity", byte_fallback=True)
    vocab = [(p.piece, p.score) for p in proto.pieces]
    assert any(p.type == 6 for p in proto.pieces)  # BYTE pieces
    # transformers' PreTrainedTokenizerFast adds the config's special tokens (here also <unk>) to the added
    # vocabulary when it loads, and writes them so on save_pretrained: the file is the saved one.
    controls = [added(p.piece, i) for i, p in enumerate(proto.pieces) if p.type in (2, 3)]
    write(os.path.join(args.out, "byte-fallback"), {
        "added_tokens": controls,
        "normalizer": {"type": "Sequence", "normalizers": [strip(False, True), spaces(REPLACEMENT)]},
        "pre_tokenizer": metaspace("first"),
        "post_processor": None,
        "decoder": {"type": "Sequence", "decoders": [{"type": "Replace", "pattern": {"String": REPLACEMENT},
                                                      "content": " "}, {"type": "ByteFallback"}, {"type": "Fuse"}]},
        "model": {"type": "Unigram", "unk_id": proto.trainer_spec.unk_id, "vocab": [list(v) for v in vocab],
                  "byte_fallback": True},
    }, {"tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": 512, "bos_token": "<s>",
        "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "</s>"})
    print(json.dumps({"training_lines": len(lines), "vocab_size": len(vocab)}))


if __name__ == "__main__":
    main()
