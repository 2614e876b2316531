"""Oracle for tests/unit/data_dataset_test.cpp: how a Hugging Face script types and maps labels read by pandas.

argv[1]: JSON list of cases {"path", "sep", "header": bool, "quoting": bool, "label": column name or index,
                             "seed": int, "test_size": float}
argv[2]: output JSON list: {"dtype": pandas dtype of the label column ("int64", "float64", "object"),
  "label_list": [str(v) for v in sorted(set(labels))]  (run_glue.py: label_list = unique(); label_list.sort()),
  "ids": [label_list.index(v) for each row],
  "split": [train rows, test rows]  (sklearn train_test_split(range(n), test_size, random_state=seed)),
  "stratified": [train rows, test rows]  (same, stratify=labels) or {"error": sklearn's ValueError}}
Labels are typed by pandas' default inference, as `datasets.load_dataset("csv")` gets them.
Run with /usr/bin/python3 (Debian pandas 1.5, scikit-learn 1.2).
"""
import csv
import json
import sys

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split


def run(case):
    df = pd.read_csv(case["path"], sep=case["sep"], header=0 if case["header"] else None, keep_default_na=True,
                     quoting=csv.QUOTE_MINIMAL if case["quoting"] else csv.QUOTE_NONE)
    col = case["label"] if case["header"] else int(case["label"])
    labels = df[col].tolist()
    out = {"dtype": str(df[col].dtype)}
    if out["dtype"] != "float64":
        label_list = sorted(set(labels))
        index = {v: i for i, v in enumerate(label_list)}
        out["label_list"] = [str(v) for v in label_list]
        out["ids"] = [index[v] for v in labels]
        rows = np.arange(len(labels))
        tr, te = train_test_split(rows, test_size=case["test_size"], random_state=case["seed"])
        out["split"] = [tr.tolist(), te.tolist()]
        try:
            tr, te = train_test_split(rows, test_size=case["test_size"], random_state=case["seed"], stratify=labels)
            out["stratified"] = [tr.tolist(), te.tolist()]
        except ValueError as e:  # e.g. fewer test rows than classes
            out["stratified"] = {"error": str(e)}
    return out


cases = json.load(open(sys.argv[1]))
json.dump([run(c) for c in cases], open(sys.argv[2], "w"), ensure_ascii=False)
