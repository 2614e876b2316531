#!/usr/bin/python3
"""PyTorch side of bench/compare_decoder_lora.sh: one LoRA training step (forward + backward + AdamW) of a
Qwen2.5-0.5B-shaped Qwen2ForSequenceClassification with random weights, written with the PyTorch twin's model
(tests/reference/family_twin.py decoder_hidden: HF's Qwen2 math in torch functional calls) and PEFT's LoRA branch
(tests/reference/lora_twin.py: lora_B(lora_A(x))·alpha/r on q_proj and v_proj), the base frozen
(requires_grad=False), the score head and the adapters trained by torch.optim.AdamW. fp32, or under
torch.autocast("cpu", dtype=torch.bfloat16) with --autocast. Prints the median step time and the process's peak RSS.

  /usr/bin/python3 bench/torch_decoder_lora_step.py [--batch 4] [--seq 64] [--steps 3] [--threads 2] [--layers 24]
                                                    [--r 8] [--autocast]
"""
import argparse
import math
import os
import resource
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "reference"))
import family_twin  # noqa: E402
import lora_twin  # noqa: E402


def qwen25_05b_config(layers):
    """Qwen/Qwen2.5-0.5B's config.json (2 labels, pad = eos)."""
    return dict(model_type="qwen2", vocab_size=151936, hidden_size=896, intermediate_size=4864,
                num_hidden_layers=layers, num_attention_heads=14, num_key_value_heads=2,
                max_position_embeddings=32768, rms_norm_eps=1e-6, rope_theta=1000000.0, hidden_act="silu",
                attention_dropout=0.0, tie_word_embeddings=True, bos_token_id=151643, eos_token_id=151643,
                pad_token_id=151643, id2label={"0": "LABEL_0", "1": "LABEL_1"},
                problem_type="single_label_classification")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--seq", type=int, default=64)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--layers", type=int, default=24)
    ap.add_argument("--r", type=int, default=8)
    ap.add_argument("--autocast", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    cfg = qwen25_05b_config(a.layers)
    P = {}
    for name, shape in family_twin.shapes("qwen2", cfg):
        t = torch.ones(shape) if name.endswith("norm.weight") else torch.randn(shape) * 0.02
        P[name] = t.requires_grad_(name == "score.weight")  # LoRA: the base frozen, the head trained in full
    lora, wrapped = {}, {}
    for m in lora_twin.targets_of("qwen2", cfg, "q_proj,v_proj"):
        out_f, in_f = P[m + ".weight"].shape
        A = ((torch.rand(a.r, in_f) * 2 - 1) / math.sqrt(in_f)).requires_grad_(True)
        B = torch.zeros(out_f, a.r).requires_grad_(True)
        lora[m] = (A, B)
        wrapped[id(P[m + ".weight"])] = (A, B, 1.0)  # lora_alpha = r
    trainable = [P["score.weight"]] + [t for ab in lora.values() for t in ab]
    opt = torch.optim.AdamW(trainable, lr=1e-4, weight_decay=0.01)
    B, T = a.batch, a.seq
    ids = torch.randint(1000, 31000, (B, T))
    mask = torch.ones(B, T, dtype=torch.long)
    labels = torch.arange(B) % 2
    family_twin.F = lora_twin.LoraFunctional(wrapped)

    def step():
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.autocast):
            logits = family_twin.logits_of("qwen2", P, cfg, ids, None, mask)
        loss = F.cross_entropy(logits.float(), labels)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    times = []
    for s in range(a.steps + 1):  # step 0 warms up
        t0 = time.perf_counter()
        step()
        if s > 0:
            times.append(time.perf_counter() - t0)
    times.sort()
    print(f"RESULT torch {'autocast-bf16' if a.autocast else 'fp32'} B {B} T {T} layers {a.layers} "
          f"threads {a.threads}")
    print(f"RESULT torch step_seconds_median {times[len(times) // 2]:.4f} (min {times[0]:.4f}, {len(times)} steps)")
    print(f"RESULT torch peak_rss_mib {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}")


if __name__ == "__main__":
    sys.exit(main())
