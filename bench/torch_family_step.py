#!/usr/bin/python3
"""PyTorch side of bench/compare_family_step.sh: one full fine-tuning training step (forward + backward) of a
*ForSequenceClassification at a family's base shape with random weights, written with the PyTorch twin's model
(tests/reference/family_twin.py: HF's modeling file in torch functional calls), fp32 or under
torch.autocast("cpu", dtype=torch.bfloat16) (--autocast). Prints the median step time and the process's peak RSS.
The batch is bench/random_batch.h's: B×T random ids, no padding, labels alternating 0/1 (speed does not depend on
the values). Timing lives here, never in tests.

  /usr/bin/python3 bench/torch_family_step.py --family modernbert [--batch 16] [--seq 128] [--steps 3]
                                              [--threads 2] [--layers L] [--autocast]
"""
import argparse
import os
import resource
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "reference"))
import family_twin  # noqa: E402

LABELS = {"id2label": {"0": "LABEL_0", "1": "LABEL_1"}, "problem_type": "single_label_classification"}


def base_config(family, layers):
    """The hub base checkpoint's config.json (bench/train_step_bench.cpp family_config holds the same values)."""
    if family == "modernbert":  # answerdotai/ModernBERT-base
        cfg = dict(model_type="modernbert", vocab_size=50368, hidden_size=768, intermediate_size=1152,
                   num_hidden_layers=22, num_attention_heads=12, hidden_activation="gelu",
                   max_position_embeddings=8192, norm_eps=1e-5, norm_bias=False, attention_bias=False,
                   mlp_bias=False, classifier_bias=False, classifier_activation="gelu", classifier_pooling="mean",
                   classifier_dropout=0.0, attention_dropout=0.0, embedding_dropout=0.0, mlp_dropout=0.0,
                   global_attn_every_n_layers=3, local_attention=128, global_rope_theta=160000.0,
                   local_rope_theta=10000.0, pad_token_id=50283, bos_token_id=50281, eos_token_id=50282,
                   cls_token_id=50281, sep_token_id=50282)
    elif family == "deberta-v2":  # microsoft/deberta-v3-base
        cfg = dict(model_type="deberta-v2", vocab_size=128100, hidden_size=768, intermediate_size=3072,
                   num_hidden_layers=12, num_attention_heads=12, hidden_act="gelu", layer_norm_eps=1e-7,
                   hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1, max_position_embeddings=512,
                   type_vocab_size=0, relative_attention=True, max_relative_positions=-1, position_buckets=256,
                   norm_rel_ebd="layer_norm", share_att_key=True, pos_att_type=["p2c", "c2p"],
                   position_biased_input=False, pooler_hidden_size=768, pooler_hidden_act="gelu",
                   pooler_dropout=0, pad_token_id=0, initializer_range=0.02)
    else:
        raise SystemExit(f"--family modernbert|deberta-v2, not {family}")
    if layers is not None:
        cfg["num_hidden_layers"] = layers
    return dict(cfg, **LABELS)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--family", required=True)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--layers", type=int, default=None)
    ap.add_argument("--autocast", action="store_true", help='torch.autocast("cpu", dtype=torch.bfloat16)')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    cfg = base_config(a.family, a.layers)
    P = {}
    for name, shape in family_twin.shapes(a.family, cfg):
        norm = name.endswith(("norm.weight", "LayerNorm.weight"))
        t = torch.ones(shape) if norm else torch.randn(shape) * 0.02
        P[name] = t.requires_grad_(True)
    B, T = a.batch, a.seq
    ids = 3 + torch.randint(0, 30000, (B, T))
    mask = torch.ones(B, T, dtype=torch.long)
    labels = torch.arange(B) % 2
    precision = "bf16 autocast" if a.autocast else "fp32"
    print(f"pytorch {torch.__version__} train step: {a.family} base shape ({cfg['num_hidden_layers']} layers), "
          f"B={B} T={T}, {precision}, {a.threads} threads")
    times = []
    for s in range(a.steps + 1):  # step 0 warms up
        for t in P.values():
            t.grad = None
        t0 = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.autocast):
            logits = family_twin.logits_of(a.family, P, cfg, ids, None, mask, train=True)
        loss = F.cross_entropy(logits.float(), labels)
        loss.backward()
        sec = time.perf_counter() - t0
        print(f"  step {s}{' (warm-up)' if s == 0 else ''}: {sec:.3f} s  (loss {loss.item():.5f})", flush=True)
        if s > 0:
            times.append(sec)
    times.sort()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(f"RESULT pytorch {a.family} {precision}: step_seconds_median {times[len(times) // 2]:.4f} "
          f"(min {times[0]:.4f}, {len(times)} steps), peak RSS {peak:.0f} MiB")


if __name__ == "__main__":
    main()
