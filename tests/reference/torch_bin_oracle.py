#!/usr/bin/python3
"""Writes torch.save checkpoints (and hostile ones) for accent's restricted pytorch_model.bin reader test.

  torch_bin_oracle.py write DIR
    DIR/module.bin     nn.Module state_dict (OrderedDict + _metadata BUILD) plus views sharing one storage,
                       a transposed (non-contiguous) view, f16/bf16/f64/i64/i32/i8/u8/bool tensors, a scalar,
                       an empty tensor and an nn.Parameter (torch._utils._rebuild_parameter)
    DIR/plain.bin      a plain dict
    DIR/expected.json  {file: {name: {dtype, shape, values}}} from torch itself
    DIR/evil_global.bin  same archive, data.pkl replaced by a pickle calling os.system (GLOBAL, protocol 2)
    DIR/evil_stack.bin   data.pkl calling builtins.exec via STACK_GLOBAL (protocol 4)
    DIR/legacy.bin     torch.save(..., _use_new_zipfile_serialization=False)
    DIR/sharded/       pytorch_model-0000k-of-00002.bin + pytorch_model.bin.index.json
  Evil pickles would create DIR/pwned if they were ever executed.
"""
import collections
import json
import os
import pickle
import sys
import zipfile

import torch

ST = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F64",
      torch.int64: "I64", torch.int32: "I32", torch.int8: "I8", torch.uint8: "U8", torch.bool: "BOOL"}


def describe(sd):
    out = {}
    for name, t in sd.items():
        t = t.detach()
        vals = [float(v) for v in t.double().flatten().tolist()]
        out[name] = {"dtype": ST[t.dtype], "shape": list(t.shape), "values": vals}
    return out


class Evil:
    def __init__(self, cmd):
        self.cmd = cmd

    def __reduce__(self):
        return (os.system, (self.cmd,))


class EvilExec:
    def __init__(self, code):
        self.code = code

    def __reduce__(self):
        import builtins
        return (builtins.exec, (self.code,))


def replace_pickle(src, dst, payload):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", compression=zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename.endswith("/data.pkl"):
                data = payload
            zout.writestr(info.filename, data)


def main(d):
    os.makedirs(d, exist_ok=True)
    g = torch.Generator().manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.LayerNorm(4))
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g))
    sd = module.state_dict()
    base = torch.randn(4, 5, generator=g)
    sd["shared.base"] = base
    sd["shared.rows"] = base[1:3]             # storage offset 5, contiguous
    sd["shared.cols"] = base[:, 2:4]          # strided
    sd["shared.t"] = base.t()                 # transposed
    sd["half"] = torch.randn(3, 2, generator=g).half()
    sd["bf16"] = torch.randn(5, generator=g).bfloat16()
    sd["f64"] = torch.randn(2, generator=g).double()
    sd["ids"] = torch.arange(-3, 6, dtype=torch.int64).reshape(3, 3)
    sd["i32"] = torch.tensor([2**31 - 1, -2**31], dtype=torch.int32)
    sd["i8"] = torch.tensor([-128, 127], dtype=torch.int8)
    sd["u8"] = torch.tensor([0, 255], dtype=torch.uint8)
    sd["mask"] = torch.tensor([True, False, True])
    sd["scalar"] = torch.tensor(2.5)
    sd["empty"] = torch.zeros(0, 3)
    sd["param"] = torch.nn.Parameter(torch.randn(2, generator=g))
    torch.save(sd, os.path.join(d, "module.bin"))
    plain = {"a": torch.randn(2, 2, generator=g), "b": torch.ones(3, dtype=torch.int64)}
    torch.save(plain, os.path.join(d, "plain.bin"))
    with open(os.path.join(d, "expected.json"), "w") as f:
        json.dump({"module.bin": describe(sd), "plain.bin": describe(plain)}, f)

    marker = os.path.join(d, "pwned")
    replace_pickle(os.path.join(d, "plain.bin"), os.path.join(d, "evil_global.bin"),
                   pickle.dumps(Evil("touch " + marker), protocol=2))
    replace_pickle(os.path.join(d, "plain.bin"), os.path.join(d, "evil_stack.bin"),
                   pickle.dumps(EvilExec("open(%r, 'w').close()" % marker), protocol=4))
    torch.save(plain, os.path.join(d, "legacy.bin"), _use_new_zipfile_serialization=False)

    shard_dir = os.path.join(d, "sharded")
    os.makedirs(shard_dir, exist_ok=True)
    s1 = collections.OrderedDict(a=plain["a"])
    s2 = collections.OrderedDict(b=plain["b"])
    torch.save(s1, os.path.join(shard_dir, "pytorch_model-00001-of-00002.bin"))
    torch.save(s2, os.path.join(shard_dir, "pytorch_model-00002-of-00002.bin"))
    index = {"metadata": {"total_size": 16 + 24},
             "weight_map": {"a": "pytorch_model-00001-of-00002.bin", "b": "pytorch_model-00002-of-00002.bin"}}
    with open(os.path.join(shard_dir, "pytorch_model.bin.index.json"), "w") as f:
        json.dump(index, f)


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "write":
        sys.exit("usage: torch_bin_oracle.py write DIR")
    main(sys.argv[2])
