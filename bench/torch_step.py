#!/usr/bin/python3
"""PyTorch side of bench/train_step_bench.cpp: one training step (forward + backward, dropout on) of a
bert-base-shaped BertForSequenceClassification with random weights, written with the PyTorch twin's model
(tests/reference/bert_twin.py: HF's math in torch functional calls), fp32 or under
torch.autocast("cpu", dtype=torch.bfloat16) (--autocast), the achieved matmul TFLOP/s next to torch's own
2048x768x3072 matmul rate measured in the same run, and the process's peak RSS.

  /usr/bin/python3 bench/torch_step.py [--batch 16] [--seq 128] [--steps 3] [--threads 2] [--layers 12] [--autocast]
"""
import argparse
import os
import resource
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "reference"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bert_twin  # noqa: E402
import torch_bench_common as common  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--layers", type=int, default=12)
    ap.add_argument("--autocast", action="store_true", help='torch.autocast("cpu", dtype=torch.bfloat16)')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    cfg = common.bert_base_config(a.layers)
    P = common.random_params(cfg, requires_grad=True)  # seeds torch with 0 first
    B, T = a.batch, a.seq
    ids = torch.randint(1, 30000, (B, T))
    tt = (torch.arange(T) >= T // 2).long().expand(B, T).contiguous()
    mask = torch.ones(B, T, dtype=torch.long)
    labels = torch.arange(B) % 2
    precision = "bf16 autocast" if a.autocast else "fp32"
    print(f"pytorch {torch.__version__} train step: bert-base shape ({a.layers} layers), B={B} T={T}, {precision}, "
          f"{a.threads} threads, mkldnn bf16 supported: {torch.backends.mkldnn.is_available()}")
    for dt in (torch.bfloat16, torch.float32):
        x, w = torch.randn(2048, 768).to(dt), torch.randn(768, 3072).to(dt)
        torch.matmul(x, w)
        t0 = time.perf_counter()
        torch.matmul(x, w)
        sec = time.perf_counter() - t0
        print(f"RESULT torch matmul 2048x768x3072 {dt}: {2 * 2048 * 768 * 3072 / sec / 1e12:.3f} TFLOP/s")
    times = []
    for s in range(a.steps + 1):
        for t in P.values():
            t.grad = None
        t0 = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.autocast):
            logits = bert_twin.logits_of(P, cfg, ids, tt, mask, train=True)
            loss = bert_twin.loss_of(logits.float(), labels, cfg)
        loss.backward()
        sec = time.perf_counter() - t0
        print(f"  step {s}{' (warm-up)' if s == 0 else ''}: {sec:.3f} s  (loss {loss.item():.5f})")
        if s > 0:
            times.append(sec)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    mean = sum(times) / max(1, len(times))
    H_, I_ = 768, 3072
    tokens = B * T
    flops = 3 * (a.layers * (2 * tokens * (4 * H_ * H_ + 2 * H_ * I_) + 4 * tokens * T * H_) + 2 * B * H_ * H_)
    best = min(times) if times else 0
    print(f"RESULT pytorch {precision}: mean {mean:.3f} s/step, best {best:.3f} s/step, "
          f"{flops / best / 1e12 if best else 0:.3f} TFLOP/s, peak RSS {peak:.0f} MiB")


if __name__ == "__main__":
    main()
