#!/usr/bin/python3
"""N steps of HF-Trainer-style fine-tuning of a small random model of one family in PyTorch
(oracle for tests/unit/train_family_steps_test.cpp).

Families: bert (the math of bert_twin.py) and roberta, electra (with an embedding projection, E ≠ H), distilbert,
gpt2, qwen2, llama, modernbert, deberta-v2 (the math of family_twin.py). Tasks (--task): sequence (the
*ForSequenceClassification head and loss of bert_twin.py / family_twin.py), token and qa (*ForTokenClassification /
*ForQuestionAnswering: the model, head and loss of task_twin.py, imported, not restated). Trains the way
transformers.Trainer does with dropout off: per step loss.backward(), clip_grad_norm_(max_grad_norm),
torch.optim.AdamW (betas 0.9/0.999, eps 1e-8) with the Trainer's two parameter groups, LambdaLR linear warmup/decay,
zero_grad.
The groups follow Trainer.get_decay_parameter_names = get_parameter_names(model, ALL_LAYERNORM_LAYERS,
["bias", "layernorm", "rmsnorm"]): no decay for every parameter of an nn.LayerNorm module and for every name
matching those patterns. The twins have no modules, so the LayerNorm-module parameters are found from the math:
every tensor the forward passes to F.layer_norm as weight or bias (so DistilBERT's sa_layer_norm and GPT-2's
ln_1/ln_2/ln_f are found by kind, not by name).
Writes into --out:
  config.json, model.safetensors   the random starting model (bert_twin.generate "tiny" / family_twin.generate;
                                   task_twin.generate for token / qa, whose config names the head's architecture)
  batches.safetensors              input_ids.<k>, token_type_ids.<k>, attention_mask.<k> (I64): right padding with
                                   the family's pad_token_id, one unpadded row; and the labels (I64) of the task:
                                     sequence  labels.<k> (B), some -100
                                     token     token_labels.<k> (B, T): -100 on padding, on the first token and on
                                               a few others
                                     qa        start_positions.<k>, end_positions.<k> (B): spans inside each row,
                                               some at 0 (CLS, "no answer"), on odd steps one row past T (clamped
                                               to T and ignored by the loss, as transformers does)
  trained.safetensors              losses [N] (loss of step k before its update), the final parameters
  no_decay.txt                     the names in the Trainer's weight_decay = 0 group, one a line
Usage: /usr/bin/python3 train_family_steps.py --out DIR [--family bert] [--task sequence] [--steps 10] [--lr 1e-3]
       [--weight-decay 0.01] [--warmup 2] [--max-grad-norm 1.0] [--seed 0]
"""
import argparse
import json
import os
import re
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bert_twin  # noqa: E402
import family_twin  # noqa: E402
import task_twin  # noqa: E402

FAMILIES = ["bert", "roberta", "electra", "distilbert", "gpt2", "qwen2", "llama", "modernbert", "deberta-v2"]
TASKS = ["sequence", "token", "qa"]
ACTIVATION = {"bert": "gelu", "roberta": "gelu", "electra": "gelu", "distilbert": "gelu", "gpt2": "gelu_new", "qwen2": "silu",
              "llama": "silu", "modernbert": "gelu", "deberta-v2": "gelu"}


def lr_linear(warmup, total):
    def f(step):  # transformers.get_linear_schedule_with_warmup
        if step < warmup:
            return float(step) / float(max(1, warmup))
        return max(0.0, float(total - step) / float(max(1, total - warmup)))
    return f


def logits_of(family, task, P, cfg, ids, tt, mask):
    if task != "sequence":
        return task_twin.logits_of(family, task, P, cfg, ids, tt, mask)
    if family == "bert":
        return bert_twin.logits_of(P, cfg, ids, tt, mask)
    return family_twin.logits_of(family, P, cfg, ids, tt, mask)


def loss_of(task, logits, labels, cfg):
    """labels: the batch's label tensors by the names batches.safetensors gives them (without ".<k>")."""
    if task == "sequence":
        return bert_twin.loss_of(logits, labels["labels"], cfg)
    return task_twin.loss_of(task, logits, labels)


class LayerNormRecorder:
    """Stands in for torch.nn.functional inside the twins: records the tensors given to F.layer_norm."""

    def __init__(self):
        self.norm_params = set()  # id() of every LayerNorm weight and bias

    def __getattr__(self, name):
        return getattr(F, name)

    def layer_norm(self, x, shape, weight=None, bias=None, eps=1e-5):
        self.norm_params.update(id(t) for t in (weight, bias) if t is not None)
        return F.layer_norm(x, shape, weight, bias, eps)


def no_decay_names(family, task, P, names, cfg, batch):
    """Trainer.get_decay_parameter_names, complemented: LayerNorm-module parameters (found by running the
    forward once with a recording F) and names matching transformers' forbidden_name_patterns (lower-cased): "bias",
    "layernorm", "rmsnorm", a ".norm." component, "_norm" at a component's end."""
    recorder = LayerNormRecorder()
    saved = bert_twin.F, family_twin.F
    bert_twin.F = family_twin.F = recorder
    try:
        with torch.no_grad():
            logits_of(family, task, P, cfg, *batch[:3])
    finally:
        bert_twin.F, family_twin.F = saved
    patterns = [re.compile(p) for p in ("bias", "layernorm", "rmsnorm", r"(?:^|\.)norm(?:$|\.)", r"_norm(?:$|\.)")]
    return [n for n in names
            if id(P[n]) in recorder.norm_params or any(p.search(n.lower()) for p in patterns)]


def make_batches(family, task, cfg, steps, seed):
    """Varying lengths, right-padded with pad_token_id (mask 0), one unpadded row per batch; token types (second
    half of each row = 1) only for the families whose tokenizers give them (BERT, ELECTRA). Returns
    (ids, tt, mask, labels) per step, labels a dict as loss_of takes it. The sequence task's draws come first and
    are unchanged by the other tasks' (their labels are drawn after, from the same generator)."""
    g = torch.Generator().manual_seed(1000 + seed)
    V, C, pad = cfg["vocab_size"], len(cfg["id2label"]), family_twin.pad_of(family, cfg)
    # Real ids: never the pad id (GPT-2 pools at the rightmost id ≠ pad; pad = eos = V − 1 there).
    lo, hi = (1, V) if family == "bert" else (3, V - 1)
    with_types = family in ("bert", "electra")
    batches = []
    for k in range(steps):
        B, T = 4, 8 + (k % 3) * 4
        ids = torch.full((B, T), pad, dtype=torch.int64)
        tt = torch.zeros(B, T, dtype=torch.int64)
        mask = torch.zeros(B, T, dtype=torch.int64)
        for b in range(B):
            length = T if b == 0 else int(torch.randint(3, T + 1, (1,), generator=g))
            ids[b, :length] = torch.randint(lo, hi, (length,), generator=g)
            if with_types:
                tt[b, max(1, length // 2):length] = 1
            mask[b, :length] = 1
        labels = torch.randint(0, C, (B,), generator=g)
        if k % 2 == 1:
            labels[k % B] = -100  # CrossEntropyLoss's ignore_index: the mean is over the other rows
        if task == "sequence":
            batches.append((ids, tt, mask, {"labels": labels}))
        elif task == "token":
            # -100 where run_ner.py puts it: padding, special tokens (the first) and later sub-words (a few more).
            tl = torch.randint(0, C, (B, T), generator=g)
            tl[mask == 0] = -100
            tl[:, 0] = -100
            tl[torch.rand(B, T, generator=g) < 0.2] = -100
            batches.append((ids, tt, mask, {"token_labels": tl}))
        else:
            lengths = mask.sum(1)
            start = torch.stack([torch.randint(0, int(n), (1,), generator=g)[0] for n in lengths])
            end = torch.stack([s + torch.randint(0, int(n - s), (1,), generator=g)[0] for s, n in zip(start, lengths)])
            start[(k + 1) % B] = end[(k + 1) % B] = 0  # no answer: CLS (index 0), a position the loss counts
            if k % 2 == 1:  # beyond the window: clamped to T = ignore_index, the mean is over the other rows
                start[k % B], end[k % B] = T + 3, T + 1 + k
            batches.append((ids, tt, mask, {"start_positions": start, "end_positions": end}))
    return batches


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--family", choices=FAMILIES, default="bert")
    ap.add_argument("--task", choices=TASKS, default="sequence")
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--max-grad-norm", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    # One thread: the model is tiny (B = 4, T ≤ 16, H = 64), and on a busy machine (the test suite runs in
    # parallel) a second thread made the 10 steps ~10× slower (2.5 s instead of 0.2 s) without changing the math.
    torch.set_num_threads(1)

    if a.task != "sequence":
        task_twin.generate(a.out, a.family, a.task, a.seed)
        for spare in ("inputs.safetensors", "expected.safetensors"):  # its one-step check's files: not used here
            if os.path.exists(os.path.join(a.out, spare)):
                os.remove(os.path.join(a.out, spare))
    elif a.family == "bert":
        bert_twin.generate(a.out, "tiny", "single", ACTIVATION[a.family], a.seed)
    else:
        family_twin.generate(a.out, a.family, "single", ACTIVATION[a.family], a.seed, False)
    with open(os.path.join(a.out, "config.json")) as f:
        cfg = json.load(f)
    P = bert_twin.read_safetensors(os.path.join(a.out, "model.safetensors"))
    names = list(P)  # HF state-dict order, as generated

    batches = make_batches(a.family, a.task, cfg, a.steps, a.seed)
    blobs = {}
    for k, (ids, tt, mask, labels) in enumerate(batches):
        blobs.update({f"input_ids.{k}": ids, f"token_type_ids.{k}": tt, f"attention_mask.{k}": mask})
        blobs.update({f"{name}.{k}": t for name, t in labels.items()})
    bert_twin.write_safetensors(os.path.join(a.out, "batches.safetensors"), blobs)

    params = [P[n].clone().requires_grad_(True) for n in names]
    by_name = dict(zip(names, params))
    no_decay = no_decay_names(a.family, a.task, by_name, names, cfg, batches[0])
    groups = [{"params": [by_name[n] for n in names if n not in no_decay], "weight_decay": a.weight_decay},
              {"params": [by_name[n] for n in no_decay], "weight_decay": 0.0}]
    opt = torch.optim.AdamW(groups, lr=a.lr, betas=(0.9, 0.999), eps=1e-8)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_linear(a.warmup, a.steps))
    losses = []
    for ids, tt, mask, labels in batches:
        loss = loss_of(a.task, logits_of(a.family, a.task, by_name, cfg, ids, tt, mask), labels, cfg)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, a.max_grad_norm)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        losses.append(float(loss))
    out = {"losses": torch.tensor(losses, dtype=torch.float32)}
    out.update({n: p.detach() for n, p in by_name.items()})
    bert_twin.write_safetensors(os.path.join(a.out, "trained.safetensors"), out)
    with open(os.path.join(a.out, "no_decay.txt"), "w") as f:
        f.write("".join(n + "\n" for n in no_decay))


if __name__ == "__main__":
    sys.exit(main())
