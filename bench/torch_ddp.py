#!/usr/bin/python3
"""PyTorch side of bench/ddp_scaling.sh: data-parallel training steps of a bert-base-shaped
BertForSequenceClassification (the PyTorch twin, tests/reference/bert_twin.py, random weights, dropout on) over
torch.distributed's Gloo backend — what DistributedDataParallel does on CPU processes, written out: after backward
the gradients are averaged over the ranks in ~25 MB buckets in reverse parameter order (torch.distributed.all_reduce,
Gloo's ring), then global-norm clipping (1.0) and AdamW, as HF's Trainer. (DDP itself needs an nn.Module; the twin
is functional, so the all-reduce here starts after backward instead of overlapping it — the timing of each part is
printed, so the overlap DDP would win is visible.)

Start one process per rank with torchrun's environment (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT), or none for a
single process:
  RANK=0 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=29700 /usr/bin/python3 bench/torch_ddp.py --batch 8 ... &
  RANK=1 WORLD_SIZE=2 ... /usr/bin/python3 bench/torch_ddp.py --batch 8 ...
Rank 0 prints `METRIC <key> <value>` lines: examples_per_second (the global batch × steps ÷ the time of all steps,
the first included, as HF's train_runtime), seconds_per_step, allreduce_seconds_per_step.
"""
import argparse
import os
import sys
import time
from datetime import timedelta

import torch
import torch.distributed as dist

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "reference"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bert_twin  # noqa: E402
import torch_bench_common as common  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=8, help="per-rank batch")
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--layers", type=int, default=12)
    ap.add_argument("--bucket-mb", type=int, default=25)
    ap.add_argument("--autocast", action="store_true", help='torch.autocast("cpu", dtype=torch.bfloat16)')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    if world > 1:
        dist.init_process_group("gloo", rank=rank, world_size=world, timeout=timedelta(seconds=600))
    cfg = common.bert_base_config(a.layers)
    P = common.random_params(cfg, requires_grad=True)  # the same weights on every rank (seed 0)
    params = list(P.values())
    # DDP's buckets: reverse parameter order, cut at bucket_cap_mb.
    buckets, current, size = [], [], 0
    for p in reversed(params):
        current.append(p)
        size += p.numel() * 4
        if size >= a.bucket_mb << 20:
            buckets.append(current)
            current, size = [], 0
    if current:
        buckets.append(current)
    opt = torch.optim.AdamW(params, lr=2e-5, weight_decay=0.0)
    g = torch.Generator().manual_seed(100 + rank)  # each rank its own examples
    B, T = a.batch, a.seq
    ids = torch.randint(1, 30000, (B, T), generator=g)
    tt = torch.zeros(B, T, dtype=torch.long)
    mask = torch.ones(B, T, dtype=torch.long)
    labels = torch.arange(B) % 2

    reduce_seconds = 0.0
    if world > 1:
        dist.barrier()
    t_start = time.perf_counter()
    for _ in range(a.steps):
        for t in params:
            t.grad = None
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.autocast):
            logits = bert_twin.logits_of(P, cfg, ids, tt, mask, train=True)
        loss = bert_twin.loss_of(logits.float(), labels, cfg)
        loss.backward()
        if world > 1:
            t0 = time.perf_counter()
            for bucket in buckets:
                flat = torch.cat([p.grad.reshape(-1) for p in bucket])
                dist.all_reduce(flat)
                flat /= world
                offset = 0
                for p in bucket:
                    n = p.numel()
                    p.grad.copy_(flat[offset:offset + n].view_as(p.grad))
                    offset += n
            reduce_seconds += time.perf_counter() - t0
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
    total = time.perf_counter() - t_start
    if rank == 0:
        precision = "bf16 autocast" if a.autocast else "fp32"
        print(f"pytorch {torch.__version__} data-parallel: {world} process(es) x {a.threads} thread(s), B={B} per rank, "
              f"T={T}, {a.layers} layers, {precision}, {len(buckets)} buckets")
        common.metric("examples_per_second", B * world * a.steps / total)
        common.metric("seconds_per_step", total / a.steps)
        common.metric("allreduce_seconds_per_step", reduce_seconds / a.steps)
    if world > 1:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
