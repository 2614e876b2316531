#!/usr/bin/python3
"""Independent safetensors oracle for accent's io tests (the `safetensors` package is not installed here).

  safetensors_oracle.py write OUT.safetensors EXPECTED.json
      Writes tensors made with torch (F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL; a scalar, an empty tensor)
      in the byte layout of the reference Rust writer (safetensors/src/tensor.rs `prepare` + `serialize`):
      tensors sorted by dtype rank descending then name, header = compact serde_json with __metadata__ first
      and tensors in offset order, padded with spaces to a multiple of 8. EXPECTED.json lists every tensor's
      dtype, shape, values (as float64) and raw bytes (hex).
  safetensors_oracle.py read FILE.safetensors
      Parses FILE following the spec (checkpoints.md §1), validates the tiling and prints JSON:
      {"metadata": {...}, "header": "<raw header text>", "tensors": {name: {dtype, shape, data_offsets, values}}}.
"""
import json
import struct
import sys

import numpy as np

# Position in the Rust `Dtype` enum; the writer sorts by it descending.
RANK = {"BOOL": 0, "F4": 1, "F6_E2M3": 2, "F6_E3M2": 3, "U8": 4, "I8": 5, "F8_E5M2": 6, "F8_E4M3": 7,
        "F8_E8M0": 8, "I16": 9, "U16": 10, "F16": 11, "BF16": 12, "I32": 13, "U32": 14, "F32": 15, "C64": 16,
        "F64": 17, "I64": 18, "U64": 19}
NUMPY_OF = {"F32": "<f4", "F16": "<f2", "F64": "<f8", "I64": "<i8", "I32": "<i4", "I16": "<i2", "I8": "i1",
            "U8": "u1", "BOOL": "?", "U16": "<u2", "U32": "<u4", "U64": "<u8"}
BITS = {"BOOL": 8, "U8": 8, "I8": 8, "I16": 16, "U16": 16, "F16": 16, "BF16": 16, "I32": 32, "U32": 32, "F32": 32,
        "F64": 64, "I64": 64, "U64": 64, "C64": 64}


def raw_bytes(t):
    import torch
    t = t.contiguous()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().tobytes()
    return t.numpy().tobytes()


def finite_or_name(v):
    """JSON has no inf/nan: those become the strings "inf", "-inf", "nan"."""
    v = float(v)
    return v if np.isfinite(v) else ("nan" if np.isnan(v) else ("inf" if v > 0 else "-inf"))


def write(out_path, expected_path):
    import torch  # only writing needs torch (reading uses numpy alone and starts faster)
    TORCH_TO_ST = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F64",
                   torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8",
                   torch.bool: "BOOL"}
    g = torch.Generator().manual_seed(1234)
    tensors = {
        "bert.embeddings.word_embeddings.weight": torch.randn(7, 5, generator=g),
        "bert.encoder.layer.0.attention.self.query.bias": torch.randn(5, generator=g),
        "classifier.weight": torch.randn(3, 5, generator=g).to(torch.float16),
        "classifier.bias": torch.randn(3, generator=g).to(torch.bfloat16),
        "bert.embeddings.position_ids": torch.arange(9, dtype=torch.int64).unsqueeze(0),
        "double": torch.randn(2, 2, generator=g, dtype=torch.float64),
        "ints32": torch.tensor([-2**31, 2**31 - 1, 0, 7], dtype=torch.int32),
        "ints16": torch.tensor([-32768, 32767, 5], dtype=torch.int16),
        "ints8": torch.tensor([-128, 127, 1], dtype=torch.int8),
        "bytes": torch.tensor([0, 255, 17], dtype=torch.uint8),
        "mask": torch.tensor([True, False, True]),
        "scalar": torch.tensor(3.5),
        "empty": torch.zeros(0, 4),
        "f16_special": torch.tensor([65504.0, 6.0e-8, -0.0, float("inf")], dtype=torch.float16),
    }
    items = sorted(tensors.items(), key=lambda kv: (-RANK[TORCH_TO_ST[kv[1].dtype]], kv[0].encode()))
    header = '{"__metadata__":{"format":"pt"}'
    offset = 0
    blobs = []
    for name, t in items:
        b = raw_bytes(t)
        header += ',' + json.dumps(name) + ':{"dtype":"%s","shape":%s,"data_offsets":[%d,%d]}' % (
            TORCH_TO_ST[t.dtype], json.dumps(list(t.shape), separators=(",", ":")), offset, offset + len(b))
        offset += len(b)
        blobs.append(b)
    header += "}"
    header += " " * ((8 - len(header) % 8) % 8)
    with open(out_path, "wb") as f:
        f.write(struct.pack("<Q", len(header)))
        f.write(header.encode())
        for b in blobs:
            f.write(b)
    expected = {name: {"dtype": TORCH_TO_ST[t.dtype], "shape": list(t.shape),
                       "values": [finite_or_name(v) for v in t.double().flatten().tolist()],
                       "hex": raw_bytes(t).hex()} for name, t in tensors.items()}
    with open(expected_path, "w") as f:
        json.dump(expected, f)


def read(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header_text = data[8:8 + n].decode("utf-8")
    assert header_text.startswith("{")
    header = json.loads(header_text)
    buf = data[8 + n:]
    metadata = header.pop("__metadata__", None)
    spans = sorted((info["data_offsets"], name) for name, info in header.items())
    pos = 0
    for (begin, end), name in spans:
        assert begin == pos, "tiling broken at %s" % name
        pos = end
    assert pos == len(buf), "buffer not covered"
    out = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        raw = buf[begin:end]
        numel = int(np.prod(info["shape"])) if info["shape"] else 1
        assert len(raw) * 8 == numel * BITS[info["dtype"]], "size mismatch for %s" % name
        if info["dtype"] == "BF16":
            ints = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
            values = ints.view(np.float32).astype(np.float64)
        else:
            values = np.frombuffer(raw, dtype=NUMPY_OF[info["dtype"]]).astype(np.float64)
        out[name] = {"dtype": info["dtype"], "shape": info["shape"], "data_offsets": info["data_offsets"],
                     "values": [finite_or_name(v) for v in values]}
    json.dump({"metadata": metadata, "header": header_text, "tensors": out}, sys.stdout)


if __name__ == "__main__":
    if sys.argv[1] == "write":
        write(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "read":
        read(sys.argv[2])
    else:
        sys.exit("usage: safetensors_oracle.py write OUT EXPECTED | read FILE")
