#!/usr/bin/python3
"""PyTorch twin of accent's token-classification and question-answering models (BERT, RoBERTa, ELECTRA,
DistilBERT, GPT-2, ModernBERT, DeBERTa-v2/v3; Qwen2 and Llama for token classification): the base model from
family_twin.hidden_of, then transformers' heads and losses restated in torch (modeling_bert
BertForTokenClassification / BertForQuestionAnswering and the other families' twins of them):

  token classification   logits = classifier(Dropout(hidden))                            (B, T, C)
                         (Qwen2/Llama: the Linear is named "score", with a bias; ModernBERT: its prediction
                         head (dense, act, norm) first, over every token; DeBERTa-v2: no pooler, the
                         classifier on every token as BERT)
                         loss = CrossEntropyLoss(logits.view(-1, C), labels.view(-1))     (−100 ignored)
  question answering     start, end = qa_outputs(hidden).split(1, -1)                   (B, T) each
                         positions clamped to [0, T]; loss = (CE_T(start) + CE_T(end)) / 2, T ignored

`gen --family F --task token|qa --out DIR` writes, like family_twin.py:
  config.json (architectures = [<Family>For<Task>], so accent builds that head), model.safetensors,
  inputs.safetensors (input_ids, token_type_ids, attention_mask, and token_labels (B, T) or start_positions /
  end_positions (B)), expected.safetensors (logits, loss, grad.<name>; logits64, loss64, grad64.<name>).
Dropout probabilities are 0, so training and inference logits agree. Run with /usr/bin/python3.
"""
import argparse
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from family_twin import DECODERS, hidden_of, make_config, modernbert_head, pad_of, shapes, write_twin_dir  # noqa: E402

PREFIX = {"bert": "Bert", "roberta": "Roberta", "electra": "Electra", "distilbert": "DistilBert", "gpt2": "GPT2",
          "qwen2": "Qwen2", "llama": "Llama", "modernbert": "ModernBert", "deberta-v2": "DebertaV2"}
SUFFIX = {"token": "ForTokenClassification", "qa": "ForQuestionAnswering"}
# The sequence-classification heads the other tasks drop (pooler.: DeBERTa-v2's ContextPooler)
SEQUENCE_HEADS = ("classifier.", "pre_classifier.", "score.", "bert.pooler.", "pooler.")


def head_name(family, task):
    if task == "qa":
        assert family not in DECODERS, "accent has no question answering for the decoder families"
        return "qa_outputs"
    return "score" if family in DECODERS else "classifier"


def head_shapes(family, task, H, C):
    name, out = head_name(family, task), (C if task == "token" else 2)
    return [(name + ".weight", (out, H)), (name + ".bias", (out,))]


def logits_of(family, task, P, cfg, ids, tt, mask):
    x = hidden_of(family, P, cfg, ids, tt, mask)
    if family == "modernbert":  # ModernBertPredictionHead over every token, then the classifier
        x = modernbert_head(P, cfg, x)
    name = head_name(family, task)
    return F.linear(x, P[name + ".weight"], P[name + ".bias"])


def loss_of(task, logits, labels):
    if task == "token":
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels["token_labels"].reshape(-1))
    T = logits.shape[1]
    start_logits, end_logits = (t.squeeze(-1) for t in logits.split(1, dim=-1))
    start = labels["start_positions"].clamp(0, T)
    end = labels["end_positions"].clamp(0, T)
    return (F.cross_entropy(start_logits, start, ignore_index=T) + F.cross_entropy(end_logits, end, ignore_index=T)) / 2


def generate(out, family, task, seed, vocab=300, num_labels=5):
    C = num_labels if task == "token" else 2
    act = "gelu_new" if family == "gpt2" else "silu" if family in DECODERS else "gelu"
    cfg = make_config(family, C, None, act, vocab)
    del cfg["problem_type"]
    cfg["architectures"] = [PREFIX[family] + SUFFIX[task]]
    cfg["classifier_dropout"] = 0.0
    if family == "distilbert":
        cfg["qa_dropout"] = 0.0
    H = cfg.get("hidden_size") or cfg.get("dim") or cfg.get("n_embd")
    names = [(n, s) for n, s in shapes(family, cfg) if not n.startswith(SEQUENCE_HEADS)] + head_shapes(family, task, H, C)
    g = torch.Generator().manual_seed(seed)
    P = {}
    for name, shape in names:
        norm = any(s in name for s in ("LayerNorm", "layer_norm", "ln_")) or name.endswith("norm.weight")
        P[name] = 1.0 + 0.1 * torch.randn(shape, generator=g) if norm and name.endswith(".weight") \
            else 0.05 * torch.randn(shape, generator=g)
    pad = pad_of(family, cfg)
    for name in P:  # padding rows of embeddings with padding_idx are zero in HF models
        if family == "llama" and name == "model.embed_tokens.weight":
            P[name][pad].zero_()
        if family != "gpt2" and name.endswith("word_embeddings.weight"):
            P[name][pad].zero_()
        if family == "roberta" and name.endswith("position_embeddings.weight"):
            P[name][pad].zero_()
    B, T = 4, 16
    ids = torch.full((B, T), pad, dtype=torch.int64)
    tt = torch.zeros(B, T, dtype=torch.int64)
    mask = torch.zeros(B, T, dtype=torch.int64)
    lengths = [T if b == 0 else max(4, T - 3 * b) for b in range(B)]
    if family == "modernbert":  # padding runs within the local half-window (see modernbert_classifier.h)
        lengths = [T, T - 1, T - 3, T - 4]
    for b, length in enumerate(lengths):
        ids[b, :length] = torch.randint(3, vocab - 1, (length,), generator=g)
        if family in ("bert", "electra"):
            tt[b, max(1, length // 2):length] = 1
        mask[b, :length] = 1
    labels = {}
    if task == "token":
        tl = torch.randint(0, C, (B, T), generator=g)
        tl[mask == 0] = -100
        tl[:, 0] = -100
        tl[1, 3] = -100
        labels["token_labels"] = tl
    else:  # answers inside each row; row 2 points at CLS (0); row 3 beyond T (clamped to T = ignored)
        start = torch.tensor([3, 1, 0, T + 5])
        end = torch.tensor([7, 2, 0, T + 9])
        labels["start_positions"], labels["end_positions"] = start, end

    forward = lambda params: (lambda z: (z, loss_of(task, z, labels)))(logits_of(family, task, params, cfg, ids, tt, mask))
    write_twin_dir(out, cfg, P, forward, dict({"input_ids": ids, "token_type_ids": tt, "attention_mask": mask}, **labels))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("gen")
    g.add_argument("--out", required=True)
    g.add_argument("--family", choices=sorted(PREFIX), required=True)
    g.add_argument("--task", choices=sorted(SUFFIX), required=True)
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--vocab", type=int, default=300)
    g.add_argument("--num-labels", type=int, default=5)
    a = ap.parse_args()
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    generate(a.out, a.family, a.task, a.seed, a.vocab, a.num_labels)


if __name__ == "__main__":
    sys.exit(main())
