"""What bench/torch_epoch.py and bench/torch_infer.py share: the PyTorch twin's bert-base parameters (random,
the same recipe as bench/torch_step.py), the config, and the batch files the C++ benchmarks write
(bench/bench_common.h: `<prefix>.input_ids` / `.token_type_ids` / `.attention_mask` I32 (B, T), `.labels` I64).
Output lines meant for scripts are `METRIC <key> <value>`, as on the C++ side.
"""
import os
import resource
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "reference"))
import bert_twin  # noqa: E402

H, I, V = 768, 3072, 30522


def bert_base_config(layers):
    """bert-base-uncased's config (dropout 0.1) with `layers` encoder layers and a 2-label head."""
    return dict(vocab_size=V, hidden_size=H, num_hidden_layers=layers, num_attention_heads=12,
                intermediate_size=I, max_position_embeddings=512, type_vocab_size=2, hidden_act="gelu",
                layer_norm_eps=1e-12, hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1,
                classifier_dropout=None, pad_token_id=0, id2label={"0": "LABEL_0", "1": "LABEL_1"},
                problem_type="single_label_classification")


def random_params(cfg, requires_grad):
    """Random weights in HF state-dict order (speed does not depend on the values)."""
    torch.manual_seed(0)
    P = {}
    for name in bert_twin.param_names(cfg):
        if name.endswith("LayerNorm.weight"):
            t = torch.ones(H)
        elif name.endswith("LayerNorm.bias"):
            t = torch.zeros(H)
        elif name == "bert.embeddings.word_embeddings.weight":
            t = torch.randn(V, H) * 0.02
        elif name == "bert.embeddings.position_embeddings.weight":
            t = torch.randn(512, H) * 0.02
        elif name == "bert.embeddings.token_type_embeddings.weight":
            t = torch.randn(2, H) * 0.02
        else:
            out_f = 2 if name.startswith("classifier") else (I if "intermediate" in name else H)
            in_f = I if (".output.dense" in name and "attention" not in name) else H
            t = torch.randn(out_f, in_f) * 0.02 if name.endswith(".weight") else torch.zeros(out_f)
        P[name] = t.requires_grad_(requires_grad)
    return P


def read_batches(path):
    """All tensors of a batch file (name -> torch tensor; I32 ids widened to int64 as torch's embedding wants)."""
    raw = bert_twin.read_safetensors(path)
    return {k: (v.long() if v.dtype == torch.int32 else v) for k, v in raw.items()}


def batch(tensors, prefix):
    """(input_ids, token_type_ids, attention_mask, labels or None) of batch `prefix`."""
    return (tensors[prefix + ".input_ids"], tensors[prefix + ".token_type_ids"], tensors[prefix + ".attention_mask"],
            tensors.get(prefix + ".labels"))


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def metric(key, value):
    print(f"METRIC {key} {value:.6g}", flush=True)
