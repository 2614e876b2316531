#!/usr/bin/python3
"""PyTorch side of bench/train_step_bench.cpp: one training step (forward + backward, dropout on) of a
bert-base-shaped BertForSequenceClassification with random weights, written with the PyTorch twin's model
(tests/reference/bert_twin.py: HF's math in torch functional calls), fp32 or under
torch.autocast("cpu", dtype=torch.bfloat16) (--autocast), the achieved matmul TFLOP/s next to torch's own
2048x768x3072 matmul rate measured in the same run, and the process's peak RSS.

  /usr/bin/python3 bench/torch_step.py [--batch 16] [--seq 128] [--steps 3] [--threads 2] [--layers 12] [--autocast]
                                       [--task sequence-classification|token-classification|question-answering]
                                       [--labels 13] [--epoch-sentences N]

--task token-classification / question-answering time BertForTokenClassification / BertForQuestionAnswering
instead (transformers is not needed): the base model of tests/reference/family_twin.py (hidden_of, no pooler, as
HF builds these heads with add_pooling_layer=False), then the head as modeling_bert writes it —
  token classification   classifier(Dropout(hidden)) over every token, CrossEntropyLoss (-100 ignored)
  question answering     qa_outputs(hidden).split(1, -1) over every token, (CE(start) + CE(end)) / 2, positions
                         clamped to [0, T] and T ignored (tests/reference/task_twin.py's loss_of)
with the batch recipe of train_step_bench.cpp's --task (defaults B=16 T=128, 13 labels, the projected epoch of
3394 sentences for token classification; B=8 T=384 for question answering; the values are drawn by torch's
generator, not accent's: speed does not depend on them).
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
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bert_twin  # noqa: E402
import family_twin  # noqa: E402
import task_twin  # noqa: E402
import torch_bench_common as common  # noqa: E402

TASKS = {"sequence-classification": "seq", "text-classification": "seq", "token-classification": "token",
         "ner": "token", "question-answering": "qa"}
CLS, SEP, PAD = 101, 102, 0  # bert-base-uncased's; word pieces in [1000, 30000)


def ner_batch(B, T, C, g):
    """One sentence per row ([CLS] pieces [SEP] pad…; row 0 fills T, the others 25-100 % of it); labels random in
    [0, C), -100 on [CLS], [SEP], padding and ~30 % of the pieces after the first (later sub-tokens)."""
    ids = torch.full((B, T), PAD, dtype=torch.long)
    mask = torch.zeros(B, T, dtype=torch.long)
    labels = torch.full((B, T), -100, dtype=torch.long)
    for b in range(B):
        n = T if b == 0 else max(3, T // 4 + int(torch.randint(0, T - T // 4 + 1, (1,), generator=g)))
        ids[b, 1:n - 1] = torch.randint(1000, 30000, (n - 2,), generator=g)
        ids[b, 0], ids[b, n - 1] = CLS, SEP
        mask[b, :n] = 1
        labels[b, 1:n - 1] = torch.randint(0, C, (n - 2,), generator=g)
        later = torch.rand(n - 2, generator=g) < 0.3
        later[0] = False  # the first piece starts a word
        labels[b, 1:n - 1][later] = -100
    return ids, torch.zeros(B, T, dtype=torch.long), mask, {"token_labels": labels}


def qa_batch(B, T, g):
    """[CLS] question [SEP] context [SEP] pad… per row (token types 1 on the context; row 0 fills T, the others
    50-100 % of it); the answer start <= end inside the context, at most 8 tokens long."""
    ids = torch.full((B, T), PAD, dtype=torch.long)
    tt = torch.zeros(B, T, dtype=torch.long)
    mask = torch.zeros(B, T, dtype=torch.long)
    start, end = torch.zeros(B, dtype=torch.long), torch.zeros(B, dtype=torch.long)
    for b in range(B):
        n = T if b == 0 else T // 2 + int(torch.randint(0, T - T // 2 + 1, (1,), generator=g))
        q = min(8 + int(torch.randint(0, 17, (1,), generator=g)), max(1, (n - 4) // 3))
        ctx_begin, ctx_last = q + 2, n - 2
        ids[b, :n] = torch.randint(1000, 30000, (n,), generator=g)
        ids[b, 0], ids[b, q + 1], ids[b, n - 1] = CLS, SEP, SEP
        tt[b, ctx_begin:n] = 1
        mask[b, :n] = 1
        s = ctx_begin + int(torch.randint(0, ctx_last - ctx_begin + 1, (1,), generator=g))
        start[b], end[b] = s, min(ctx_last, s + int(torch.randint(0, 8, (1,), generator=g)))
    return ids, tt, mask, {"start_positions": start, "end_positions": end}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=None, help="default 16 (question answering 8)")
    ap.add_argument("--seq", type=int, default=None, help="default 128 (question answering 384)")
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--layers", type=int, default=12)
    ap.add_argument("--autocast", action="store_true", help='torch.autocast("cpu", dtype=torch.bfloat16)')
    ap.add_argument("--task", choices=sorted(TASKS), default="sequence-classification")
    ap.add_argument("--labels", type=int, default=13, help="token classification's label count")
    ap.add_argument("--epoch-sentences", type=int, default=None,
                    help="also print the projected epoch of ceil(N/B) steps (token classification default 3394)")
    a = ap.parse_args()
    task = TASKS[a.task]
    torch.set_num_threads(a.threads)
    B = a.batch or (8 if task == "qa" else 16)
    T = a.seq or (384 if task == "qa" else 128)
    epoch_sentences = a.epoch_sentences if a.epoch_sentences is not None else (3394 if task == "token" else 0)
    C = a.labels if task == "token" else 2
    cfg = common.bert_base_config(a.layers)
    P = common.random_params(cfg, requires_grad=True)  # seeds torch with 0 first
    if task == "seq":
        ids = torch.randint(1, 30000, (B, T))
        tt = (torch.arange(T) >= T // 2).long().expand(B, T).contiguous()
        mask = torch.ones(B, T, dtype=torch.long)
        labels = torch.arange(B) % 2
        head = "ForSequenceClassification"
    else:  # no pooler (add_pooling_layer=False); the head over every token
        for name in ("bert.pooler.dense.weight", "bert.pooler.dense.bias", "classifier.weight", "classifier.bias"):
            del P[name]
        for name, shape in task_twin.head_shapes(task, common.H, C):
            P[name] = (torch.randn(shape) * 0.02 if name.endswith(".weight") else torch.zeros(shape)).requires_grad_(True)
        g = torch.Generator().manual_seed(1)
        ids, tt, mask, labels = ner_batch(B, T, C, g) if task == "token" else qa_batch(B, T, g)
        head = "ForTokenClassification" if task == "token" else "ForQuestionAnswering"
    cd = cfg["classifier_dropout"]
    cd = cfg["hidden_dropout_prob"] if cd is None else cd

    def step_loss():
        if task == "seq":
            logits = bert_twin.logits_of(P, cfg, ids, tt, mask, train=True)
            return bert_twin.loss_of(logits.float(), labels, cfg)
        x = family_twin.hidden_of("bert", P, cfg, ids, tt, mask, train=True)
        if task == "token":  # BertForTokenClassification: classifier(dropout(sequence_output))
            x = F.dropout(x, cd, training=True)
        name = "classifier" if task == "token" else "qa_outputs"
        logits = F.linear(x, P[name + ".weight"], P[name + ".bias"])
        return task_twin.loss_of(task, logits.float(), labels)

    precision = "bf16 autocast" if a.autocast else "fp32"
    print(f"pytorch {torch.__version__} train step: bert-base shape ({a.layers} layers), Bert{head} ({C} labels), "
          f"B={B} T={T}, {precision}, {a.threads} threads, mkldnn bf16 supported: {torch.backends.mkldnn.is_available()}")
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
            loss = step_loss()
        loss.backward()
        sec = time.perf_counter() - t0
        print(f"  step {s}{' (warm-up)' if s == 0 else ''}: {sec:.3f} s  (loss {loss.item():.5f})", flush=True)
        if s > 0:
            times.append(sec)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    mean = sum(times) / max(1, len(times))
    H_, I_ = 768, 3072
    tokens = B * T
    head_flops = 2 * B * H_ * H_ if task == "seq" else 2 * tokens * H_ * C  # pooler; or the per-token head
    flops = 3 * (a.layers * (2 * tokens * (4 * H_ * H_ + 2 * H_ * I_) + 4 * tokens * T * H_) + head_flops)
    best = min(times) if times else 0
    print(f"RESULT pytorch {precision}: mean {mean:.3f} s/step, best {best:.3f} s/step, "
          f"{flops / best / 1e12 if best else 0:.3f} TFLOP/s, peak RSS {peak:.0f} MiB")
    if epoch_sentences > 0 and times:
        steps = math.ceil(epoch_sentences / B)
        print(f"RESULT pytorch epoch {a.task} {precision}: {epoch_sentences} sentences = {steps} steps of B={B}, "
              f"projected {mean * steps:.1f} s ({mean * steps / 60:.2f} min) at {mean:.3f} s/step")


if __name__ == "__main__":
    main()
