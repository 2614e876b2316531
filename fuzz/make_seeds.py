#!/usr/bin/python3
"""Writes the seed corpora of accent's fuzz targets (run by fuzz/run.sh; nothing binary is committed).

  make_seeds.py OUT
    OUT/safetensors/*.safetensors  small files in the safetensors layout (every dtype, metadata, scalars, empty)
    OUT/torch_bin/*.bin            torch.save'd state dicts (views, shared storages, every dtype, Parameter,
                                   nn.Module OrderedDict with _metadata)
    OUT/torch_pickle/*.pkl         their data.pkl records (storages renamed 0..7, each at most 256 bytes: the
                                   torch_pickle harness supplies those records)
    OUT/config/*.json              config.json of each supported family (with labels, nulls, extras)
    OUT/jsonl/*                    data rows (mode byte + JSONL or JSON array: labels of every kind, pairs, nulls)
    OUT/tokenizer_files/*          selector byte + tokenizer.json / tokenizer_config.json / special_tokens_map.json /
                                   added_tokens.json / training_args.json
    OUT/adapter_config/*           selector byte + adapter_config.json (PEFT's keys) / accent_labels.json
    OUT/shard_index/*.json         model.safetensors.index.json files (shared and distinct shards)
    OUT/checkpoint_files/*         selector byte + trainer_resume.json / trainer_state.json / scheduler.json / a
                                   checkpoint directory name or optimizer "step" text
torch seeds need Debian's /usr/bin/python3 with python3-torch; without torch they are skipped with a note.
"""
import base64
import collections
import io
import json
import os
import struct
import sys
import zipfile

OUT = sys.argv[1]


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


# ------------------------------------------------------------------------------------------------ safetensors
BITS = {"BOOL": 8, "U8": 8, "I8": 8, "F8_E5M2": 8, "F8_E4M3": 8, "F8_E8M0": 8, "F8_E4M3FNUZ": 8,
        "F8_E5M2FNUZ": 8, "I16": 16, "U16": 16, "F16": 16, "BF16": 16, "I32": 32, "U32": 32, "F32": 32,
        "C64": 64, "F64": 64, "I64": 64, "U64": 64, "F4": 4, "F6_E2M3": 6, "F6_E3M2": 6}


def safetensors(tensors, metadata=None):
    """tensors: [(name, dtype, shape)], laid out in the given order; data is a byte pattern."""
    header, offset, data = {}, 0, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape in tensors:
        numel = 1
        for d in shape:
            numel *= d
        nbytes = numel * BITS[dtype] // 8
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + nbytes]}
        data += bytes((offset + i) * 29 % 251 for i in range(nbytes))
        offset += nbytes
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def safetensors_seeds():
    d = os.path.join(OUT, "safetensors")
    write(f"{d}/bert_like.safetensors", safetensors(
        [("bert.embeddings.word_embeddings.weight", "F32", [4, 3]), ("classifier.bias", "F32", [2]),
         ("bert.embeddings.position_ids", "I64", [1, 3])], {"format": "pt"}))
    write(f"{d}/core_dtypes.safetensors", safetensors(
        [(f"t_{t.lower()}", t, [2, 2]) for t in
         ["F64", "I64", "U64", "F32", "I32", "U32", "BF16", "F16", "I16", "U16", "I8", "U8", "BOOL"]]))
    write(f"{d}/f8_dtypes.safetensors", safetensors(
        [(f"t_{t.lower()}", t, [3]) for t in ["F8_E4M3", "F8_E5M2", "F8_E8M0", "F8_E4M3FNUZ", "F8_E5M2FNUZ"]]))
    write(f"{d}/unconvertible.safetensors", safetensors(
        [("c", "C64", [1]), ("f4", "F4", [2]), ("f6", "F6_E2M3", [4]), ("g6", "F6_E3M2", [4])]))
    write(f"{d}/scalar_empty.safetensors", safetensors(
        [("scalar", "F32", []), ("empty", "F16", [0, 3]), ("vector", "BF16", [5])], {"a": "b", "c": ""}))
    write(f"{d}/empty_file.safetensors", safetensors([]))


# ------------------------------------------------------------------------------------------------ torch
def torch_seeds():
    try:
        import torch
    except ImportError:
        print("make_seeds.py: no torch in this python; torch_bin/torch_pickle seeds skipped", file=sys.stderr)
        return
    torch.manual_seed(0)
    base = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    dicts = {
        "plain": {"w": torch.randn(2, 3), "b": torch.zeros(3), "ids": torch.arange(4)},
        "views": {"base": base, "t": base.t(), "row": base[1], "col": base[:, 2], "tail": base.flatten()[5:]},
        "float_dtypes": {str(t).split(".")[1]: torch.linspace(-2, 3, 6).to(t) for t in
                         [torch.float16, torch.bfloat16, torch.float64]},
        "int_dtypes": {str(t).split(".")[1]: torch.arange(-2, 4).to(t) for t in
                       [torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8, torch.bool]},
        "scalar_empty_expand": {"scalar": torch.tensor(3.5), "empty": torch.zeros(0, 4),
                                "position_ids": torch.arange(6).expand((1, -1)),
                                "expanded": torch.ones(1, 3).expand(4, 3)},
        "parameter": {"p": torch.nn.Parameter(torch.randn(2, 2))},
        "module": torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.LayerNorm(2)).state_dict(),
        "ordered": collections.OrderedDict([("a", torch.ones(2)), ("b", torch.ones(2, dtype=torch.float64))]),
    }
    for name, sd in dicts.items():
        buf = io.BytesIO()
        torch.save(sd, buf)
        data = buf.getvalue()
        write(os.path.join(OUT, "torch_bin", f"{name}.bin"), data)
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            pkl = [n for n in z.namelist() if n.endswith("/data.pkl")][0]
            storages = [n for n in z.namelist() if "/data/" in n]
            assert len(storages) <= 8 and all(z.getinfo(n).file_size <= 256 for n in storages), name
            write(os.path.join(OUT, "torch_pickle", f"{name}.pkl"), z.read(pkl))
        # The same state dict with pickle protocol 4 (FRAME, MEMOIZE, SHORT_BINUNICODE, STACK_GLOBAL).
        buf = io.BytesIO()
        torch.save(sd, buf, pickle_protocol=4)
        with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as z:
            pkl = [n for n in z.namelist() if n.endswith("/data.pkl")][0]
            write(os.path.join(OUT, "torch_pickle", f"{name}_p4.pkl"), z.read(pkl))


# ------------------------------------------------------------------------------------------------ config.json
def config_seeds():
    d = os.path.join(OUT, "config")
    configs = {
        "bert": {"architectures": ["BertForSequenceClassification"], "model_type": "bert", "vocab_size": 30522,
                 "hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12,
                 "intermediate_size": 3072, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
                 "attention_probs_dropout_prob": 0.1, "max_position_embeddings": 512, "type_vocab_size": 2,
                 "initializer_range": 0.02, "layer_norm_eps": 1e-12, "pad_token_id": 0,
                 "position_embedding_type": "absolute", "classifier_dropout": None,
                 "id2label": {"0": "negative", "1": "positive", "2": "neutral"},
                 "label2id": {"negative": 0, "positive": 1, "neutral": 2},
                 "problem_type": "single_label_classification", "torch_dtype": "float32",
                 "transformers_version": "4.44.2", "gradient_checkpointing": False, "use_cache": True},
        "distilbert": {"model_type": "distilbert", "dim": 768, "n_layers": 6, "n_heads": 12, "hidden_dim": 3072,
                       "dropout": 0.1, "attention_dropout": 0.1, "activation": "gelu", "vocab_size": 30522,
                       "sinusoidal_pos_embds": False, "seq_classif_dropout": 0.2, "tie_weights_": True,
                       "num_labels": 5},
        "gpt2": {"model_type": "gpt2", "n_embd": 768, "n_layer": 12, "n_head": 12, "n_inner": None,
                 "n_positions": 1024, "activation_function": "gelu_new", "layer_norm_epsilon": 1e-05,
                 "resid_pdrop": 0.1, "attn_pdrop": 0.1, "embd_pdrop": 0.1, "bos_token_id": 50256,
                 "eos_token_id": 50256, "task_specific_params": {"text-generation": {"do_sample": True}}},
        "roberta": {"model_type": "roberta", "vocab_size": 50265, "max_position_embeddings": 514,
                    "type_vocab_size": 1, "pad_token_id": 1, "bos_token_id": 0, "eos_token_id": 2,
                    "layer_norm_eps": 1e-05, "problem_type": "regression", "id2label": {"0": "LABEL_0"}},
        "electra": {"model_type": "electra", "embedding_size": 128, "hidden_size": 256,
                    "num_attention_heads": 4, "intermediate_size": 1024, "summary_type": "first",
                    "dtype": "bfloat16", "num_labels": 2, "return_dict": True, "temperature": 0.7},
        "minimal": {},
    }
    for name, c in configs.items():
        write(f"{d}/{name}.json", (json.dumps(c, indent=2) + "\n").encode())


# ------------------------------------------------------------------------------------------- JSON rows and files
def jsonl_seeds():
    d = os.path.join(OUT, "jsonl")
    rows = [{"text": "a fine film", "label": 1}, {"text": "dull", "label": 0, "extra": None},
            {"text": "b", "text_pair": "c", "label": "pos"}, {"text": "m", "label": ["x", "y"]},
            {"text": "r", "label": 0.25}, {"text": "", "label": None}]
    jsonl = "\n".join(json.dumps(r) for r in rows) + "\n"
    for mode in (0, 2, 4, 8, 12, 48):
        write(f"{d}/rows_{mode}.jsonl", bytes([mode]) + jsonl.encode())
        write(f"{d}/rows_{mode}.json", bytes([mode | 1]) + json.dumps(rows).encode())
    write(f"{d}/deep.jsonl", b"\0" + b'{"text": ' + b"[" * 200 + b"}\n")


def tokenizer_file_seeds():
    d = os.path.join(OUT, "tokenizer_files")
    vocab = {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "[MASK]": 4, "hello": 5, "world": 6, "##s": 7, "!": 8}
    wordpiece = {"version": "1.0", "truncation": None, "padding": None,
                 "added_tokens": [{"id": 4, "content": "[MASK]", "single_word": False, "lstrip": False,
                                   "rstrip": False, "normalized": False, "special": True}],
                 "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                                "strip_accents": None, "lowercase": True},
                 "pre_tokenizer": {"type": "BertPreTokenizer"},
                 "post_processor": {"type": "TemplateProcessing",
                                    "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}},
                                               {"Sequence": {"id": "A", "type_id": 0}},
                                               {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
                                    "pair": [{"Sequence": {"id": "A", "type_id": 0}},
                                             {"Sequence": {"id": "B", "type_id": 1}}],
                                    "special_tokens": {"[CLS]": {"id": "[CLS]", "ids": [2], "tokens": ["[CLS]"]},
                                                       "[SEP]": {"id": "[SEP]", "ids": [3], "tokens": ["[SEP]"]}}},
                 "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
                 "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                           "max_input_chars_per_word": 100, "vocab": vocab}}
    bpe = {"version": "1.0", "added_tokens": [], "normalizer": None,
           "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
           "post_processor": {"type": "RobertaProcessing", "sep": ["</s>", 2], "cls": ["<s>", 0],
                              "trim_offsets": True, "add_prefix_space": False},
           "decoder": None, "model": {"type": "BPE", "dropout": None, "unk_token": None,
                                      "continuing_subword_prefix": None, "end_of_word_suffix": None,
                                      "fuse_unk": False, "vocab": {"<s>": 0, "a": 1, "</s>": 2, "b": 3, "ab": 4},
                                      "merges": ["a b"]}}
    # The SentencePiece/decoder-family pieces: a Unigram model behind Precompiled, NFKC, Strip, Replace (Regex " {2,}"), Prepend and Metaspace;
    # and a byte-level BPE behind the Qwen2 Split.
    unigram = {"version": "1.0", "added_tokens": [{"id": 0, "content": "<unk>", "single_word": False, "lstrip": False,
                                                   "rstrip": False, "normalized": False, "special": True}],
               "normalizer": {"type": "Sequence", "normalizers": [
                   {"type": "NFKC"}, {"type": "Strip", "strip_left": False, "strip_right": True},
                   {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": "\u2581"},
                   {"type": "Prepend", "prepend": "\u2581"}]},
               "pre_tokenizer": {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first",
                                 "split": True},
               "post_processor": None,
               "decoder": {"type": "Sequence", "decoders": [
                   {"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "}, {"type": "ByteFallback"},
                   {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
               "model": {"type": "Unigram", "unk_id": 0, "byte_fallback": True,
                         "vocab": [["<unk>", 0.0], ["\u2581", -2.0], ["a", -3.0], ["b", -3.0], ["\u2581ab", -1.5],
                                   ["<0x41>", -5.0], ["<0xC3>", -5.0], ["<0xA9>", -5.0]]}}
    # A small charsmap (the real ones are ~240 KB, past the fuzzer's 8 KB inputs): a 4-unit trie and the
    # replacement strings "x\0yz\0"; mutations of the units exercise the trie walk's bounds.
    units = [1 << 10, (3 << 10) | (1 << 8) | 0x61, 0, 4]
    blob = struct.pack("<I", 4 * len(units)) + struct.pack("<" + "I" * len(units), *units) + b"x\0yz\0"
    unigram["normalizer"]["normalizers"].insert(
        0, {"type": "Precompiled", "precompiled_charsmap": base64.b64encode(blob).decode("ascii")})
    qwen2_pattern = ("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+"
                     "[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+")
    qwen2 = dict(bpe, normalizer={"type": "NFC"}, post_processor=None,
                 pre_tokenizer={"type": "Sequence", "pretokenizers": [
                     {"type": "Split", "pattern": {"Regex": qwen2_pattern}, "behavior": "Isolated", "invert": False},
                     {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}]})
    files = {
        "wordpiece": (0, wordpiece), "bpe": (0, bpe), "unigram": (0, unigram), "qwen2": (0, qwen2),
        "config": (1, {"do_lower_case": True, "model_max_length": 512, "tokenizer_class": "BertTokenizer",
                       "added_tokens_decoder": {"4": {"content": "[MASK]", "special": True}}}),
        "special": (2, {"unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]", "cls_token": "[CLS]",
                        "mask_token": {"content": "[MASK]", "lstrip": False}}),
        "added": (3, {"<new>": 9}),
        # A crash the fuzzer found (2026-12-07): a template whose "pair" is empty left no encoding to merge.
        "template_without_pair": (0, dict(wordpiece, post_processor=dict(wordpiece["post_processor"], pair=[]))),
        # A crash the fuzzer found (2026-12-06): an added_tokens_decoder content that is not a string.
        "config_content_not_a_string": (1, {"do_lower_case": True, "model_max_length": 463,
                                            "added_tokens_decoder": {"4": {"content": True}}}),
        "args": (4, {"output_dir": "out", "learning_rate": 5e-5, "num_train_epochs": 3.0, "seed": 42,
                     "eval_strategy": "epoch", "save_total_limit": None}),
    }
    for name, (selector, content) in files.items():
        write(f"{d}/{name}", bytes([selector]) + json.dumps(content).encode())


def adapter_config_seeds():
    d = os.path.join(OUT, "adapter_config")
    config = {"peft_type": "LORA", "task_type": "SEQ_CLS", "r": 8, "lora_alpha": 16, "lora_dropout": 0.1,
              "target_modules": ["query", "value"], "bias": "none", "modules_to_save": ["classifier", "score"],
              "base_model_name_or_path": "bert-base-uncased", "fan_in_fan_out": False, "inference_mode": True,
              "use_rslora": False, "init_lora_weights": True, "revision": None, "layers_to_transform": None,
              "layers_pattern": None, "rank_pattern": {}, "alpha_pattern": {}}
    write(f"{d}/bert", b"\0" + json.dumps(config).encode())
    write(f"{d}/gpt2", b"\0" + json.dumps(dict(config, target_modules="c_attn", fan_in_fan_out=True, r=1e300)).encode())
    write(f"{d}/labels", b"\1" + json.dumps({"id2label": {"0": "neg", "1": "pos"},
                                              "problem_type": "single_label_classification"}).encode())
    write(f"{d}/regression", b"\1" + json.dumps({"id2label": {"0": "LABEL_0"}, "problem_type": "regression"}).encode())


def checkpoint_file_seeds():
    d = os.path.join(OUT, "checkpoint_files")
    resume = {"dropout_rng": {"seed": 42, "counter": 1234}, "epoch": 1, "batch_in_epoch": 3, "loss_since_log": 0.5,
              "steps_since_log": 2, "train_loss_sum": 1.75}
    state = {"best_global_step": 4, "best_metric": 0.81, "best_model_checkpoint": "out/checkpoint-4", "epoch": 1.5,
             "global_step": 6, "log_history": [{"loss": 0.69, "step": 2}, {"eval_loss": 0.5, "step": 4}],
             "max_steps": 8, "stateful_callbacks": {
                 "EarlyStoppingCallback": {"args": {"early_stopping_patience": 2, "early_stopping_threshold": 0.0},
                                           "attributes": {"early_stopping_patience_counter": 1}},
                 "TrainerControl": {"args": {"should_training_stop": False}, "attributes": {}}}}
    write(f"{d}/resume", b"\0" + json.dumps(resume).encode())
    write(f"{d}/state", b"\1" + json.dumps(state).encode())
    write(f"{d}/scheduler", b"\2" + json.dumps({"lr_scheduler_type": "linear", "base_lr": 5e-5, "warmup_steps": 0,
                                                "total_steps": 8, "last_step": 6}).encode())
    write(f"{d}/name", b"\3checkpoint-0042")
    write(f"{d}/step", b"\3" + b"12345678901234567890")


def shard_index_seeds():
    d = os.path.join(OUT, "shard_index")
    write(f"{d}/two_shards.json", json.dumps({
        "metadata": {"total_size": 1024},
        "weight_map": {"bert.embeddings.word_embeddings.weight": "model-00001-of-00002.safetensors",
                       "classifier.weight": "model-00002-of-00002.safetensors",
                       "classifier.bias": "model-00002-of-00002.safetensors"}}).encode())
    write(f"{d}/traversal.json", json.dumps({"weight_map": {"a": "../model.safetensors"}}).encode())


safetensors_seeds()
config_seeds()
jsonl_seeds()
tokenizer_file_seeds()
adapter_config_seeds()
checkpoint_file_seeds()
shard_index_seeds()
torch_seeds()
