#!/usr/bin/env python3
"""PyTorch + transformers on the GPU: the numbers accent's CUDA backend is measured against (issue 11).

bert-base-uncased's shape with random weights (speed does not depend on the values), BertForSequenceClassification,
bf16 autocast (fp32 master weights, as accent's mixed precision), AdamW as HF's Trainer uses it, clipping at 1.0:
  - the GPU's own bf16 matmul rate (8192³), the ceiling model FLOP utilisation is reported against;
  - one training step (forward, backward, clip, AdamW, zero_grad) at B=16 and 32, T=128, eager and torch.compile;
  - inference at batch 32 (T=128) and one sentence (T=25), eager and torch.compile;
  - with --epoch-batches FILE: an SST-2 epoch with dynamic padding, the very batches accent trained
    (bench/epoch_bench.cpp --device cuda --write-batches FILE: b0 = warm-up, then every batch of the epoch), eager
    (torch.compile would recompile for each of the epoch's lengths).
Times are medians of CUDA-event-timed repetitions after warm-up (the epoch: its wall time, synchronised).
Prints one JSON object.

Usage: torch_gpu_bench.py [--out FILE] [--no-compile] [--reps N] [--epoch-batches FILE]
"""
import argparse
import json
import statistics
import time

import torch
import transformers


def cuda_time(fn, warmup, reps):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end) / 1000.0)
    return statistics.median(times)


def matmul_tflops(n=8192):
    a = torch.randn(n, n, device="cuda", dtype=torch.bfloat16)
    b = torch.randn(n, n, device="cuda", dtype=torch.bfloat16)
    t = cuda_time(lambda: a @ b, 3, 10)
    return 2 * n**3 / t / 1e12


def bert_train_flops(cfg, B, T):
    """Matmul FLOPs of one training step (forward + both backward products = 3× forward)."""
    H, I, L, NH = cfg.hidden_size, cfg.intermediate_size, cfg.num_hidden_layers, cfg.num_attention_heads
    linear = 2 * B * T * (4 * H * H + 2 * H * I) * L
    attention = 2 * 2 * B * T * T * H * L  # QKᵀ and P·V over all heads
    return 3 * (linear + attention)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out")
    ap.add_argument("--no-compile", action="store_true")
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--epoch-batches", help="epoch_bench --write-batches file: train through its batches")
    args = ap.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = False
    dev = torch.device("cuda")
    result = {"gpu": torch.cuda.get_device_name(0), "torch": torch.__version__,
              "transformers": transformers.__version__}
    result["bf16_matmul_tflops"] = round(matmul_tflops(), 1)
    cfg = transformers.BertConfig(num_labels=2)  # bert-base-uncased's shape
    vocab = cfg.vocab_size

    def train_case(B, T, compiled):
        torch.manual_seed(0)
        model = transformers.BertForSequenceClassification(cfg).to(dev)
        model.train()
        decay = [p for n, p in model.named_parameters() if not ("bias" in n or "LayerNorm" in n)]
        no_decay = [p for n, p in model.named_parameters() if "bias" in n or "LayerNorm" in n]
        opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
                                lr=2e-5)
        ids = torch.randint(1000, vocab, (B, T), device=dev)
        mask = torch.ones(B, T, dtype=torch.long, device=dev)
        labels = torch.randint(0, 2, (B,), device=dev)
        fwd = torch.compile(model) if compiled else model

        def step():
            with torch.autocast("cuda", dtype=torch.bfloat16):
                loss = fwd(input_ids=ids, attention_mask=mask, labels=labels).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            opt.zero_grad(set_to_none=True)

        t0 = time.time()
        step()
        torch.cuda.synchronize()
        first = time.time() - t0
        t = cuda_time(step, 3, args.reps)
        flops = bert_train_flops(cfg, B, T)
        return {"s_per_step": t, "ms_per_step": round(t * 1e3, 3), "first_step_s": round(first, 1),
                "tflops": round(flops / t / 1e12, 1), "mfu": round(flops / t / 1e12 / result["bf16_matmul_tflops"], 3)}

    def infer_case(B, T, compiled):
        torch.manual_seed(0)
        model = transformers.BertForSequenceClassification(cfg).to(dev).eval()
        fwd = torch.compile(model) if compiled else model
        ids = torch.randint(1000, vocab, (B, T), device=dev)
        mask = torch.ones(B, T, dtype=torch.long, device=dev)

        def run():
            with torch.no_grad(), torch.autocast("cuda", dtype=torch.bfloat16):
                return fwd(input_ids=ids, attention_mask=mask).logits

        t = cuda_time(run, 5, args.reps * 2)
        return {"ms": round(t * 1e3, 3), "sentences_per_s": round(B / t, 1)}

    def record(key, value):
        result[key] = value
        print(json.dumps({key: value}), flush=True)
        if args.out:  # after every case, so a run stopped by its time limit still leaves what it measured
            with open(args.out, "w") as f:
                json.dump(result, f, indent=1)

    def epoch_case(path):
        from safetensors.torch import load_file
        tensors = load_file(path)
        num_warmup = int(tensors["num_warmup"][0])
        names = sorted({k.split(".")[0] for k in tensors if k.startswith("b") and "." in k}, key=lambda s: int(s[1:]))
        torch.manual_seed(0)
        model = transformers.BertForSequenceClassification(cfg).to(dev)
        model.train()
        opt = torch.optim.AdamW(model.parameters(), lr=2e-5)  # as epoch_bench: HF defaults, no weight decay
        batches = [{k: tensors[f"{n}.{k}"].to(dev).long() for k in ("input_ids", "token_type_ids", "attention_mask",
                                                                   "labels")} for n in names]

        def step(b):
            with torch.autocast("cuda", dtype=torch.bfloat16):
                loss = model(**b).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            opt.zero_grad(set_to_none=True)

        for b in batches[:num_warmup]:
            step(b)
        torch.cuda.synchronize()
        t0 = time.time()
        for b in batches[num_warmup:]:
            step(b)
        torch.cuda.synchronize()
        sec = time.time() - t0
        examples = sum(int(b["input_ids"].shape[0]) for b in batches[num_warmup:])
        tokens = sum(int(b["input_ids"].numel()) for b in batches[num_warmup:])
        return {"steps": len(batches) - num_warmup, "examples": examples, "padded_tokens": tokens,
                "seconds": round(sec, 3), "examples_per_s": round(examples / sec, 1)}

    if args.epoch_batches:
        try:
            record("epoch_sst2_dynamic_eager", epoch_case(args.epoch_batches))
        except Exception as e:
            record("epoch_error", f"{type(e).__name__}: {e}"[:500])

    # Eager first; torch.compile cases (each compiles for a minute or so) after, most wanted first.
    cases = [("eager", "train", 16), ("eager", "train", 32), ("eager", "infer", 32), ("eager", "infer", 1)]
    if not args.no_compile:
        cases += [("compile", "train", 16), ("compile", "infer", 1), ("compile", "train", 32), ("compile", "infer", 32)]
    for mode, kind, B in cases:
        compiled = mode == "compile"
        try:
            if kind == "train":
                record(f"train_B{B}_T128_{mode}", train_case(B, 128, compiled))
            else:
                T = 128 if B > 1 else 25
                record(f"infer_B{B}_T{T}_{mode}", infer_case(B, T, compiled))
        except Exception as e:  # e.g. a compiler failure: recorded, the other cases still run
            record(f"{kind}_B{B}_{mode}_error", f"{type(e).__name__}: {e}"[:500])
    print(json.dumps(result, indent=1))

if __name__ == "__main__":
    main()
