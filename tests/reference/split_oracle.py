"""Oracle for tests/unit/data_split_test.cpp: numpy RandomState permutations and scikit-learn splits.

Reads a JSON list of cases from argv[1], writes a JSON list of results to argv[2]. Each case is
  {"kind": "permutation", "n": N, "seed": S}                      -> numpy.random.RandomState(S).permutation(N)
  {"kind": "split", "n": N, "test_size": F, "seed": S}            -> sklearn train_test_split (or numpy ShuffleSplit
                                                                     recipe when sklearn is absent)
  {"kind": "stratified", "y": [...], "test_size": F, "seed": S}   -> sklearn train_test_split(stratify=y)
Results: {"perm": [...]} / {"train": [...], "test": [...], "oracle": "sklearn"|"numpy"} / {"error": "..."}.
Run with /usr/bin/python3 (Debian numpy; scikit-learn from the Debian package python3-sklearn).
"""
import json
import math
import sys

import numpy as np

try:
    from sklearn.model_selection import train_test_split
except ImportError:  # stratified cases are then reported as unavailable
    train_test_split = None


def run(case):
    kind = case["kind"]
    if kind == "permutation":
        return {"perm": np.random.RandomState(case["seed"]).permutation(case["n"]).tolist()}
    try:
        if kind == "split":
            n = case["n"]
            if train_test_split is None:
                n_test = math.ceil(case["test_size"] * n)
                perm = np.random.RandomState(case["seed"]).permutation(n)
                return {"train": perm[n_test:].tolist(), "test": perm[:n_test].tolist(), "oracle": "numpy"}
            tr, te = train_test_split(np.arange(n), test_size=case["test_size"], random_state=case["seed"])
            return {"train": tr.tolist(), "test": te.tolist(), "oracle": "sklearn"}
        if kind == "stratified":
            if train_test_split is None:
                return {"error": "scikit-learn not installed", "oracle": "none"}
            y = np.asarray(case["y"])
            tr, te = train_test_split(np.arange(len(y)), test_size=case["test_size"], random_state=case["seed"],
                                      stratify=y)
            return {"train": tr.tolist(), "test": te.tolist(), "oracle": "sklearn"}
    except ValueError as e:
        return {"error": str(e)}
    raise SystemExit(f"unknown case kind {kind}")


cases = json.load(open(sys.argv[1]))
json.dump([run(c) for c in cases], open(sys.argv[2], "w"))
