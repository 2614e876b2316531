#!/usr/bin/python3
"""PyTorch twin of accent's attributions (src/explain/attributions.h), for tests/unit/explain_attributions_test.cpp.

  explain_twin.py --model DIR --inputs inputs.safetensors --steps M --target C --out expected.safetensors
                  [--family bert|roberta|electra|distilbert]

inputs: input_ids, token_type_ids (I64, (1, T)). The model is bert_twin.py's BERT or family_twin.py's RoBERTa,
ELECTRA or DistilBERT (HF math in plain torch, eval mode); the word vectors are the word-embedding rows (ELECTRA:
embedding_size wide, before embeddings_project). Writes (fp32): logits (C), attentions (L, NH, T, T) — output_attentions=True —, attention_last,
attention_mean, attention_rollout, gradient_x_input, integrated_gradients (T), and f_input, f_baseline (1):
  gradient x input      (e * d logit_c / d e).sum(-1), the gradient from torch.autograd.grad on inputs_embeds
  integrated gradients  e * trapezoid mean over alpha = k/M (k = 0..M) of the gradient at alpha * e (zero baseline)
  rollout               row 0 of prod_l (mean_h P_l + I) / 2, later layers on the left, in float64
Run with /usr/bin/python3 (Debian python3-torch).
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bert_twin import logits_of as bert_logits_of, read_safetensors, write_safetensors  # noqa: E402
from family_twin import logits_of as family_logits_of  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--inputs", required=True)
    ap.add_argument("--steps", type=int, required=True)
    ap.add_argument("--target", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--family", choices=["bert", "roberta", "electra", "distilbert"], default="bert")
    a = ap.parse_args()
    with open(os.path.join(a.model, "config.json")) as f:
        cfg = json.load(f)
    P = read_safetensors(os.path.join(a.model, "model.safetensors"))
    inputs = read_safetensors(a.inputs)
    ids, tt = inputs["input_ids"].long(), inputs["token_type_ids"].long()
    mask = torch.ones_like(ids)
    T, c = ids.shape[1], a.target
    table = P[f"{a.family}.embeddings.word_embeddings.weight"]

    def logits_of(P, cfg, ids, tt, mask, **kw):
        if a.family == "bert":
            return bert_logits_of(P, cfg, ids, tt, mask, **kw)
        return family_logits_of(a.family, P, cfg, ids, tt, mask, **kw)
    e = table[ids[0]].clone()  # (T, H)

    def logit_and_grad(vectors):
        v = vectors.clone().requires_grad_(True)
        logits = logits_of(P, cfg, ids, tt, mask, word_vectors=v[None])[0]
        (g,) = torch.autograd.grad(logits[c], v)
        return logits.detach(), g

    attentions = []
    with torch.no_grad():
        logits = logits_of(P, cfg, ids, tt, mask, attentions=attentions)[0]
    A = torch.stack([p[0] for p in attentions])  # (L, NH, T, T)
    head_mean = A.mean(1).double()
    rollout = torch.zeros(T, dtype=torch.float64)
    rollout[0] = 1
    for l in reversed(range(A.shape[0])):
        rollout = rollout @ ((head_mean[l] + torch.eye(T, dtype=torch.float64)) / 2)
    M = a.steps
    path = torch.zeros_like(e, dtype=torch.float64)
    f_input = f_baseline = None
    grad_input = None
    for k in range(M + 1):
        lg, g = logit_and_grad(e * (k / M))
        path += (0.5 if k in (0, M) else 1.0) * g.double()
        if k == 0:
            f_baseline = lg[c]
        if k == M:
            f_input, grad_input = lg[c], g
    out = {
        "logits": logits,
        "attentions": A.contiguous(),
        "attention_last": A[-1].mean(0)[0].contiguous(),
        "attention_mean": A.mean((0, 1))[0].contiguous(),
        "attention_rollout": rollout.float(),
        "gradient_x_input": (e.double() * grad_input.double()).sum(-1).float(),
        "integrated_gradients": (e.double() * path / M).sum(-1).float(),
        "f_input": f_input.reshape(1),
        "f_baseline": f_baseline.reshape(1),
    }
    write_safetensors(a.out, out)


if __name__ == "__main__":
    main()
