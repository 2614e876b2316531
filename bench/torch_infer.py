#!/usr/bin/python3
"""PyTorch side of bench/infer_bench.cpp: inference of the PyTorch twin's BERT (tests/reference/bert_twin.py,
dropout off, under torch.inference_mode() as HF's pipeline runs the model) on exactly the batches infer_bench
--write-batches wrote (SST-2 dev, pre-tokenized by accent: the tokenization is not timed here), fp32 or under
torch.autocast("cpu", dtype=torch.bfloat16) (--autocast), or with the encoder layers' nn.Linear modules made int8 by
torch.ao.quantization.quantize_dynamic (--quantize-dynamic: int8 weights, activations quantized at run time; the
rest fp32 — accent --precision int8's counterpart):
  throughput  sentences/s at batch 32, sorted by length ("sorted<k>", accent predict's batching) and in file
              order ("file<k>", HF pipeline(batch_size=32)'s batching);
  latency     p50 / p99 of one sentence at a time ("single<i>").
A warm-up forward on the first sorted batch and on single0 precedes the timings.
--max-batches N times only N batches per batching, evenly spread over the pass (fp32 PyTorch is slow here), and
extrapolates the pass by padded tokens (said in the RESULT line); --latency-n N times only the first N sentences.

  /usr/bin/python3 bench/torch_infer.py --batches FILE [--layers 12] [--threads 2] [--autocast | --quantize-dynamic]
                                        [--max-batches N] [--latency-n N]
"""
import argparse
import time

import numpy as np
import torch

import torch_bench_common as common
from torch_bench_common import bert_twin


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batches", required=True)
    ap.add_argument("--layers", type=int, default=12)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--autocast", action="store_true", help='torch.autocast("cpu", dtype=torch.bfloat16)')
    ap.add_argument("--quantize-dynamic", action="store_true",
                    help="torch.ao.quantization.quantize_dynamic int8 on the encoder layers' nn.Linear modules")
    ap.add_argument("--max-batches", type=int, default=-1)
    ap.add_argument("--latency-n", type=int, default=-1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    tensors = common.read_batches(a.batches)

    def names(prefix):
        found = {k.split(".")[0] for k in tensors if k.startswith(prefix) and k.split(".")[0][len(prefix):].isdigit()}
        return sorted(found, key=lambda s: int(s[len(prefix):]))

    cfg = common.bert_base_config(a.layers)
    P = common.random_params(cfg, requires_grad=False)
    prec = "bf16" if a.autocast else "int8" if a.quantize_dynamic else "fp32"
    label = {"bf16": "bf16 autocast", "int8": "int8 quantize_dynamic", "fp32": "fp32"}[prec]
    linears = None
    if a.quantize_dynamic:
        # The twin's encoder Linears as nn.Linear modules, then PyTorch's own dynamic quantization of them (as
        # quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8) does to a transformers model's layers).
        linear_names = sorted({k[:-len(".weight")] for k in P if ".encoder.layer." in k and k.endswith(".weight")
                               and "LayerNorm" not in k})
        float_modules = torch.nn.ModuleDict()
        for n in linear_names:
            w = P[n + ".weight"]
            m = torch.nn.Linear(w.shape[1], w.shape[0])
            with torch.no_grad():
                m.weight.copy_(w)
                m.bias.copy_(P[n + ".bias"])
            float_modules[n.replace(".", "_")] = m
        q = torch.ao.quantization.quantize_dynamic(float_modules, {torch.nn.Linear}, dtype=torch.qint8)
        linears = {n: q[n.replace(".", "_")] for n in linear_names}
        print(f"quantize_dynamic: {len(linears)} encoder Linear modules int8 "
              f"(engine {torch.backends.quantized.engine})", flush=True)

    def forward(name):
        ids, tt, mask, _ = common.batch(tensors, name)
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.autocast):
            return bert_twin.logits_of(P, cfg, ids, tt, mask, train=False, linears=linears).float()

    print(f"pytorch {torch.__version__} inference, {label}: bert-base shape ({a.layers} layers), {a.threads} threads",
          flush=True)
    forward("sorted0")
    forward("single0")
    for batching in ("sorted", "file"):
        all_names = names(batching)
        n_total = sum(tensors[n + ".input_ids"].shape[0] for n in all_names)
        tokens_total = sum(tensors[n + ".input_ids"].numel() for n in all_names)
        chosen = all_names
        if 0 < a.max_batches < len(all_names):
            chosen = [all_names[i] for i in np.linspace(0, len(all_names) - 1, a.max_batches).round().astype(int)]
        t0 = time.perf_counter()
        for n in chosen:
            forward(n)
        sec = time.perf_counter() - t0
        if chosen is all_names:
            rate, how = n_total / sec, f"{sec:.2f} s for all {len(all_names)} batches"
        else:
            tokens = sum(tensors[n + ".input_ids"].numel() for n in chosen)
            est = sec / tokens * tokens_total
            rate, how = n_total / est, (f"extrapolated by padded tokens from {len(chosen)} of {len(all_names)} "
                                        f"batches ({sec:.2f} s measured, pass est. {est:.1f} s)")
        print(f"RESULT pytorch infer {label} batch {batching}: {rate:.2f} sentences/s ({how})", flush=True)
        common.metric(f"infer.{batching}.pytorch.{prec}.sentences_per_s", rate)
    singles = names("single")
    if a.latency_n >= 0:
        singles = singles[:a.latency_n]
    ms = []
    for n in singles:
        t0 = time.perf_counter()
        forward(n)
        ms.append((time.perf_counter() - t0) * 1e3)
    if ms:
        p50, p99 = np.percentile(ms, 50), np.percentile(ms, 99)
        print(f"RESULT pytorch infer {label}: single sentence (n={len(ms)}) p50 {p50:.2f} ms p99 {p99:.2f} ms")
        common.metric(f"latency.pytorch.{prec}.p50_ms", p50)
        common.metric(f"latency.pytorch.{prec}.p99_ms", p99)
    print(f"RESULT pytorch peak RSS {common.peak_rss_mib():.0f} MiB")
    common.metric(f"infer.pytorch.{prec}.peak_rss_mib", common.peak_rss_mib())


if __name__ == "__main__":
    main()
