#!/usr/bin/python3
"""PyTorch side of bench/train_step_bench.cpp: one training step (forward + backward, fp32, dropout on) of a
bert-base-shaped BertForSequenceClassification with random weights, written with the PyTorch twin's model
(tests/reference/bert_twin.py: HF's math in torch functional calls), and the process's peak RSS.

  /usr/bin/python3 bench/torch_step.py [--batch 16] [--seq 128] [--steps 3] [--threads 2] [--layers 12]
"""
import argparse
import os
import resource
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "reference"))
import bert_twin  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--layers", type=int, default=12)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    cfg = dict(vocab_size=30522, hidden_size=768, num_hidden_layers=a.layers, num_attention_heads=12,
               intermediate_size=3072, max_position_embeddings=512, type_vocab_size=2, hidden_act="gelu",
               layer_norm_eps=1e-12, hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1,
               classifier_dropout=None, pad_token_id=0, id2label={"0": "LABEL_0", "1": "LABEL_1"},
               problem_type="single_label_classification")
    H, I = 768, 3072
    P = {}
    for name in bert_twin.param_names(cfg):
        if name.endswith("LayerNorm.weight"):
            t = torch.ones(H)
        elif name.endswith("LayerNorm.bias"):
            t = torch.zeros(H)
        elif name == "bert.embeddings.word_embeddings.weight":
            t = torch.randn(30522, H) * 0.02
        elif name == "bert.embeddings.position_embeddings.weight":
            t = torch.randn(512, H) * 0.02
        elif name == "bert.embeddings.token_type_embeddings.weight":
            t = torch.randn(2, H) * 0.02
        else:
            out_f = 2 if name.startswith("classifier") else (I if "intermediate" in name else H)
            in_f = I if (".output.dense" in name and "attention" not in name) else H
            t = torch.randn(out_f, in_f) * 0.02 if name.endswith(".weight") else torch.zeros(out_f)
        P[name] = t.requires_grad_(True)
    B, T = a.batch, a.seq
    ids = torch.randint(1, 30000, (B, T))
    tt = (torch.arange(T) >= T // 2).long().expand(B, T).contiguous()
    mask = torch.ones(B, T, dtype=torch.long)
    labels = torch.arange(B) % 2
    print(f"pytorch {torch.__version__} train step: bert-base shape ({a.layers} layers), B={B} T={T}, fp32, "
          f"{a.threads} threads")
    times = []
    for s in range(a.steps + 1):
        for t in P.values():
            t.grad = None
        t0 = time.perf_counter()
        logits = bert_twin.logits_of(P, cfg, ids, tt, mask, train=True)
        loss = bert_twin.loss_of(logits, labels, cfg)
        loss.backward()
        sec = time.perf_counter() - t0
        print(f"  step {s}{' (warm-up)' if s == 0 else ''}: {sec:.3f} s  (loss {loss.item():.5f})")
        if s > 0:
            times.append(sec)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    mean = sum(times) / max(1, len(times))
    print(f"RESULT pytorch: mean {mean:.3f} s/step, best {min(times) if times else 0:.3f} s/step, peak RSS {peak:.0f} MiB")


if __name__ == "__main__":
    main()
