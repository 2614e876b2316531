// io/torch_bin.h — restricted reader for pytorch_model.bin (torch.save zip format), spec checkpoints.md §2.
//
// The pickle in data.pkl is interpreted by a small stack machine that knows only the opcodes a state dict needs
// and only these globals: collections.OrderedDict, torch._utils._rebuild_tensor_v2, torch._utils._rebuild_parameter
// and the torch.*Storage classes. Nothing is ever executed: any other global, opcode or call is refused with an
// error naming the file and what was found, so a malicious checkpoint cannot run code.
#pragma once
#include <map>
#include <string>
#include <string_view>

#include "core/tensor.h"

namespace accent {

// Tensors of a torch.save'd state dict (plain dict or OrderedDict), in their saved dtypes, made contiguous
// (views and shared storages are resolved with storage_offset and strides). Legacy (pre-1.6, non-zip) files and
// big-endian archives are refused with a clear error.
std::map<std::string, Tensor> load_torch_bin(const std::string& path);
// The same for a checkpoint held in memory (`origin` names it in errors).
std::map<std::string, Tensor> load_torch_bin_bytes(std::string_view bytes, const std::string& origin);

// A directory's pytorch_model.bin, or pytorch_model.bin.index.json + its shards.
std::map<std::string, Tensor> load_torch_bin_dir(const std::string& dir);

}  // namespace accent
