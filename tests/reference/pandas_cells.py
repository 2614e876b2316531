"""Oracle for tests/unit/data_table_test.cpp: how pandas.read_csv splits files into cells.

argv[1]: JSON list of cases {"path", "sep", "header": bool, "quoting": bool, "replace": bool}.
argv[2]: output JSON list, one per case: {"columns": [...], "rows": [[...], ...]} with every cell a string
(read with dtype=str, keep_default_na=False so nothing is converted or turned into NaN), or {"error": "..."}.
Run with /usr/bin/python3 (Debian pandas 1.5).
"""
import csv
import json
import sys

import pandas as pd


def read(case):
    try:
        df = pd.read_csv(case["path"], sep=case["sep"], header=0 if case["header"] else None, dtype=str,
                         keep_default_na=False, quoting=csv.QUOTE_MINIMAL if case["quoting"] else csv.QUOTE_NONE,
                         encoding="utf-8", encoding_errors="replace" if case["replace"] else "strict")
    except Exception as e:  # ParserError, UnicodeDecodeError, EmptyDataError
        return {"error": f"{type(e).__name__}: {e}"}
    if len(df) > 0 and not isinstance(df.index, pd.RangeIndex):
        return {"error": "pandas inferred an index column (more fields than header names)"}
    return {"columns": [str(c) for c in df.columns], "rows": df.values.tolist()}


cases = json.load(open(sys.argv[1]))
json.dump([read(c) for c in cases], open(sys.argv[2], "w"), ensure_ascii=False)
