#!/usr/bin/python3
"""N steps of HF-Trainer-style fine-tuning of a small random BERT in PyTorch (oracle for train_bert_steps_test).

Imports the model math of bert_twin.py (the models layer's PyTorch twin), then trains it the way
transformers.Trainer does with dropout off: per step loss.backward(), clip_grad_norm_(max_grad_norm),
torch.optim.AdamW with two groups (weight decay on everything but biases and LayerNorm weights),
LambdaLR linear warmup/decay, zero_grad. Writes into --out:
  config.json, model.safetensors   the random starting model (bert_twin.generate, "tiny" preset)
  batches.safetensors              input_ids.<k>, token_type_ids.<k>, attention_mask.<k>, labels.<k> (I64)
  trained.safetensors              losses [N] (loss of step k before its update), the final parameters
Usage: /usr/bin/python3 train_bert_steps.py --out DIR [--steps 10] [--lr 1e-3] [--weight-decay 0.01]
       [--warmup 2] [--max-grad-norm 1.0] [--seed 0]
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bert_twin as twin  # noqa: E402


def lr_linear(warmup, total):
    def f(step):  # transformers.get_linear_schedule_with_warmup
        if step < warmup:
            return float(step) / float(max(1, warmup))
        return max(0.0, float(total - step) / float(max(1, total - warmup)))
    return f


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--max-grad-norm", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))

    twin.generate(a.out, "tiny", "single", "gelu", a.seed)
    with open(os.path.join(a.out, "config.json")) as f:
        cfg = json.load(f)
    P = twin.read_safetensors(os.path.join(a.out, "model.safetensors"))
    names = twin.param_names(cfg)
    C = len(cfg["id2label"])

    # Batches of varying length, right-padded, sentence pairs, one all-real row.
    g = torch.Generator().manual_seed(1000 + a.seed)
    batches, blobs = [], {}
    for k in range(a.steps):
        B, T = 4, 8 + (k % 3) * 4
        ids = torch.zeros(B, T, dtype=torch.int64)
        tt = torch.zeros(B, T, dtype=torch.int64)
        mask = torch.zeros(B, T, dtype=torch.int64)
        for b in range(B):
            length = T if b == 0 else int(torch.randint(3, T + 1, (1,), generator=g))
            ids[b, :length] = torch.randint(1, cfg["vocab_size"], (length,), generator=g)
            tt[b, max(1, length // 2):length] = 1
            mask[b, :length] = 1
        labels = torch.randint(0, C, (B,), generator=g)
        batches.append((ids, tt, mask, labels))
        blobs.update({f"input_ids.{k}": ids, f"token_type_ids.{k}": tt, f"attention_mask.{k}": mask,
                      f"labels.{k}": labels})
    twin.write_safetensors(os.path.join(a.out, "batches.safetensors"), blobs)

    params = [P[n].clone().requires_grad_(True) for n in names]
    by_name = dict(zip(names, params))
    # Trainer.get_decay_parameter_names: no decay for biases and LayerNorm weights.
    no_decay = [n for n in names if n.endswith(".bias") or "LayerNorm" in n]
    groups = [{"params": [by_name[n] for n in names if n not in no_decay], "weight_decay": a.weight_decay},
              {"params": [by_name[n] for n in no_decay], "weight_decay": 0.0}]
    opt = torch.optim.AdamW(groups, lr=a.lr, betas=(0.9, 0.999), eps=1e-8)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_linear(a.warmup, a.steps))
    losses = []
    for ids, tt, mask, labels in batches:
        loss = twin.loss_of(twin.logits_of(by_name, cfg, ids, tt, mask), labels, cfg)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, a.max_grad_norm)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        losses.append(float(loss))
    out = {"losses": torch.tensor(losses, dtype=torch.float32)}
    out.update({n: p.detach() for n, p in by_name.items()})
    twin.write_safetensors(os.path.join(a.out, "trained.safetensors"), out)


if __name__ == "__main__":
    sys.exit(main())
