#!/usr/bin/python3
"""PyTorch twin of accent's RoBERTa, ELECTRA, DistilBERT, GPT-2, Qwen2, Llama, ModernBERT and DeBERTa-v2/v3
sequence classifiers (tests/unit/models_family_twin_test.cpp, tests/unit/cli_families_test.cpp run it).

HF's math (spec checkpoints.md §5; transformers modeling_roberta / modeling_electra / modeling_distilbert /
modeling_gpt2 / modeling_qwen2 / modeling_llama / modeling_modernbert / modeling_deberta_v2, eager attention) restated
in plain torch functional calls, dropout off unless train=True.
`gen` writes into --out, like bert_twin.py:
  config.json, model.safetensors      random weights of the family (HF names, HF state-dict order)
  inputs.safetensors                  input_ids, token_type_ids, attention_mask (I64, (B,T)), labels
  expected.safetensors                logits, loss, grad.<name> (fp32) and logits64, loss64, grad64.<name> (float64)
  with --bin also pytorch_model.bin (torch.save of the same state dict; a second directory <out>_bin holds the
  .bin alone, <out>_sharded holds pytorch_model.bin.index.json + two shards).
`logits` computes the logits of an existing directory (model.safetensors) for an inputs.safetensors.
Run with /usr/bin/python3 (Debian python3-torch).
"""
import argparse
import json
import math
import os
import shutil
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bert_twin import ACTIVATIONS, loss_of, read_safetensors, write_safetensors  # noqa: E402
import decoder_ops_twin  # noqa: E402

MIN = torch.finfo(torch.float32).min
ACTIVATIONS = dict(ACTIVATIONS, silu=F.silu)
DECODERS = ("qwen2", "llama")
FAMILIES = ["roberta", "electra", "distilbert", "gpt2", "qwen2", "llama", "modernbert", "deberta-v2"]


def gelu_exact(x):
    return F.gelu(x)


# ---------------------------------------------------------------- configs and parameter shapes
def make_config(family, C, problem_type, act, vocab):
    labels = dict(id2label={str(i): f"LABEL_{i}" for i in range(C)}, label2id={f"LABEL_{i}": i for i in range(C)},
                  problem_type=problem_type, initializer_range=0.02)
    if family == "bert":
        return dict(labels, model_type="bert", architectures=["BertForPreTraining"], vocab_size=vocab, hidden_size=64,
                    num_hidden_layers=2, num_attention_heads=4, intermediate_size=128, max_position_embeddings=64,
                    type_vocab_size=2, hidden_act=act, layer_norm_eps=1e-12, hidden_dropout_prob=0.0,
                    attention_probs_dropout_prob=0.0, pad_token_id=0, position_embedding_type="absolute")
    if family == "roberta":
        return dict(labels, model_type="roberta", architectures=["RobertaForMaskedLM"], vocab_size=vocab,
                    hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=128,
                    max_position_embeddings=40, type_vocab_size=1, hidden_act=act, layer_norm_eps=1e-5,
                    hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, pad_token_id=1, bos_token_id=0,
                    eos_token_id=2, position_embedding_type="absolute")
    if family == "electra":
        return dict(labels, model_type="electra", architectures=["ElectraForPreTraining"], vocab_size=vocab,
                    embedding_size=32, hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                    intermediate_size=128, max_position_embeddings=64, type_vocab_size=2, hidden_act=act,
                    layer_norm_eps=1e-12, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
                    pad_token_id=0, position_embedding_type="absolute")
    if family == "distilbert":
        return dict(labels, model_type="distilbert", architectures=["DistilBertForMaskedLM"], vocab_size=vocab,
                    dim=64, n_layers=2, n_heads=4, hidden_dim=128, max_position_embeddings=64, activation=act,
                    dropout=0.0, attention_dropout=0.0, seq_classif_dropout=0.0, pad_token_id=0,
                    sinusoidal_pos_embds=False)
    if family == "gpt2":
        return dict(labels, model_type="gpt2", architectures=["GPT2LMHeadModel"], vocab_size=vocab, n_embd=64,
                    n_layer=2, n_head=4, n_inner=None, n_positions=64, activation_function=act,
                    layer_norm_epsilon=1e-5, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, bos_token_id=vocab - 1,
                    eos_token_id=vocab - 1, pad_token_id=vocab - 1)
    if family == "qwen2":  # Qwen2.5's layout: no pad_token_id (pad = eos), tied embeddings, q/k/v biases
        return dict(labels, model_type="qwen2", architectures=["Qwen2ForCausalLM"], vocab_size=vocab, hidden_size=64,
                    intermediate_size=96, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                    max_position_embeddings=64, rms_norm_eps=1e-6, rope_theta=1000000.0, hidden_act=act,
                    attention_dropout=0.0, tie_word_embeddings=True, use_sliding_window=False,
                    bos_token_id=vocab - 1, eos_token_id=vocab - 1)
    if family == "llama":  # Llama-3's layout, with head_dim ≠ H/NH, every bias on and a llama3 rope_scaling that
        # reaches all three frequency bands at this head size
        return dict(labels, model_type="llama", architectures=["LlamaForCausalLM"], vocab_size=vocab, hidden_size=64,
                    intermediate_size=96, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=1,
                    head_dim=32, max_position_embeddings=64, rms_norm_eps=1e-5, rope_theta=500000.0, hidden_act=act,
                    attention_dropout=0.0, attention_bias=True, mlp_bias=True, pad_token_id=0, bos_token_id=1,
                    eos_token_id=2, rope_scaling=dict(rope_type="llama3", factor=32.0, low_freq_factor=1.0,
                                                      high_freq_factor=4.0, original_max_position_embeddings=16))
    if family == "modernbert":  # ModernBERT-base's layout at a tiny size: a local window of 8 so that it masks at T=16
        return dict(labels, model_type="modernbert", architectures=["ModernBertForMaskedLM"], vocab_size=vocab,
                    hidden_size=64, intermediate_size=96, num_hidden_layers=3, num_attention_heads=4,
                    hidden_activation=act, max_position_embeddings=64, norm_eps=1e-5, norm_bias=False,
                    attention_bias=False, mlp_bias=False, classifier_bias=False, classifier_activation="gelu",
                    classifier_pooling="cls", classifier_dropout=0.0, attention_dropout=0.0, embedding_dropout=0.0,
                    mlp_dropout=0.0, global_attn_every_n_layers=2, local_attention=8, global_rope_theta=160000.0,
                    local_rope_theta=10000.0, pad_token_id=1, bos_token_id=0, eos_token_id=2, cls_token_id=0,
                    sep_token_id=2, initializer_cutoff_factor=2.0)
    if family == "deberta-v2":  # DeBERTa-v3-base's layout at a tiny size: no absolute positions, no token types,
        # relative attention (c2p + p2c, shared keys) over log buckets; 8 buckets (mid = 4) so that T = 16 reaches
        # the log range (|i − j| > 4), LayerNorm'd rel_embeddings, the ContextPooler
        return dict(labels, model_type="deberta-v2", architectures=["DebertaV2ForMaskedLM"], vocab_size=vocab,
                    hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=128, hidden_act=act,
                    layer_norm_eps=1e-7, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
                    max_position_embeddings=64, type_vocab_size=0, position_biased_input=False,
                    relative_attention=True, max_relative_positions=-1, position_buckets=8, norm_rel_ebd="layer_norm",
                    share_att_key=True, pos_att_type=["p2c", "c2p"], pooler_hidden_size=64, pooler_hidden_act="gelu",
                    pooler_dropout=0.0, pad_token_id=0)
    raise ValueError(family)


def decoder_dims(cfg):
    H, NH = cfg["hidden_size"], cfg["num_attention_heads"]
    return H, NH, cfg.get("num_key_value_heads") or NH, cfg.get("head_dim") or H // NH


def shapes(family, cfg):
    C = len(cfg["id2label"])
    V = cfg["vocab_size"]
    if family in ("bert", "roberta", "electra"):
        H, I, P, TV = cfg["hidden_size"], cfg["intermediate_size"], cfg["max_position_embeddings"], cfg["type_vocab_size"]
        E = cfg.get("embedding_size") or H
        b = family
        out = [(f"{b}.embeddings.word_embeddings.weight", (V, E)), (f"{b}.embeddings.position_embeddings.weight", (P, E)),
               (f"{b}.embeddings.token_type_embeddings.weight", (TV, E)), (f"{b}.embeddings.LayerNorm.weight", (E,)),
               (f"{b}.embeddings.LayerNorm.bias", (E,))]
        if E != H:
            out += [(f"{b}.embeddings_project.weight", (H, E)), (f"{b}.embeddings_project.bias", (H,))]
        for l in range(cfg["num_hidden_layers"]):
            p = f"{b}.encoder.layer.{l}."
            for m, o, i in [("attention.self.query", H, H), ("attention.self.key", H, H), ("attention.self.value", H, H),
                            ("attention.output.dense", H, H), ("attention.output.LayerNorm", H, None),
                            ("intermediate.dense", I, H), ("output.dense", H, I), ("output.LayerNorm", H, None)]:
                out += [(p + m + ".weight", (o, i) if i else (o,)), (p + m + ".bias", (o,))]
        if family == "bert":
            return out + [("bert.pooler.dense.weight", (H, H)), ("bert.pooler.dense.bias", (H,)),
                          ("classifier.weight", (C, H)), ("classifier.bias", (C,))]
        return out + [("classifier.dense.weight", (H, H)), ("classifier.dense.bias", (H,)),
                      ("classifier.out_proj.weight", (C, H)), ("classifier.out_proj.bias", (C,))]
    if family == "distilbert":
        H, I, P = cfg["dim"], cfg["hidden_dim"], cfg["max_position_embeddings"]
        out = [("distilbert.embeddings.word_embeddings.weight", (V, H)),
               ("distilbert.embeddings.position_embeddings.weight", (P, H)),
               ("distilbert.embeddings.LayerNorm.weight", (H,)), ("distilbert.embeddings.LayerNorm.bias", (H,))]
        for l in range(cfg["n_layers"]):
            p = f"distilbert.transformer.layer.{l}."
            for m, o, i in [("attention.q_lin", H, H), ("attention.k_lin", H, H), ("attention.v_lin", H, H),
                            ("attention.out_lin", H, H), ("sa_layer_norm", H, None), ("ffn.lin1", I, H),
                            ("ffn.lin2", H, I), ("output_layer_norm", H, None)]:
                out += [(p + m + ".weight", (o, i) if i else (o,)), (p + m + ".bias", (o,))]
        return out + [("pre_classifier.weight", (H, H)), ("pre_classifier.bias", (H,)), ("classifier.weight", (C, H)),
                      ("classifier.bias", (C,))]
    if family == "modernbert":
        H, I = cfg["hidden_size"], cfg["intermediate_size"]
        out = [("model.embeddings.tok_embeddings.weight", (V, H)), ("model.embeddings.norm.weight", (H,))]
        for l in range(cfg["num_hidden_layers"]):
            p = f"model.layers.{l}."
            if l > 0:
                out.append((p + "attn_norm.weight", (H,)))
            out += [(p + "attn.Wqkv.weight", (3 * H, H)), (p + "attn.Wo.weight", (H, H)), (p + "mlp_norm.weight", (H,)),
                    (p + "mlp.Wi.weight", (2 * I, H)), (p + "mlp.Wo.weight", (H, I))]
        return out + [("model.final_norm.weight", (H,)), ("head.dense.weight", (H, H)), ("head.norm.weight", (H,)),
                      ("classifier.weight", (C, H)), ("classifier.bias", (C,))]
    if family == "deberta-v2":
        return deberta_shapes(cfg)
    if family in DECODERS:
        H, NH, NKV, D = decoder_dims(cfg)
        I = cfg["intermediate_size"]
        qkv_bias = family == "qwen2" or cfg.get("attention_bias", False)
        o_bias = family == "llama" and cfg.get("attention_bias", False)
        mlp_bias = family == "llama" and cfg.get("mlp_bias", False)
        out = [("model.embed_tokens.weight", (V, H))]
        for l in range(cfg["num_hidden_layers"]):
            p = f"model.layers.{l}."
            for m, o, i, bias in [("self_attn.q_proj", NH * D, H, qkv_bias), ("self_attn.k_proj", NKV * D, H, qkv_bias),
                                  ("self_attn.v_proj", NKV * D, H, qkv_bias), ("self_attn.o_proj", H, NH * D, o_bias),
                                  ("mlp.gate_proj", I, H, mlp_bias), ("mlp.up_proj", I, H, mlp_bias),
                                  ("mlp.down_proj", H, I, mlp_bias)]:
                out.append((p + m + ".weight", (o, i)))
                if bias:
                    out.append((p + m + ".bias", (o,)))
            out += [(p + "input_layernorm.weight", (H,)), (p + "post_attention_layernorm.weight", (H,))]
        return out + [("model.norm.weight", (H,)), ("score.weight", (C, H))]
    H, P = cfg["n_embd"], cfg["n_positions"]
    I = cfg["n_inner"] or 4 * H
    out = [("transformer.wte.weight", (V, H)), ("transformer.wpe.weight", (P, H))]
    for l in range(cfg["n_layer"]):
        p = f"transformer.h.{l}."
        out += [(p + "ln_1.weight", (H,)), (p + "ln_1.bias", (H,)), (p + "attn.c_attn.weight", (H, 3 * H)),
                (p + "attn.c_attn.bias", (3 * H,)), (p + "attn.c_proj.weight", (H, H)), (p + "attn.c_proj.bias", (H,)),
                (p + "ln_2.weight", (H,)), (p + "ln_2.bias", (H,)), (p + "mlp.c_fc.weight", (H, I)),
                (p + "mlp.c_fc.bias", (I,)), (p + "mlp.c_proj.weight", (I, H)), (p + "mlp.c_proj.bias", (H,))]
    return out + [("transformer.ln_f.weight", (H,)), ("transformer.ln_f.bias", (H,)), ("score.weight", (C, H))]


# ---------------------------------------------------------------- forward math
def bert_encoder(P, prefix, x, ext, cfg, act, drop_h, drop_a, attentions=None):
    B, T, H = x.shape
    NH, eps = cfg["num_attention_heads"], cfg["layer_norm_eps"]
    D = H // NH
    lin = lambda v, name: F.linear(v, P[name + ".weight"], P[name + ".bias"])
    heads = lambda v: v.view(B, T, NH, D).permute(0, 2, 1, 3)
    ln = lambda v, name: F.layer_norm(v, (H,), P[name + ".weight"], P[name + ".bias"], eps)
    for l in range(cfg["num_hidden_layers"]):
        p = f"{prefix}.layer.{l}."
        q, k, v = (heads(lin(x, p + "attention.self." + m)) for m in ("query", "key", "value"))
        probs = torch.softmax(torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(D) + ext, dim=-1)
        if attentions is not None:
            attentions.append(probs)
        probs = drop_a(probs)
        ctx = torch.matmul(probs, v).permute(0, 2, 1, 3).contiguous().view(B, T, H)
        x = ln(drop_h(lin(ctx, p + "attention.output.dense")) + x, p + "attention.output.LayerNorm")
        x = ln(drop_h(lin(act(lin(x, p + "intermediate.dense")), p + "output.dense")) + x, p + "output.LayerNorm")
    return x


def conv1d(x, weight, bias):
    """transformers' Conv1D (GPT-2): x·W + b with W stored (in, out). Module-level so that lora_twin.py can add
    PEFT's LoRA branch to it."""
    return torch.addmm(bias, x.reshape(-1, x.shape[-1]), weight).view(*x.shape[:-1], weight.shape[1])


def rotary_inv_freq(cfg, D):
    """_compute_default_rope_parameters / _compute_llama3_parameters (fp32, as transformers)."""
    rs = cfg.get("rope_scaling")
    theta = cfg.get("rope_theta", 10000.0)
    if not rs or rs.get("rope_type", rs.get("type")) == "default":
        return decoder_ops_twin.default_inv_freq(D, theta)
    return decoder_ops_twin.llama3_inv_freq(D, theta, rs)


def decoder_hidden(family, P, cfg, ids, mask, train=False):
    """Qwen2Model / LlamaModel (eager attention): embed_tokens, pre-norm layers with RoPE, grouped K/V heads and the
    gated MLP, then the final RMSNorm."""
    B, T = ids.shape
    H, NH, NKV, D = decoder_dims(cfg)
    eps, act = cfg["rms_norm_eps"], ACTIVATIONS[cfg["hidden_act"]]
    dtype = P["model.embed_tokens.weight"].dtype

    def rms(x, name):  # Qwen2RMSNorm: statistics in fp32 (here: the parameters' dtype), weight after
        return P[name + ".weight"] * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))

    def lin(x, name):
        return F.linear(x, P[name + ".weight"], P.get(name + ".bias"))

    freqs = torch.arange(T).float()[:, None] * rotary_inv_freq(cfg, D)[None, :]  # fp32 angles, positions 0..T−1
    emb = torch.cat((freqs, freqs), dim=-1).to(dtype)
    cos, sin = emb.cos(), emb.sin()
    rotate_half = lambda x: torch.cat((-x[..., D // 2:], x[..., :D // 2]), dim=-1)
    rope = lambda x: x * cos + rotate_half(x) * sin
    allowed = torch.tril(torch.ones(T, T, dtype=torch.bool))[None, None] & mask.bool()[:, None, None, :]
    mask_add = torch.zeros(allowed.shape).masked_fill(~allowed, MIN)
    x = P["model.embed_tokens.weight"][ids]
    for l in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{l}."
        a = rms(x, p + "input_layernorm")
        q = lin(a, p + "self_attn.q_proj").view(B, T, NH, D).transpose(1, 2)
        k = lin(a, p + "self_attn.k_proj").view(B, T, NKV, D).transpose(1, 2)
        v = lin(a, p + "self_attn.v_proj").view(B, T, NKV, D).transpose(1, 2)
        q, k = rope(q), rope(k)
        rep = lambda t: t[:, :, None].expand(B, NKV, NH // NKV, T, D).reshape(B, NH, T, D)  # repeat_kv
        w = torch.matmul(q, rep(k).transpose(2, 3)) * D ** -0.5
        w = w + mask_add  # fp32 finfo.min where masked, as HF's causal_mask (the sum promotes a bf16 w to fp32)
        w = F.dropout(torch.softmax(w, dim=-1).to(v.dtype), cfg["attention_dropout"], training=train)
        ctx = torch.matmul(w, rep(v)).transpose(1, 2).reshape(B, T, NH * D)
        x = x + lin(ctx, p + "self_attn.o_proj")
        m = rms(x, p + "post_attention_layernorm")
        x = x + lin(act(lin(m, p + "mlp.gate_proj")) * lin(m, p + "mlp.up_proj"), p + "mlp.down_proj")
    return rms(x, "model.norm")


def modernbert_hidden(P, cfg, ids, mask, train=False):
    """ModernBertModel, eager attention: embeddings (no positions) + LayerNorm without bias, pre-norm layers (none
    before layer 0's attention) with fused Wqkv, RoPE (global / local theta), the sliding-window mask on every layer
    l % global_attn_every_n_layers != 0, the GLU MLP; final_norm."""
    B, T = ids.shape
    H, NH = cfg["hidden_size"], cfg["num_attention_heads"]
    D, eps, act = H // NH, cfg["norm_eps"], ACTIVATIONS[cfg["hidden_activation"]]
    # In the norm's dtype: under CPU autocast (bench), torch 2.x runs layer_norm in fp32, torch 1.13 refuses a bf16
    # input with an fp32 weight and no bias.
    ln = lambda x, name: F.layer_norm(x.to(P[name + ".weight"].dtype), (H,), P[name + ".weight"], P.get(name + ".bias"),
                                      eps)
    lin = lambda x, name: F.linear(x, P[name + ".weight"], P.get(name + ".bias"))
    drop = lambda x, p: F.dropout(x, p, training=train)
    dtype = P["model.embeddings.tok_embeddings.weight"].dtype
    ropes = {}
    for kind, theta in (("global", cfg["global_rope_theta"]), ("local", cfg["local_rope_theta"])):
        freqs = torch.arange(T).float()[:, None] * decoder_ops_twin.default_inv_freq(D, theta)[None, :]
        emb = torch.cat((freqs, freqs), dim=-1).to(dtype)
        ropes[kind] = (emb.cos(), emb.sin())
    rotate_half = lambda x: torch.cat((-x[..., D // 2:], x[..., :D // 2]), dim=-1)
    global_mask = ((1.0 - mask[:, None, None, :].to(torch.float32)) * MIN).expand(B, 1, T, T)
    distance = (torch.arange(T)[None, :] - torch.arange(T)[:, None]).abs()
    window = (distance <= cfg["local_attention"] // 2)[None, None]
    sliding_mask = global_mask.masked_fill(~window, MIN)
    x = drop(ln(P["model.embeddings.tok_embeddings.weight"][ids], "model.embeddings.norm"), cfg["embedding_dropout"])
    for l in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{l}."
        local = l % cfg["global_attn_every_n_layers"] != 0
        a = x if l == 0 else ln(x, p + "attn_norm")
        qkv = lin(a, p + "attn.Wqkv").view(B, T, 3, NH, D)
        q, k, v = qkv.transpose(3, 1).unbind(dim=2)  # (B, NH, T, D) each
        cos, sin = ropes["local" if local else "global"]
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        w = torch.matmul(q, k.transpose(2, 3)) * D ** -0.5 + (sliding_mask if local else global_mask)
        w = F.dropout(torch.softmax(w, dim=-1).to(v.dtype), cfg["attention_dropout"], training=train)
        ctx = torch.matmul(w, v).transpose(1, 2).reshape(B, T, H)
        x = x + drop(lin(ctx, p + "attn.Wo"), cfg["attention_dropout"])
        inp, gate = lin(ln(x, p + "mlp_norm"), p + "mlp.Wi").chunk(2, dim=-1)
        x = x + lin(drop(act(inp) * gate, cfg["mlp_dropout"]), p + "mlp.Wo")
    return ln(x, "model.final_norm")


def modernbert_head(P, cfg, x, train=False):
    """ModernBertPredictionHead (dense, act, norm), then the classifier's dropout."""
    H = cfg["hidden_size"]
    h = F.linear(x, P["head.dense.weight"], P.get("head.dense.bias"))
    h = ACTIVATIONS[cfg["classifier_activation"]](h).to(P["head.norm.weight"].dtype)  # as modernbert_hidden's ln
    h = F.layer_norm(h, (H,), P["head.norm.weight"], P.get("head.norm.bias"), cfg["norm_eps"])
    return F.dropout(h, cfg["classifier_dropout"], training=train)


# ---------------------------------------------------------------- DeBERTa-v2/v3 (modeling_deberta_v2)
def deberta_settings(cfg):
    """The config as DebertaV2Config / the modules read it (getattr defaults where a key is absent; pos_att_type
    may be HF's legacy "p2c|c2p" string)."""
    H = cfg["hidden_size"]
    NH = cfg["num_attention_heads"]
    pat = cfg.get("pos_att_type") or []
    if isinstance(pat, str):
        pat = [x.strip() for x in pat.lower().split("|")]
    max_rel = cfg.get("max_relative_positions", -1)
    if max_rel < 1:
        max_rel = cfg.get("max_position_embeddings", 512)
    buckets = cfg.get("position_buckets", -1)
    cls_drop = cfg.get("cls_dropout")
    return dict(H=H, NH=NH, D=cfg.get("attention_head_size") or H // NH, E=cfg.get("embedding_size") or H,
                I=cfg["intermediate_size"], eps=cfg.get("layer_norm_eps", 1e-7), pad=cfg.get("pad_token_id", 0),
                TV=cfg.get("type_vocab_size", 0), biased=cfg.get("position_biased_input", True),
                P=cfg.get("max_position_embeddings", 512), rel=cfg.get("relative_attention", False),
                max_rel=max_rel, buckets=buckets, span=buckets if buckets > 0 else max_rel,
                norm_rel=[x.strip() for x in cfg.get("norm_rel_ebd", "none").lower().split("|")],
                share=cfg.get("share_att_key", False), pat=pat, hp=cfg.get("hidden_dropout_prob", 0.1),
                ap=cfg.get("attention_probs_dropout_prob", 0.1), act=cfg.get("hidden_act", "gelu"),
                PH=cfg.get("pooler_hidden_size", H), pooler_act=cfg.get("pooler_hidden_act", "gelu"),
                pooler_drop=cfg.get("pooler_dropout", 0.0),
                cls_drop=cfg.get("hidden_dropout_prob", 0.1) if cls_drop is None else cls_drop)


def deberta_shapes(cfg):
    """DebertaV2ForSequenceClassification's state dict, in its order (embeddings, encoder layers, rel_embeddings,
    encoder LayerNorm, pooler, classifier)."""
    s = deberta_settings(cfg)
    assert not cfg.get("conv_kernel_size"), "the twin has no ConvLayer (DeBERTa-v2-xlarge's conv_kernel_size)"
    H, E, I, A = s["H"], s["E"], s["I"], s["NH"] * s["D"]
    C = len(cfg["id2label"])
    p = "deberta.embeddings."
    out = [(p + "word_embeddings.weight", (cfg["vocab_size"], E))]
    if s["biased"]:
        out.append((p + "position_embeddings.weight", (s["P"], E)))
    if s["TV"] > 0:
        out.append((p + "token_type_embeddings.weight", (s["TV"], E)))
    if E != H:
        out.append((p + "embed_proj.weight", (H, E)))  # bias=False
    out += [(p + "LayerNorm.weight", (H,)), (p + "LayerNorm.bias", (H,))]
    mods = [("attention.self.query_proj", A, H), ("attention.self.key_proj", A, H), ("attention.self.value_proj", A, H)]
    if s["rel"] and not s["share"]:
        if "c2p" in s["pat"]:
            mods.append(("attention.self.pos_key_proj", A, H))
        if "p2c" in s["pat"]:
            mods.append(("attention.self.pos_query_proj", A, H))
    mods += [("attention.output.dense", H, A), ("attention.output.LayerNorm", H, None), ("intermediate.dense", I, H),
             ("output.dense", H, I), ("output.LayerNorm", H, None)]
    for l in range(cfg["num_hidden_layers"]):
        for m, o, i in mods:
            q = f"deberta.encoder.layer.{l}.{m}"
            out += [(q + ".weight", (o, i) if i else (o,)), (q + ".bias", (o,))]
    if s["rel"]:
        out.append(("deberta.encoder.rel_embeddings.weight", (2 * s["span"], H)))
    if "layer_norm" in s["norm_rel"]:
        out += [("deberta.encoder.LayerNorm.weight", (H,)), ("deberta.encoder.LayerNorm.bias", (H,))]
    return out + [("pooler.dense.weight", (s["PH"], s["PH"])), ("pooler.dense.bias", (s["PH"],)),
                  ("classifier.weight", (C, H)), ("classifier.bias", (C,))]  # ContextPooler.output_dim = hidden_size


def deberta_log_bucket_position(relative_pos, bucket_size: int, max_position: int):
    """make_log_bucket_position, op for op: int64 in; abs_pos / mid and the logs in float32 (the default dtype; HF
    runs it under torch.jit.script, which gives the same table: deberta_bucket_check.py), float32 out."""
    sign = torch.sign(relative_pos)
    mid = bucket_size // 2
    abs_pos = torch.where((relative_pos < mid) & (relative_pos > -mid), torch.tensor(mid - 1).type_as(relative_pos),
                          torch.abs(relative_pos))
    log_pos = torch.ceil(torch.log(abs_pos / mid) / torch.log(torch.tensor((max_position - 1) / mid)) * (mid - 1)) + mid
    return torch.where(abs_pos <= mid, relative_pos.type_as(log_pos), log_pos * sign)


def deberta_relative_position(T, bucket_size, max_position):
    """build_relative_position(q = k = T): rel[i][j] = i − j, bucketed when bucket_size > 0 (and max_position > 0),
    as int64 (T, T)."""
    q = torch.arange(T, dtype=torch.long)
    rel = q[:, None] - q[None, :]
    if bucket_size > 0 and max_position > 0:
        rel = deberta_log_bucket_position(rel, bucket_size, max_position)
    return rel.to(torch.long)


def deberta_hidden(P, cfg, ids, tt, mask, train=False, word_vectors=None, attentions=None):
    """DebertaV2Model (current transformers, nn.Dropout, no XSoftmax): embeddings → LayerNorm → × mask → dropout;
    layers of DisentangledSelfAttention (c2p / p2c over the LayerNorm'd rel_embeddings, positions bucketed by
    make_log_bucket_position) in HF's op order, so fp32 results match transformers bit for bit."""
    s = deberta_settings(cfg)
    B, T = ids.shape
    H, NH, D, eps, span = s["H"], s["NH"], s["D"], s["eps"], s["span"]
    act = ACTIVATIONS[s["act"]]
    drop_h = lambda v: F.dropout(v, s["hp"], training=train)
    lin = lambda v, name: F.linear(v, P[name + ".weight"], P.get(name + ".bias"))
    ln = lambda v, name: F.layer_norm(v, (H,), P[name + ".weight"], P[name + ".bias"], eps)

    # DebertaV2Embeddings
    p = "deberta.embeddings."
    e = F.embedding(ids, P[p + "word_embeddings.weight"], padding_idx=s["pad"]) if word_vectors is None \
        else word_vectors
    if s["biased"]:
        e = e + F.embedding(torch.arange(T).expand(B, T), P[p + "position_embeddings.weight"])
    if s["TV"] > 0:
        e = e + F.embedding(tt, P[p + "token_type_embeddings.weight"])
    if p + "embed_proj.weight" in P:
        e = lin(e, p + "embed_proj")
    x = drop_h(ln(e, p + "LayerNorm") * mask.unsqueeze(2).to(e.dtype))

    # DebertaV2Encoder: the (B, 1, T, T) mask m_i·m_j, the relative positions, the normalised rel_embeddings
    ext = mask.unsqueeze(1).unsqueeze(2)
    att_mask = (ext * ext.squeeze(-2).unsqueeze(-1)).bool()
    rel_emb = rel_pos = None
    if s["rel"]:
        rel_pos = deberta_relative_position(T, s["buckets"], s["max_rel"])
        rel_emb = P["deberta.encoder.rel_embeddings.weight"]
        if "layer_norm" in s["norm_rel"]:
            rel_emb = ln(rel_emb, "deberta.encoder.LayerNorm")

    def heads(v):  # transpose_for_scores: (B, L, NH·D) → (B·NH, L, D)
        v = v.view(v.shape[0], v.shape[1], NH, -1)
        return v.permute(0, 2, 1, 3).contiguous().view(-1, v.shape[1], v.shape[-1])

    scale_factor = 1 + ("c2p" in s["pat"]) + ("p2c" in s["pat"])
    for l in range(cfg["num_hidden_layers"]):
        a = f"deberta.encoder.layer.{l}.attention."
        q, k, v = (heads(lin(x, a + "self." + m)) for m in ("query_proj", "key_proj", "value_proj"))
        # scaled_size_sqrt: sqrt in fp32, then cast to the query's dtype; K is divided before the product
        scale = torch.sqrt(torch.tensor(q.size(-1), dtype=torch.float) * scale_factor).to(q.dtype)
        scores = torch.bmm(q, k.transpose(-1, -2) / scale)
        if s["rel"]:  # disentangled_attention_bias
            r = F.dropout(rel_emb, s["hp"], training=train)[0:span * 2, :].unsqueeze(0)  # pos_dropout, per layer
            rep = lambda t: t.repeat(q.size(0) // NH, 1, 1)
            if s["share"]:
                pos_q, pos_k = rep(heads(lin(r, a + "self.query_proj"))), rep(heads(lin(r, a + "self.key_proj")))
            else:
                pos_k = rep(heads(lin(r, a + "self.pos_key_proj"))) if "c2p" in s["pat"] else None
                pos_q = rep(heads(lin(r, a + "self.pos_query_proj"))) if "p2c" in s["pat"] else None
            score = 0
            if "c2p" in s["pat"]:
                c2p_pos = torch.clamp(rel_pos + span, 0, span * 2 - 1)
                c2p = torch.gather(torch.bmm(q, pos_k.transpose(-1, -2)), -1, c2p_pos.expand(q.size(0), T, T))
                score = score + c2p / scale
            if "p2c" in s["pat"]:
                p2c_pos = torch.clamp(-rel_pos + span, 0, span * 2 - 1)
                p2c = torch.gather(torch.bmm(k, pos_q.transpose(-1, -2)), -1, p2c_pos.expand(q.size(0), T, T))
                score = score + p2c.transpose(-1, -2) / scale
            scores = scores + score
        scores = scores.view(-1, NH, T, T).masked_fill(~att_mask, torch.finfo(q.dtype).min)
        # plain softmax: a fully masked row (a padded query) comes out uniform over all T keys (no XSoftmax zeroing)
        probs = F.dropout(torch.softmax(scores, dim=-1), s["ap"], training=train)
        if attentions is not None:
            attentions.append(probs)  # HF returns the probabilities after dropout (the same in eval)
        ctx = torch.bmm(probs.view(-1, T, T), v).view(-1, NH, T, D).permute(0, 2, 1, 3).contiguous().view(B, T, -1)
        x = ln(drop_h(lin(ctx, a + "output.dense")) + x, a + "output.LayerNorm")
        o = f"deberta.encoder.layer.{l}."
        x = ln(drop_h(lin(act(lin(x, o + "intermediate.dense")), o + "output.dense")) + x, o + "output.LayerNorm")
    return x


def deberta_pooled(P, cfg, x, train=False):
    """ContextPooler (dropout(pooler_dropout) on the first token, dense, ACT2FN[pooler_hidden_act]), then the
    classifier's dropout (cls_dropout, else hidden_dropout_prob)."""
    s = deberta_settings(cfg)
    h = F.dropout(x[:, 0], s["pooler_drop"], training=train)
    h = ACTIVATIONS[s["pooler_act"]](F.linear(h, P["pooler.dense.weight"], P["pooler.dense.bias"]))
    return F.dropout(h, s["cls_drop"], training=train)


def pad_of(family, cfg):
    """The id the head's pooling skips: pad_token_id, else (GPT-2 and the decoders) eos_token_id."""
    pad = cfg.get("pad_token_id")
    if pad is None and family in ("gpt2",) + DECODERS:
        eos = cfg["eos_token_id"]
        pad = eos[0] if isinstance(eos, list) else eos
    return pad


def hidden_of(family, P, cfg, ids, tt, mask, train=False, word_vectors=None, attentions=None):
    """The base model's last hidden states (B, T, H) of `family` (GPT-2: after ln_f, as GPT2Model returns them).
    For the encoder families, word_vectors (B, T, E) replace the word-embedding lookup (HF inputs_embeds; position
    ids still come from `ids`) and `attentions`, a list, receives every layer's probabilities (B, NH, T, T) before
    dropout (HF output_attentions=True)."""
    B, T = ids.shape
    if family in ("gpt2", "modernbert") + DECODERS:
        assert word_vectors is None and attentions is None, "the explain twin covers the encoder families"
    if family in DECODERS:
        return decoder_hidden(family, P, cfg, ids, mask, train)
    if family == "modernbert":
        return modernbert_hidden(P, cfg, ids, mask, train)
    if family == "deberta-v2":
        return deberta_hidden(P, cfg, ids, tt, mask, train, word_vectors, attentions)
    lin = lambda v, name, bias=True: F.linear(v, P[name + ".weight"], P[name + ".bias"] if bias else None)
    if family in ("bert", "roberta", "electra"):
        hp, ap = cfg["hidden_dropout_prob"], cfg["attention_probs_dropout_prob"]
        drop_h = lambda v: F.dropout(v, hp, training=train)
        drop_a = lambda v: F.dropout(v, ap, training=train)
        b, pad = family, cfg["pad_token_id"]
        E = cfg.get("embedding_size") or cfg["hidden_size"]
        if family == "roberta":  # create_position_ids_from_input_ids; token types default 0 (tokenizer gives none)
            m = ids.ne(pad).int()
            pos = (torch.cumsum(m, dim=1).type_as(m) * m).long() + pad
            tt = torch.zeros_like(ids)
        else:
            pos = torch.arange(T).expand(B, T)
        e = F.embedding(ids, P[f"{b}.embeddings.word_embeddings.weight"], padding_idx=pad) \
            if word_vectors is None else word_vectors
        e = e + F.embedding(tt, P[f"{b}.embeddings.token_type_embeddings.weight"])
        # RoBERTa's position embedding has padding_idx = pad (padded tokens sit at position pad: no gradient there).
        e = e + F.embedding(pos, P[f"{b}.embeddings.position_embeddings.weight"],
                            padding_idx=pad if family == "roberta" else None)
        x = drop_h(F.layer_norm(e, (E,), P[f"{b}.embeddings.LayerNorm.weight"], P[f"{b}.embeddings.LayerNorm.bias"],
                                cfg["layer_norm_eps"]))
        if f"{b}.embeddings_project.weight" in P:
            x = lin(x, f"{b}.embeddings_project")
        ext = (1.0 - mask[:, None, None, :].to(torch.float32)) * MIN
        return bert_encoder(P, f"{b}.encoder", x, ext, cfg, ACTIVATIONS[cfg["hidden_act"]], drop_h, drop_a, attentions)
    if family == "distilbert":
        H, NH, eps = cfg["dim"], cfg["n_heads"], 1e-12
        D = H // NH
        drop = lambda v: F.dropout(v, cfg["dropout"], training=train)
        act = ACTIVATIONS[cfg["activation"]]
        e = F.embedding(ids, P["distilbert.embeddings.word_embeddings.weight"], padding_idx=cfg["pad_token_id"]) \
            if word_vectors is None else word_vectors
        e = e + F.embedding(torch.arange(T).expand(B, T), P["distilbert.embeddings.position_embeddings.weight"])
        x = drop(F.layer_norm(e, (H,), P["distilbert.embeddings.LayerNorm.weight"],
                              P["distilbert.embeddings.LayerNorm.bias"], eps))
        heads = lambda v: v.view(B, T, NH, D).transpose(1, 2)
        ln = lambda v, name: F.layer_norm(v, (H,), P[name + ".weight"], P[name + ".bias"], eps)
        masked = (mask == 0).view(B, 1, 1, T)
        for l in range(cfg["n_layers"]):
            p = f"distilbert.transformer.layer.{l}."
            q = heads(lin(x, p + "attention.q_lin")) / math.sqrt(D)  # MultiHeadSelfAttention: q scaled first
            k, v = heads(lin(x, p + "attention.k_lin")), heads(lin(x, p + "attention.v_lin"))
            scores = torch.matmul(q, k.transpose(2, 3)).masked_fill(masked, MIN)
            w = torch.softmax(scores, dim=-1)
            if attentions is not None:
                attentions.append(w)
            w = F.dropout(w, cfg["attention_dropout"], training=train)
            ctx = torch.matmul(w, v).transpose(1, 2).contiguous().view(B, T, H)
            x = ln(lin(ctx, p + "attention.out_lin") + x, p + "sa_layer_norm")
            x = ln(drop(lin(act(lin(x, p + "ffn.lin1")), p + "ffn.lin2")) + x, p + "output_layer_norm")
        return x
    # gpt2
    H, NH, eps = cfg["n_embd"], cfg["n_head"], cfg["layer_norm_epsilon"]
    D = H // NH
    act = ACTIVATIONS[cfg["activation_function"]]
    drop_r = lambda v: F.dropout(v, cfg["resid_pdrop"], training=train)
    conv = lambda v, name: conv1d(v, P[name + ".weight"], P[name + ".bias"])
    ln = lambda v, name: F.layer_norm(v, (H,), P[name + ".weight"], P[name + ".bias"], eps)
    x = P["transformer.wte.weight"][ids] + P["transformer.wpe.weight"][torch.arange(T)][None]
    x = F.dropout(x, cfg["embd_pdrop"], training=train)
    causal = torch.tril(torch.ones(T, T, dtype=torch.bool)).view(1, 1, T, T)
    ext = (1.0 - mask[:, None, None, :].to(torch.float32)) * MIN
    heads = lambda v: v.view(B, T, NH, D).permute(0, 2, 1, 3)
    for l in range(cfg["n_layer"]):
        p = f"transformer.h.{l}."
        q, k, v = conv(ln(x, p + "ln_1"), p + "attn.c_attn").split(H, dim=2)
        q, k, v = heads(q), heads(k), heads(v)
        w = torch.matmul(q, k.transpose(-1, -2)) / torch.full([], v.size(-1) ** 0.5)
        w = torch.where(causal, w, torch.full([], MIN)) + ext
        w = F.dropout(torch.softmax(w, dim=-1), cfg["attn_pdrop"], training=train)
        a = torch.matmul(w, v).permute(0, 2, 1, 3).contiguous().view(B, T, H)
        x = x + drop_r(conv(a, p + "attn.c_proj"))
        x = x + drop_r(conv(act(conv(ln(x, p + "ln_2"), p + "mlp.c_fc")), p + "mlp.c_proj"))
    return ln(x, "transformer.ln_f")


def logits_of(family, P, cfg, ids, tt, mask, train=False, word_vectors=None, attentions=None):
    """HF sequence-classification logits of `family` (hidden_of, then the family's head)."""
    B, T = ids.shape
    x = hidden_of(family, P, cfg, ids, tt, mask, train, word_vectors, attentions)
    lin = lambda v, name, bias=True: F.linear(v, P[name + ".weight"], P[name + ".bias"] if bias else None)
    if family in ("bert", "roberta", "electra"):
        cd = cfg.get("classifier_dropout")
        cd = cfg["hidden_dropout_prob"] if cd is None else cd
        if family == "bert":  # BertPooler, then Dropout_c and the classifier
            return lin(F.dropout(torch.tanh(lin(x[:, 0], "bert.pooler.dense")), cd, training=train), "classifier")
        head_act = torch.tanh if family == "roberta" else gelu_exact
        h = F.dropout(x[:, 0, :], cd, training=train)
        h = F.dropout(head_act(lin(h, "classifier.dense")), cd, training=train)
        return lin(h, "classifier.out_proj")
    if family == "distilbert":
        h = F.dropout(F.relu(lin(x[:, 0], "pre_classifier")), cfg["seq_classif_dropout"], training=train)
        return lin(h, "classifier")
    if family == "modernbert":  # classifier_pooling: CLS, or the mean over the real tokens
        m = mask.to(x.dtype)
        pooled = x[:, 0] if cfg["classifier_pooling"] == "cls" else (x * m[..., None]).sum(1) / m.sum(1, keepdim=True)
        return lin(modernbert_head(P, cfg, pooled, train), "classifier")
    if family == "deberta-v2":  # DebertaV2ForSequenceClassification: ContextPooler, dropout, classifier
        return lin(deberta_pooled(P, cfg, x, train), "classifier")
    all_logits = F.linear(x, P["score.weight"])
    # GPT2/Qwen2/LlamaForSequenceClassification (v4 ≥ 4.48): the rightmost token whose id ≠ pad_token_id.
    non_pad = (ids != pad_of(family, cfg)).int()
    last = (torch.arange(T) * non_pad).argmax(-1)
    return all_logits[torch.arange(B), last]


# ---------------------------------------------------------------- generation
PROBLEMS = {"single": ("single_label_classification", 3), "multi": ("multi_label_classification", 4),
            "regression": ("regression", 1)}


def generate(out, family, problem, act, seed, with_bin, vocab=300, num_labels=None, pooling="cls"):
    problem_type, C = PROBLEMS[problem]
    C = num_labels or C
    V, B, T = vocab, 4, 16
    cfg = make_config(family, C, problem_type, act, V)
    if family == "modernbert":
        cfg["classifier_pooling"] = pooling
    g = torch.Generator().manual_seed(seed)
    P = {}
    for name, shape in shapes(family, cfg):
        norm = any(s in name for s in ("LayerNorm", "layer_norm", "ln_")) or name.endswith("norm.weight")
        if norm and name.endswith(".weight"):
            P[name] = 1.0 + 0.1 * torch.randn(shape, generator=g)
        else:
            P[name] = 0.05 * torch.randn(shape, generator=g)
    pad = pad_of(family, cfg)
    for name in P:  # padding rows of embeddings with padding_idx are zero in HF models
        if family == "llama" and name == "model.embed_tokens.weight":
            P[name][pad].zero_()
        if family != "gpt2" and name.endswith("word_embeddings.weight"):
            P[name][pad].zero_()
        if family == "roberta" and name.endswith("position_embeddings.weight"):
            P[name][pad].zero_()

    ids = torch.full((B, T), pad, dtype=torch.int64)
    tt = torch.zeros(B, T, dtype=torch.int64)
    mask = torch.zeros(B, T, dtype=torch.int64)
    for b in range(B):
        length = T if b == 0 else max(3, T - 3 * b)
        ids[b, :length] = torch.randint(3, V - 1, (length,), generator=g)
        if family == "electra":
            tt[b, max(1, length // 2):length] = 1
        mask[b, :length] = 1
    if problem == "single":
        labels = torch.randint(0, C, (B,), generator=g)
        labels[1] = -100
    elif problem == "multi":
        labels = torch.randint(0, 2, (B, C), generator=g).to(torch.float32)
    else:
        labels = torch.randn(B, C, generator=g) if C > 1 else torch.randn(B, generator=g)

    forward = lambda params: (lambda z: (z, loss_of(z, labels, cfg)))(logits_of(family, params, cfg, ids, tt, mask))
    state = write_twin_dir(out, cfg, P, forward,
                           {"input_ids": ids, "token_type_ids": tt, "attention_mask": mask, "labels": labels})
    if with_bin:
        write_bin_variants(out, state)


def write_twin_dir(out, cfg, P, forward, inputs):
    """config.json, model.safetensors (P), inputs.safetensors and expected.safetensors: logits, loss and every
    parameter's gradient of `forward(params) -> (logits, loss)` in fp32 (PyTorch's own rounding) and in float64
    (logits64, loss64, grad64.<name>: the exact reference). Returns the saved state dict."""
    for t in P.values():
        t.requires_grad_(True)
    logits, loss = forward(P)
    loss.backward()
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
    state = {k: v.detach() for k, v in P.items()}
    write_safetensors(os.path.join(out, "model.safetensors"), state)
    write_safetensors(os.path.join(out, "inputs.safetensors"), inputs)
    expected = {"logits": logits.detach(), "loss": loss.detach().reshape([])}
    for k, v in P.items():
        expected["grad." + k] = v.grad
    P64 = {k: v.detach().double().requires_grad_(True) for k, v in P.items()}
    logits64, loss64 = forward(P64)
    loss64.backward()
    expected["logits64"] = logits64.detach().float()
    expected["loss64"] = loss64.detach().float().reshape([])
    for k, v in P64.items():
        expected["grad64." + k] = v.grad.float()
    write_safetensors(os.path.join(out, "expected.safetensors"), expected)
    return state


def write_bin_variants(out, state):
    """pytorch_model.bin next to model.safetensors (safetensors must win), a .bin-only copy, a sharded copy."""
    # Next to the safetensors: a .bin with different values, so a loader that wrongly prefers it is caught.
    torch.save({k: v + 1.0 for k, v in state.items()}, os.path.join(out, "pytorch_model.bin"))
    only = out.rstrip("/") + "_bin"
    os.makedirs(only, exist_ok=True)
    shutil.copy(os.path.join(out, "config.json"), only)
    torch.save(state, os.path.join(only, "pytorch_model.bin"))
    sharded = out.rstrip("/") + "_sharded"
    os.makedirs(sharded, exist_ok=True)
    shutil.copy(os.path.join(out, "config.json"), sharded)
    names = list(state)
    half = len(names) // 2
    weight_map = {}
    for i, part in enumerate((names[:half], names[half:])):
        fname = f"pytorch_model-0000{i + 1}-of-00002.bin"
        torch.save({k: state[k] for k in part}, os.path.join(sharded, fname))
        weight_map.update({k: fname for k in part})
    total = sum(v.numel() * 4 for v in state.values())
    with open(os.path.join(sharded, "pytorch_model.bin.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2)


def logits_cmd(family, model_dir, inputs_path, out_path):
    with open(os.path.join(model_dir, "config.json")) as f:
        cfg = json.load(f)
    if (family == "gpt2" or family in DECODERS) and cfg.get("pad_token_id") is None:
        cfg["pad_token_id"] = pad_of(family, cfg)
    for k, v in {"embd_pdrop": 0.1, "classifier_dropout": None, "seq_classif_dropout": 0.2}.items():
        cfg.setdefault(k, v)
    P = read_safetensors(os.path.join(model_dir, "model.safetensors"))
    x = read_safetensors(inputs_path)
    with torch.no_grad():
        logits = logits_of(family, P, cfg, x["input_ids"], x["token_type_ids"], x["attention_mask"])
    write_safetensors(out_path, {"logits": logits})


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("gen")
    g.add_argument("--out", required=True)
    g.add_argument("--family", choices=FAMILIES, required=True)
    g.add_argument("--problem", choices=sorted(PROBLEMS), default="single")
    g.add_argument("--act", choices=sorted(ACTIVATIONS), default="gelu")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--bin", action="store_true")
    g.add_argument("--vocab", type=int, default=300, help="vocab_size (a real tokenizer's, for the CLI tests)")
    g.add_argument("--num-labels", type=int, default=None)
    g.add_argument("--pooling", choices=["cls", "mean"], default="cls", help="ModernBERT's classifier_pooling")
    l = sub.add_parser("logits")
    l.add_argument("--family", choices=FAMILIES, required=True)
    l.add_argument("--model", required=True)
    l.add_argument("--inputs", required=True)
    l.add_argument("--out", required=True)
    a = ap.parse_args()
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    if a.cmd == "gen":
        generate(a.out, a.family, a.problem, a.act, a.seed, a.bin, a.vocab, a.num_labels, a.pooling)
    else:
        logits_cmd(a.family, a.model, a.inputs, a.out)


if __name__ == "__main__":
    sys.exit(main())
