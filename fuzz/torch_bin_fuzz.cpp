// fuzz/torch_bin_fuzz.cpp — load_torch_bin_bytes (ZIP central directory + restricted unpickler + tensor rebuild)
// on arbitrary bytes. Seeds are torch.save'd state dicts (fuzz/make_seeds.py), so mutations reach both the ZIP
// parser and, through intact archives, the pickle machine.
//
// Invariant of an accepted file: its tensors survive a safetensors round trip through accent's writer and reader
// unchanged (every dtype the reader returns is one the writer stores). The one name safetensors cannot hold,
// "__metadata__" (the header's metadata key; the writer refuses it with an accent::Error), is left out.
#include "core/error.h"
#include "fuzz/fuzz_util.h"
#include "io/safetensors.h"
#include "io/torch_bin.h"

using namespace accent;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::map<std::string, Tensor> tensors;
  try {
    tensors = load_torch_bin_bytes(fuzz::as_view(data, size), "fuzz.bin");
  } catch (const Error&) {
    return 0;
  }
  for (const auto& [name, t] : tensors)
    FUZZ_ASSERT(t.nbytes() == static_cast<size_t>(shape_numel(t.shape())) * dtype_size(t.dtype()),
                "tensor size matches its shape");
  tensors.erase("__metadata__");
  const auto file = SafetensorsFile::from_bytes(safetensors_bytes(tensors), "fuzz.bin.safetensors");
  for (const auto& [name, t] : tensors)
    FUZZ_ASSERT(fuzz::same_tensor(file->load(name, t.dtype()), t), "safetensors round trip keeps the tensor");
  return 0;
}
