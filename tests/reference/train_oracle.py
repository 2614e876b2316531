#!/usr/bin/python3
"""Oracle for accent's train/ layer: runs the same computation through PyTorch / scikit-learn.

Usage: /usr/bin/python3 train_oracle.py <task> <input.json> <output.json>
  adamw     torch.optim.AdamW with HF's two parameter groups (decay / no decay), frozen parameters left out,
            a transformers-style LambdaLR schedule and torch.nn.utils.clip_grad_norm_, stepped like HF's Trainer.
  schedule  learning rates of transformers.get_scheduler's lambdas driven by torch's LambdaLR.
  metrics   scikit-learn / scipy metrics (zero_division=0).
The formulas of the schedules are written out here from transformers/optimization.py (transformers itself is not
installed on this machine); torch's LambdaLR applies them.
"""
import json
import math
import sys

import torch


def lr_lambda(kind, warmup, total):
    def linear(step):
        if step < warmup:
            return float(step) / float(max(1, warmup))
        return max(0.0, float(total - step) / float(max(1, total - warmup)))

    def cosine(step, num_cycles=0.5):
        if step < warmup:
            return float(step) / float(max(1, warmup))
        progress = float(step - warmup) / float(max(1, total - warmup))
        return max(0.0, 0.5 * (1.0 + math.cos(math.pi * float(num_cycles) * 2.0 * progress)))

    def constant(step):
        return 1.0

    def constant_with_warmup(step):
        if step < warmup:
            return float(step) / float(max(1.0, warmup))
        return 1.0

    return {"linear": linear, "cosine": cosine, "constant": constant,
            "constant_with_warmup": constant_with_warmup}[kind]


def run_schedule(cfg):
    out = []
    for case in cfg["cases"]:
        p = torch.nn.Parameter(torch.zeros(1))
        opt = torch.optim.AdamW([p], lr=case["base_lr"])
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda(case["type"], case["warmup"], case["total"]))
        lrs = []
        for _ in range(case["steps"]):
            lrs.append(opt.param_groups[0]["lr"])  # the lr the next optimizer.step() uses
            opt.step()
            sched.step()
        out.append(lrs)
    return {"lrs": out}


def run_adamw(cfg):
    torch.set_num_threads(1)
    params = []
    for spec in cfg["params"]:
        t = torch.tensor(spec["value"], dtype=torch.float32).reshape(spec["shape"])
        params.append(torch.nn.Parameter(t, requires_grad=spec["trainable"]))
    specs = cfg["params"]
    trainable = [i for i, s in enumerate(specs) if s["trainable"]]
    decay = [params[i] for i in trainable if specs[i]["decay"]]
    no_decay = [params[i] for i in trainable if not specs[i]["decay"]]
    # Trainer.create_optimizer: two groups, weight decay only on the first.
    groups = [{"params": decay, "weight_decay": cfg["weight_decay"]}, {"params": no_decay, "weight_decay": 0.0}]
    opt = torch.optim.AdamW(groups, lr=cfg["base_lr"], betas=(cfg["beta1"], cfg["beta2"]), eps=cfg["eps"])
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda(cfg["schedule"], cfg["warmup"], cfg["total"]))
    steps = []
    for grads in cfg["grads"]:
        for i, g in zip(trainable, grads):
            params[i].grad = torch.tensor(g, dtype=torch.float32).reshape(specs[i]["shape"])
        norm = None
        if cfg["max_grad_norm"] > 0:
            norm = float(torch.nn.utils.clip_grad_norm_([params[i] for i in trainable], cfg["max_grad_norm"]))
        lr = opt.param_groups[0]["lr"]
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        steps.append({"lr": lr, "grad_norm": norm,
                      "params": [p.detach().reshape(-1).tolist() for p in params]})
    state = []
    for i in trainable:
        s = opt.state[params[i]]
        state.append({"exp_avg": s["exp_avg"].reshape(-1).tolist(), "exp_avg_sq": s["exp_avg_sq"].reshape(-1).tolist(),
                      "step": float(s["step"])})
    return {"steps": steps, "state": state}


def run_metrics(cfg):
    import numpy as np
    from scipy.stats import pearsonr
    from sklearn.metrics import (accuracy_score, confusion_matrix, f1_score, mean_absolute_error,
                                 mean_squared_error, precision_recall_fscore_support)
    out = {}
    if "single" in cfg:
        s = cfg["single"]
        yt, yp, c = np.array(s["y_true"]), np.array(s["y_pred"]), s["num_labels"]
        p, r, f, sup = precision_recall_fscore_support(yt, yp, labels=list(range(c)), zero_division=0)
        mp, mr, mf, _ = precision_recall_fscore_support(yt, yp, average="macro", zero_division=0)
        out["single"] = {"accuracy": accuracy_score(yt, yp), "precision": p.tolist(), "recall": r.tolist(),
                         "f1": f.tolist(), "support": sup.tolist(), "macro_precision": mp, "macro_recall": mr,
                         "macro_f1": mf, "weighted_f1": f1_score(yt, yp, average="weighted", zero_division=0),
                         "confusion": confusion_matrix(yt, yp, labels=list(range(c))).tolist()}
    if "multi" in cfg:
        m = cfg["multi"]
        yt = np.array(m["y_true"]).reshape(-1, m["num_labels"])
        yp = np.array(m["y_pred"]).reshape(-1, m["num_labels"])
        p, r, f, _ = precision_recall_fscore_support(yt, yp, average="micro", zero_division=0)
        out["multi"] = {"subset_accuracy": accuracy_score(yt, yp), "micro_precision": p, "micro_recall": r,
                        "micro_f1": f, "macro_f1": f1_score(yt, yp, average="macro", zero_division=0),
                        "per_label_f1": f1_score(yt, yp, average=None, zero_division=0).tolist()}
    if "regression" in cfg:
        g = cfg["regression"]
        yt, yp = np.array(g["y_true"], dtype=np.float32), np.array(g["y_pred"], dtype=np.float32)
        out["regression"] = {"mse": float(mean_squared_error(yt, yp)), "mae": float(mean_absolute_error(yt, yp)),
                             "pearson": float(pearsonr(yt.astype(np.float64), yp.astype(np.float64))[0])}
    return out


def main():
    task, src, dst = sys.argv[1:4]
    with open(src) as f:
        cfg = json.load(f)
    result = {"adamw": run_adamw, "schedule": run_schedule, "metrics": run_metrics}[task](cfg)
    with open(dst, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
