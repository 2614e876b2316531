#!/usr/bin/python3
"""DeBERTa-v2/v3's relative-position buckets (transformers modeling_deberta_v2.make_log_bucket_position) as JSON on
stdout, for comparing accent's table with HF's dtype arithmetic:

  deberta_bucket_check.py [--buckets 256] [--max-position 512] [--lo -600] [--hi 600]

rel = lo..hi as int64; sign, mid = buckets // 2, abs_pos = mid − 1 where −mid < rel < mid else |rel| (int64);
log_pos = ceil(log(abs_pos / mid) / log(tensor((max_position − 1) / mid)) · (mid − 1)) + mid, all in float32;
bucket = rel where abs_pos ≤ mid else log_pos · sign (float32, then .to(int64) as build_relative_position does).
The table is computed by family_twin.deberta_log_bucket_position under torch.jit.script (as HF runs it) and checked
equal to the eager run. Output: {"position_buckets", "max_position", "mid", "rel": [...], "bucket": [...],
"c2p_index": [...]} where c2p_index = clamp(bucket + buckets, 0, 2·buckets − 1), the row of rel_embeddings that
content→position attention reads (position→content reads it at −bucket). Run with /usr/bin/python3.
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from family_twin import deberta_log_bucket_position  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--buckets", type=int, default=256, help="position_buckets")
    ap.add_argument("--max-position", type=int, default=512, help="max_relative_positions (< 1: max_position_embeddings)")
    ap.add_argument("--lo", type=int, default=-600)
    ap.add_argument("--hi", type=int, default=600)
    a = ap.parse_args()
    torch.set_num_threads(1)
    rel = torch.arange(a.lo, a.hi + 1, dtype=torch.long)
    scripted = torch.jit.script(deberta_log_bucket_position)(rel, a.buckets, a.max_position)
    eager = deberta_log_bucket_position(rel, a.buckets, a.max_position)
    assert scripted.dtype == torch.float32 and torch.equal(scripted, eager), "scripted and eager tables differ"
    bucket = scripted.to(torch.long)
    json.dump({"position_buckets": a.buckets, "max_position": a.max_position, "mid": a.buckets // 2,
               "rel": rel.tolist(), "bucket": bucket.tolist(),
               "c2p_index": torch.clamp(bucket + a.buckets, 0, 2 * a.buckets - 1).tolist()}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    sys.exit(main())
