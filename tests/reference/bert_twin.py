#!/usr/bin/python3
"""PyTorch twin of accent's BertForSequenceClassification (tests/unit/models_bert_twin_test.cpp runs it).

A self-contained re-statement of Hugging Face's BERT math (spec checkpoints.md §5.1; transformers
modeling_bert.py, eager attention, dropout off) in plain torch functional calls, plus a tiny safetensors
reader/writer. `gen` writes into --out:
  config.json, model.safetensors      a random BERT (HF names, HF state-dict order)
  inputs.safetensors                  input_ids, token_type_ids, attention_mask (I64, (B,T)), labels
  expected.safetensors                logits (B,C), loss [], grad.<param name> for every parameter (fp32 torch,
                                      what HF computes), and the same computed in float64 from the same fp32
                                      weights (logits64, loss64, grad64.<name>; stored as F32): the exact answer
                                      against which both fp32 implementations' rounding error is measured
Run with /usr/bin/python3 (Debian python3-torch).
"""
import argparse
import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

# ---------------------------------------------------------------- safetensors (format: spec checkpoints.md §1)
_DTYPES = {"F32": (torch.float32, np.float32), "I64": (torch.int64, np.int64), "F16": (torch.float16, np.float16),
           "I32": (torch.int32, np.int32), "F64": (torch.float64, np.float64)}
_NAMES = {v[0]: k for k, v in _DTYPES.items()}


def write_safetensors(path, tensors):
    header, offset, blobs = {"__metadata__": {"format": "pt"}}, 0, []
    for name, t in tensors.items():
        data = t.detach().contiguous().cpu().numpy().tobytes()
        header[name] = {"dtype": _NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        tdt, ndt = _DTYPES[e["dtype"]]
        b, end = e["data_offsets"]
        arr = np.frombuffer(data[b:end], dtype=ndt).reshape(e["shape"]).copy()
        out[name] = torch.from_numpy(arr)
    return out


# ---------------------------------------------------------------- the model (HF math, eager path)
ACTIVATIONS = {
    "gelu": F.gelu,
    "gelu_new": lambda x: 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0)))),
    "relu": F.relu,
}


def param_names(cfg):
    names = ["bert.embeddings.word_embeddings.weight", "bert.embeddings.position_embeddings.weight",
             "bert.embeddings.token_type_embeddings.weight", "bert.embeddings.LayerNorm.weight",
             "bert.embeddings.LayerNorm.bias"]
    for l in range(cfg["num_hidden_layers"]):
        p = f"bert.encoder.layer.{l}."
        for m in ["attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
                  "attention.output.LayerNorm", "intermediate.dense", "output.dense", "output.LayerNorm"]:
            names += [p + m + ".weight", p + m + ".bias"]
    return names + ["bert.pooler.dense.weight", "bert.pooler.dense.bias", "classifier.weight", "classifier.bias"]


def logits_of(P, cfg, ids, tt, mask, train=False, word_vectors=None, attentions=None, linears=None):
    """HF BertForSequenceClassification logits; train=True applies the config's dropout like model.train().
    word_vectors (B, T, H) replace the word-embedding lookup (HF inputs_embeds); `attentions`, a list, receives
    every layer's probabilities (B, NH, T, T) before dropout (HF output_attentions=True). `linears` (name → module)
    runs those layers instead of F.linear on P (bench/torch_infer.py: quantize_dynamic's int8 Linear modules)."""
    B, T = ids.shape
    hd = lambda v: F.dropout(v, cfg["hidden_dropout_prob"], training=train)
    ad = lambda v: F.dropout(v, cfg["attention_probs_dropout_prob"], training=train)
    cd = cfg.get("classifier_dropout")
    cd = cfg["hidden_dropout_prob"] if cd is None else cd
    H, NH = cfg["hidden_size"], cfg["num_attention_heads"]
    D, eps = H // NH, cfg["layer_norm_eps"]
    act = ACTIVATIONS[cfg["hidden_act"]]
    e = F.embedding(ids, P["bert.embeddings.word_embeddings.weight"], padding_idx=cfg["pad_token_id"]) \
        if word_vectors is None else word_vectors
    e = e + F.embedding(tt, P["bert.embeddings.token_type_embeddings.weight"])
    e = e + F.embedding(torch.arange(T).expand(B, T), P["bert.embeddings.position_embeddings.weight"])
    x = hd(F.layer_norm(e, (H,), P["bert.embeddings.LayerNorm.weight"], P["bert.embeddings.LayerNorm.bias"], eps))
    ext = (1.0 - mask[:, None, None, :].to(torch.float32)) * torch.finfo(torch.float32).min
    lin = lambda v, name: linears[name](v) if linears and name in linears else \
        F.linear(v, P[name + ".weight"], P[name + ".bias"])
    heads = lambda v: v.view(B, T, NH, D).permute(0, 2, 1, 3)
    for l in range(cfg["num_hidden_layers"]):
        p = f"bert.encoder.layer.{l}."
        q, k, v = (heads(lin(x, p + "attention.self." + m)) for m in ("query", "key", "value"))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(D) + ext
        probs = torch.softmax(scores, dim=-1)
        if attentions is not None:
            attentions.append(probs)
        probs = ad(probs)
        ctx = torch.matmul(probs, v).permute(0, 2, 1, 3).contiguous().view(B, T, H)
        x = F.layer_norm(hd(lin(ctx, p + "attention.output.dense")) + x, (H,), P[p + "attention.output.LayerNorm.weight"],
                         P[p + "attention.output.LayerNorm.bias"], eps)
        h = act(lin(x, p + "intermediate.dense"))
        x = F.layer_norm(hd(lin(h, p + "output.dense")) + x, (H,), P[p + "output.LayerNorm.weight"],
                         P[p + "output.LayerNorm.bias"], eps)
    pooled = torch.tanh(lin(x[:, 0], "bert.pooler.dense"))
    return lin(F.dropout(pooled, cd, training=train), "classifier")


def loss_of(logits, labels, cfg):
    C, pt = len(cfg["id2label"]), cfg["problem_type"]
    if labels.is_floating_point():
        labels = labels.to(logits.dtype)
    if pt == "regression":
        return F.mse_loss(logits.squeeze(), labels.squeeze()) if C == 1 else F.mse_loss(logits, labels)
    if pt == "single_label_classification":
        return F.cross_entropy(logits.view(-1, C), labels.view(-1))
    return F.binary_cross_entropy_with_logits(logits, labels)


# ---------------------------------------------------------------- generation
PRESETS = {
    "tiny": dict(vocab_size=1000, hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=128,
                 max_position_embeddings=64, B=4, T=16),
    "base": dict(vocab_size=30522, hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                 intermediate_size=3072, max_position_embeddings=512, B=2, T=32),
}
PROBLEMS = {"single": ("single_label_classification", 3), "multi": ("multi_label_classification", 4),
            "regression": ("regression", 1)}


def generate(out, preset, problem, act, seed):
    pr = dict(PRESETS[preset])
    B, T = pr.pop("B"), pr.pop("T")
    problem_type, C = PROBLEMS[problem]
    cfg = dict(pr, model_type="bert", architectures=["BertForSequenceClassification"], hidden_act=act,
               layer_norm_eps=1e-12, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, type_vocab_size=2,
               initializer_range=0.02, pad_token_id=0, position_embedding_type="absolute",
               id2label={str(i): f"LABEL_{i}" for i in range(C)}, label2id={f"LABEL_{i}": i for i in range(C)},
               problem_type=problem_type)
    g = torch.Generator().manual_seed(seed)
    P = {}
    H = cfg["hidden_size"]
    shapes = {"bert.embeddings.word_embeddings.weight": (cfg["vocab_size"], H),
              "bert.embeddings.position_embeddings.weight": (cfg["max_position_embeddings"], H),
              "bert.embeddings.token_type_embeddings.weight": (2, H)}
    for name in param_names(cfg):
        if name in shapes:
            shape = shapes[name]
        elif name.endswith("LayerNorm.weight") or name.endswith("LayerNorm.bias"):
            shape = (H,)
        else:
            layer_part = name.rsplit(".", 1)[0]
            out_f = C if layer_part == "classifier" else (cfg["intermediate_size"] if "intermediate" in name else H)
            in_f = cfg["intermediate_size"] if (".output.dense" in name and "attention" not in name) else H
            shape = (out_f, in_f) if name.endswith(".weight") else (out_f,)
        # Larger-than-HF random values (and non-trivial LayerNorm/bias values) so every path carries signal.
        if name.endswith("LayerNorm.weight"):
            t = 1.0 + 0.1 * torch.randn(shape, generator=g)
        elif name.endswith(".bias"):
            t = 0.05 * torch.randn(shape, generator=g)
        else:
            t = 0.05 * torch.randn(shape, generator=g)
        P[name] = t
    P["bert.embeddings.word_embeddings.weight"][0].zero_()

    # Inputs: pairs (token types 0 then 1), right padding with pad id 0 and mask 0, one unpadded row.
    ids = torch.zeros(B, T, dtype=torch.int64)
    tt = torch.zeros(B, T, dtype=torch.int64)
    mask = torch.zeros(B, T, dtype=torch.int64)
    for b in range(B):
        length = T if b == 0 else max(3, T - 3 * b)
        ids[b, :length] = torch.randint(1, cfg["vocab_size"], (length,), generator=g)
        first = max(1, length // 2)
        tt[b, first:length] = 1
        mask[b, :length] = 1
    if problem == "single":
        labels = torch.randint(0, C, (B,), generator=g)
        labels[1] = -100  # ignored row
    elif problem == "multi":
        labels = torch.randint(0, 2, (B, C), generator=g).to(torch.float32)
    else:
        labels = torch.randn(B, C, generator=g) if C > 1 else torch.randn(B, generator=g)

    for t in P.values():
        t.requires_grad_(True)
    logits = logits_of(P, cfg, ids, tt, mask)
    loss = loss_of(logits, labels, cfg)
    loss.backward()

    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
    write_safetensors(os.path.join(out, "model.safetensors"), {k: v.detach() for k, v in P.items()})
    write_safetensors(os.path.join(out, "inputs.safetensors"),
                      {"input_ids": ids, "token_type_ids": tt, "attention_mask": mask, "labels": labels})
    expected = {"logits": logits.detach(), "loss": loss.detach().reshape([])}
    for k, v in P.items():
        expected["grad." + k] = v.grad
    # The same in float64: deep-layer attention gradients are small differences of large terms, where fp32
    # rounding (in PyTorch as in accent) reaches 1e-4..1e-1 relative; float64 tells which side is exact.
    P64 = {k: v.detach().double().requires_grad_(True) for k, v in P.items()}
    logits64 = logits_of(P64, cfg, ids, tt, mask)
    loss64 = loss_of(logits64, labels, cfg)
    loss64.backward()
    expected["logits64"] = logits64.detach().float()
    expected["loss64"] = loss64.detach().float().reshape([])
    for k, v in P64.items():
        expected["grad64." + k] = v.grad.float()
    write_safetensors(os.path.join(out, "expected.safetensors"), expected)


def logits_cmd(model_dir, inputs_path, out_path):
    """Logits of an existing directory (e.g. one accent saved) for the inputs in inputs_path."""
    with open(os.path.join(model_dir, "config.json")) as f:
        cfg = json.load(f)
    P = read_safetensors(os.path.join(model_dir, "model.safetensors"))
    x = read_safetensors(inputs_path)
    with torch.no_grad():
        logits = logits_of(P, cfg, x["input_ids"], x["token_type_ids"], x["attention_mask"])
    write_safetensors(out_path, {"logits": logits})


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("gen")
    g.add_argument("--out", required=True)
    g.add_argument("--preset", choices=sorted(PRESETS), default="tiny")
    g.add_argument("--problem", choices=sorted(PROBLEMS), default="single")
    g.add_argument("--act", choices=sorted(ACTIVATIONS), default="gelu")
    g.add_argument("--seed", type=int, default=0)
    l = sub.add_parser("logits")
    l.add_argument("--model", required=True)
    l.add_argument("--inputs", required=True)
    l.add_argument("--out", required=True)
    a = ap.parse_args()
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    if a.cmd == "gen":
        generate(a.out, a.preset, a.problem, a.act, a.seed)
    else:
        logits_cmd(a.model, a.inputs, a.out)


if __name__ == "__main__":
    sys.exit(main())
