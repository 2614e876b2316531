#!/usr/bin/python3
"""PyTorch side of bench/epoch_bench.cpp: the same SST-2 epoch batches (the file epoch_bench --write-batches
wrote: b0 = warm-up, then the K timed batches; epoch_shapes = (B, T) of every batch of the epoch), trained with
the PyTorch twin's BERT (tests/reference/bert_twin.py: HF's math in torch functional calls, dropout on) and the
HF Trainer's step: forward, loss.backward(), clip_grad_norm_(1.0), torch.optim.AdamW (lr 2e-5, HF defaults),
zero_grad — fp32, or under torch.autocast("cpu", dtype=torch.bfloat16) (--autocast) as HF's --bf16 does on CPU.

Measured: examples/s over the timed batches. Extrapolated (as the C++ side): the epoch's time = (timed forward +
backward seconds per padded token) × (the epoch's padded tokens) + (timed clip + AdamW + zero_grad seconds per
step) × (the epoch's steps), with a FLOP-weighted variant and the plain mean step × steps as checks.
--steps N times only the first N of the file's timed batches (fp32 PyTorch takes minutes per bert-base step
here); --warmup 0 skips the warm-up batch.

  /usr/bin/python3 bench/torch_epoch.py --batches FILE --recipe pad128|dynamic [--layers 12] [--threads 2]
                                        [--autocast] [--steps N] [--warmup 0|1]
"""
import argparse
import time

import torch

import torch_bench_common as common
from torch_bench_common import bert_twin


def forward_matmul_flops(B, T, layers, H=768, I=3072):
    tokens = B * T
    return layers * (2.0 * tokens * (4 * H * H + 2 * H * I) + 4.0 * tokens * T * H) + 2.0 * B * H * H


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batches", required=True)
    ap.add_argument("--recipe", required=True, choices=["pad128", "dynamic"])
    ap.add_argument("--layers", type=int, default=12)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--autocast", action="store_true", help='torch.autocast("cpu", dtype=torch.bfloat16)')
    ap.add_argument("--steps", type=int, default=-1, help="time only the first N timed batches (default: all)")
    ap.add_argument("--warmup", type=int, default=1, help="1: run the file's warm-up batch untimed; 0: skip it")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    tensors = common.read_batches(a.batches)
    num_warmup = int(tensors["num_warmup"][0])
    names = sorted({k.split(".")[0] for k in tensors if k.startswith("b") and "." in k}, key=lambda s: int(s[1:]))
    warm_names, timed_names = names[:num_warmup], names[num_warmup:]
    if a.steps >= 0:
        timed_names = timed_names[:a.steps]
    run = [(n, True) for n in (warm_names if a.warmup else [])] + [(n, False) for n in timed_names]

    cfg = common.bert_base_config(a.layers)
    P = common.random_params(cfg, requires_grad=True)
    params = list(P.values())
    optimizer = torch.optim.AdamW(params, lr=2e-5)  # HF Trainer: betas (0.9, 0.999), eps 1e-8, weight_decay 0
    prec = "bf16" if a.autocast else "fp32"
    label = "bf16 autocast" if a.autocast else "fp32"
    print(f"pytorch {torch.__version__} epoch {a.recipe}, {label}: bert-base shape ({a.layers} layers), "
          f"{a.threads} threads, {len(timed_names)} timed batches", flush=True)
    timed_sec = timed_optimizer_sec = timed_tokens = timed_flops = timed_examples = 0.0
    for i, (name, warm) in enumerate(run):
        t0 = time.perf_counter()
        ids, tt, mask, labels = common.batch(tensors, name)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.autocast):
            logits = bert_twin.logits_of(P, cfg, ids, tt, mask, train=True)
            loss = bert_twin.loss_of(logits.float(), labels, cfg)
        loss.backward()
        t1 = time.perf_counter()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        optimizer.zero_grad()
        sec, optimizer_sec = time.perf_counter() - t0, time.perf_counter() - t1
        B, T = ids.shape
        print(f"  step {i}{' (warm-up)' if warm else ''} {name} T={T}: {sec:.3f} s, of which clip + AdamW + "
              f"zero_grad {optimizer_sec:.3f} s (loss {loss.item():.4f})", flush=True)
        if warm:
            continue
        timed_sec += sec
        timed_optimizer_sec += optimizer_sec
        timed_tokens += B * T
        timed_flops += 3 * forward_matmul_flops(B, T, a.layers)
        timed_examples += B
    shapes = tensors["epoch_shapes"].tolist()
    epoch_tokens = sum(B * T for B, T in shapes)
    epoch_flops = sum(3 * forward_matmul_flops(B, T, a.layers) for B, T in shapes)
    N = sum(B for B, _ in shapes)
    key = f"epoch.{a.recipe}.pytorch.{prec}"
    if timed_sec > 0:
        # clip + AdamW + zero_grad do not depend on T: charged per step; forward + backward per padded token
        fixed = timed_optimizer_sec / len(timed_names) * len(shapes)
        est_tokens = fixed + (timed_sec - timed_optimizer_sec) / timed_tokens * epoch_tokens
        est_flops = fixed + (timed_sec - timed_optimizer_sec) / timed_flops * epoch_flops
        est_mean = timed_sec / len(timed_names) * len(shapes)  # unbiased for a uniform sample of the epoch
        print(f"RESULT pytorch epoch {a.recipe} {label}: measured {len(timed_names)} steps, {timed_examples:.0f} "
              f"examples in {timed_sec:.3f} s = {timed_examples / timed_sec:.2f} examples/s; extrapolated epoch "
              f"({N} examples) {est_tokens:.1f} s token-weighted ({est_flops:.1f} s FLOP-weighted, {est_mean:.1f} s mean "
              f"step × {len(shapes)} steps) = "
              f"{N / est_tokens:.2f} examples/s")
        common.metric(key + ".examples_per_s", timed_examples / timed_sec)
        common.metric(key + ".s_per_step", timed_sec / len(timed_names))
        common.metric(key + ".optimizer_s_per_step", timed_optimizer_sec / len(timed_names))
        common.metric(key + ".epoch_s_token_weighted", est_tokens)
        common.metric(key + ".epoch_s_flop_weighted", est_flops)
        common.metric(key + ".epoch_s_mean_step", est_mean)
    print(f"RESULT pytorch peak RSS {common.peak_rss_mib():.0f} MiB")
    common.metric(key + ".peak_rss_mib", common.peak_rss_mib())


if __name__ == "__main__":
    main()
