#!/usr/bin/python3
"""PyTorch twin of accent's LoRA (PEFT math) on the BERT twin (tests/reference/bert_twin.py) and the GPT-2, Qwen2,
Llama, ModernBERT and DeBERTa-v2 twins (tests/reference/family_twin.py).

`gen --out DIR [--family bert|gpt2|qwen2|llama|modernbert|deberta-v2] [--targets ...]` writes a tiny random model
exactly as bert_twin.py / family_twin.py do (config.json, model.safetensors, inputs.safetensors), then a LoRA adapter
in PEFT's own on-disk layout into DIR/adapter:
  adapter_config.json          as PEFT 0.10+ writes it (extra keys included: revision, use_dora, megatron_config, ...)
  adapter_model.safetensors    base_model.model.<module>.lora_A.weight (r, in), ...lora_B.weight (out, r),
                               base_model.model.classifier.weight/.bias or score.weight (modules_to_save),
                               trained biases
and DIR/lora_expected.safetensors: logits, loss and grad.<name> of every trainable tensor (accent's internal
names, no "base_model.model." prefix), in fp32 torch and float64 (logits64, loss64, grad64.<name>).
The LoRA forward is PEFT's lora.Linear.forward:
    result = base_layer(x) + lora_B(lora_A(dropout(x))) * scaling,  scaling = alpha / r  (alpha / sqrt(r): rsLoRA)
For GPT-2 the base layer is transformers' Conv1D (x·W + b, W stored (in, out)); PEFT wraps it with
fan_in_fan_out=True, which changes only how the delta is merged (W += (B·A)ᵀ·scaling): lora_A.weight is still
(r, in) and lora_B.weight (out, r). all-linear on GPT-2 wraps every Conv1D (c_attn, c_proj, c_fc, c_proj), never
the score head (PEFT excludes the SEQ_CLS head).
DeBERTa-v2 (share_att_key): query_proj and key_proj also project the relative embeddings, and PEFT's wrapped module
adds its LoRA branch there too (the twin's F.linear on that weight does the same). all-linear wraps query_proj,
key_proj, value_proj, attention.output.dense, intermediate.dense, output.dense and pooler.dense, never classifier
(PEFT's _maybe_include_all_linear_layers drops the SEQ_CLS head, SEQ_CLS_HEAD_NAMES = ["score", "classifier"]);
modules_to_save ["classifier", "score"] trains classifier in full and leaves pooler.dense frozen unless targeted.
--targets defaults to PEFT's TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING entry of the family.
B is random here (PEFT initialises it to zero, which would make A's gradient zero and the test blind).
"""
import argparse
import json
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bert_twin  # noqa: E402
import family_twin  # noqa: E402

LINEARS = ["attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
           "intermediate.dense", "output.dense"]
GPT2_CONV1DS = ["attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj"]
DECODER_LINEARS = ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj", "mlp.gate_proj",
                   "mlp.up_proj", "mlp.down_proj"]
MODERNBERT_LINEARS = ["attn.Wqkv", "attn.Wo", "mlp.Wi", "mlp.Wo"]
DEBERTA_LINEARS = ["attention.self.query_proj", "attention.self.key_proj", "attention.self.value_proj",
                   "attention.output.dense", "intermediate.dense", "output.dense"]
# peft.utils.constants.TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING (ModernBERT has no entry)
PEFT_DEFAULT_TARGETS = {"bert": "query,value", "gpt2": "c_attn", "qwen2": "q_proj,v_proj", "llama": "q_proj,v_proj",
                        "deberta-v2": "query_proj,value_proj"}


def lora_branch(wrapped, x, weight):
    """PEFT's lora_B(lora_A(x)) * scaling for the layer whose base weight is `weight`, or None when unwrapped."""
    lora = wrapped.get(id(weight))
    if lora is None:
        return None
    A, B, scaling = lora
    return F.linear(F.linear(x, A), B) * scaling


class LoraFunctional:
    """Stands in for torch.nn.functional inside bert_twin: F.linear on a wrapped weight adds the LoRA branch."""

    def __init__(self, wrapped):
        self.wrapped = wrapped  # id(base weight tensor) -> (A, B, scaling)

    def __getattr__(self, name):
        return getattr(F, name)

    def linear(self, x, weight, bias=None):
        result = F.linear(x, weight, bias)
        delta = lora_branch(self.wrapped, x, weight)
        return result if delta is None else result + delta


def conv1d_with_lora(wrapped, conv1d):
    """Stands in for family_twin.conv1d: PEFT's lora.Linear around a Conv1D base layer (fan_in_fan_out=True)."""
    def f(x, weight, bias):
        result = conv1d(x, weight, bias)
        delta = lora_branch(wrapped, x, weight)
        return result if delta is None else result + delta
    return f


def targets_of(family, cfg, spec):
    if family == "gpt2":
        mods = [f"transformer.h.{l}.{m}" for l in range(cfg["n_layer"]) for m in GPT2_CONV1DS]
    elif family in family_twin.DECODERS:  # all-linear: every projection, never score (task_type SEQ_CLS)
        mods = [f"model.layers.{l}.{m}" for l in range(cfg["num_hidden_layers"]) for m in DECODER_LINEARS]
    elif family == "modernbert":  # all-linear: every Linear but the output layer, so head.dense too
        mods = [f"model.layers.{l}.{m}" for l in range(cfg["num_hidden_layers"]) for m in MODERNBERT_LINEARS]
        mods.append("head.dense")
    elif family == "deberta-v2":  # all-linear: every Linear but classifier, so pooler.dense too
        s = family_twin.deberta_settings(cfg)
        extra = [] if s["share"] or not s["rel"] else \
            [m for t, m in (("c2p", "attention.self.pos_key_proj"), ("p2c", "attention.self.pos_query_proj"))
             if t in s["pat"]]
        mods = ["deberta.embeddings.embed_proj"] if s["E"] != s["H"] else []
        mods += [f"deberta.encoder.layer.{l}.{m}" for l in range(cfg["num_hidden_layers"])
                 for m in DEBERTA_LINEARS + extra]
        mods.append("pooler.dense")
    else:
        mods = [f"bert.encoder.layer.{l}.{m}" for l in range(cfg["num_hidden_layers"]) for m in LINEARS]
        mods.append("bert.pooler.dense")
    if spec == "all-linear":
        return mods
    names = spec.split(",")
    return [m for m in mods if any(m == t or m.endswith("." + t) for t in names)]


def run(family, P, lora, cfg, x, scaling, dtype):
    Pd = {k: v.detach().to(dtype).requires_grad_(True) for k, v in P.items()}
    Ld = {k: (a.detach().to(dtype).requires_grad_(True), b.detach().to(dtype).requires_grad_(True))
          for k, (a, b) in lora.items()}
    wrapped = {id(Pd[m + ".weight"]): (a, b, scaling) for m, (a, b) in Ld.items()}
    inputs = (x["input_ids"], x["token_type_ids"], x["attention_mask"])
    if family == "gpt2":
        saved = family_twin.conv1d
        family_twin.conv1d = conv1d_with_lora(wrapped, saved)
        try:
            logits = family_twin.logits_of("gpt2", Pd, cfg, *inputs)
        finally:
            family_twin.conv1d = saved
    elif family in family_twin.DECODERS + ("modernbert", "deberta-v2"):
        saved = family_twin.F
        family_twin.F = LoraFunctional(wrapped)
        try:
            logits = family_twin.logits_of(family, Pd, cfg, *inputs)
        finally:
            family_twin.F = saved
    else:
        saved = bert_twin.F
        bert_twin.F = LoraFunctional(wrapped)
        try:
            logits = bert_twin.logits_of(Pd, cfg, *inputs)
        finally:
            bert_twin.F = saved
    loss = bert_twin.loss_of(logits, x["labels"], cfg)
    loss.backward()
    return logits, loss, Pd, Ld


def generate(out, family, targets, r, alpha, rslora, bias, seed):
    if family == "gpt2":
        family_twin.generate(out, "gpt2", "single", "gelu_new", seed, False)
    elif family in family_twin.DECODERS:
        family_twin.generate(out, family, "single", "silu", seed, False)
    elif family in ("modernbert", "deberta-v2"):
        family_twin.generate(out, family, "single", "gelu", seed, False)
    else:
        bert_twin.generate(out, "tiny", "single", "gelu", seed)
    with open(os.path.join(out, "config.json")) as f:
        cfg = json.load(f)
    P = bert_twin.read_safetensors(os.path.join(out, "model.safetensors"))
    x = bert_twin.read_safetensors(os.path.join(out, "inputs.safetensors"))
    g = torch.Generator().manual_seed(seed + 1)
    lora = {}
    for m in targets_of(family, cfg, targets):
        out_f, in_f = P[m + ".weight"].shape
        if family == "gpt2":  # Conv1D stores its weight (in, out)
            out_f, in_f = in_f, out_f
        bound = 1.0 / math.sqrt(in_f)  # kaiming_uniform_(a=sqrt(5))
        A = (torch.rand(r, in_f, generator=g) * 2 - 1) * bound
        B = 0.05 * torch.randn(out_f, r, generator=g)
        lora[m] = (A, B)
    # The adapter's head differs from the base checkpoint's (it was trained): modules_to_save wins.
    head = {k: P[k] + 0.03 * torch.randn(P[k].shape, generator=g) for k in P if k.startswith(("classifier.", "score."))}
    trained_bias = {}
    if bias == "all":
        for k in P:
            if "bias" in k and k not in head:
                trained_bias[k] = P[k] + 0.02 * torch.randn(P[k].shape, generator=g)
    Pmod = dict(P)
    Pmod.update(head)
    Pmod.update(trained_bias)
    scaling = alpha / math.sqrt(r) if rslora else alpha / r

    adapter = os.path.join(out, "adapter")
    os.makedirs(adapter, exist_ok=True)
    tensors = {}
    for m, (A, B) in lora.items():
        tensors[f"base_model.model.{m}.lora_A.weight"] = A
        tensors[f"base_model.model.{m}.lora_B.weight"] = B
    for k, v in list(head.items()) + list(trained_bias.items()):
        tensors["base_model.model." + k] = v
    bert_twin.write_safetensors(os.path.join(adapter, "adapter_model.safetensors"), tensors)
    target_list = "all-linear" if targets == "all-linear" else sorted(set(targets.split(",")))
    config = {  # what PEFT 0.10–0.13 writes for get_peft_model(bert, LoraConfig(task_type="SEQ_CLS", ...))
        "alpha_pattern": {}, "auto_mapping": None, "base_model_name_or_path": os.path.abspath(out), "bias": bias,
        "fan_in_fan_out": family == "gpt2", "inference_mode": True, "init_lora_weights": True, "layer_replication": None,
        "layers_pattern": None, "layers_to_transform": None, "loftq_config": {}, "lora_alpha": alpha,
        "lora_dropout": 0.0, "megatron_config": None, "megatron_core": "megatron.core",
        "modules_to_save": ["classifier", "score"], "peft_type": "LORA", "r": r, "rank_pattern": {},
        "revision": None, "target_modules": target_list, "task_type": "SEQ_CLS", "use_dora": False,
        "use_rslora": rslora,
    }
    with open(os.path.join(adapter, "adapter_config.json"), "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)

    expected = {}
    for dtype, suffix in ((torch.float32, ""), (torch.float64, "64")):
        logits, loss, Pd, Ld = run(family, Pmod, lora, cfg, x, scaling, dtype)
        expected["logits" + suffix] = logits.detach().float()
        expected["loss" + suffix] = loss.detach().float().reshape([])
        for m, (A, B) in Ld.items():
            expected[f"grad{suffix}.{m}.lora_A.weight"] = A.grad.float()
            expected[f"grad{suffix}.{m}.lora_B.weight"] = B.grad.float()
        for k in list(head) + list(trained_bias):
            expected[f"grad{suffix}.{k}"] = Pd[k].grad.float()
    bert_twin.write_safetensors(os.path.join(out, "lora_expected.safetensors"), expected)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("gen")
    g.add_argument("--out", required=True)
    g.add_argument("--family", default="bert", choices=["bert", "gpt2", "qwen2", "llama", "modernbert", "deberta-v2"])
    g.add_argument("--targets", default=None, help="comma-separated module names or all-linear (default: PEFT's "
                   "default target modules of the family)")
    g.add_argument("--r", type=int, default=4)
    g.add_argument("--alpha", type=float, default=8.0)
    g.add_argument("--rslora", action="store_true")
    g.add_argument("--bias", default="none", choices=["none", "all"])
    g.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    targets = a.targets or PEFT_DEFAULT_TARGETS.get(a.family)
    if targets is None:
        ap.error(f"PEFT has no default target modules for {a.family}: pass --targets")
    generate(a.out, a.family, targets, a.r, a.alpha, a.rslora, a.bias, a.seed)


if __name__ == "__main__":
    main()
