// fuzz/safetensors_fuzz.cpp — SafetensorsFile::from_bytes (the checks open() runs on a mapped file) on arbitrary
// bytes, then entry()/load() of every tensor in its own dtype and as F32.
//
// Invariants of an accepted file: the entries tile the data buffer (Σ nbytes = data_bytes()), each loaded tensor
// has the entry's shape, and re-writing the core-dtype tensors with accent's writer and reading them back gives
// the same tensors (reader and writer agree on the layout).
#include <map>

#include "core/error.h"
#include "fuzz/fuzz_util.h"
#include "io/safetensors.h"

using namespace accent;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::shared_ptr<SafetensorsFile> file;
  try {
    file = SafetensorsFile::from_bytes(fuzz::as_view(data, size), "fuzz.safetensors");
  } catch (const Error&) {
    return 0;  // refused with a message: the expected outcome for most inputs
  }
  size_t covered = 0;
  std::map<std::string, Tensor> native;
  for (const std::string& name : file->names()) {
    const SafetensorsEntry& e = file->entry(name);
    covered += e.nbytes;
    try {
      const Tensor f32 = file->load(name);
      FUZZ_ASSERT(f32.dtype() == DType::F32 && f32.shape() == e.shape, "load() keeps the entry's shape");
      if (e.has_core_dtype) {
        const Tensor t = file->load(name, e.dtype);
        FUZZ_ASSERT(t.nbytes() == e.nbytes, "a core-dtype tensor holds exactly its data_offsets span");
        native.emplace(name, t);
      }
    } catch (const Error&) {
      FUZZ_ASSERT(!e.has_core_dtype, "only types accent cannot convert may fail to load");
    }
  }
  FUZZ_ASSERT(covered == file->data_bytes(), "entries tile the data buffer");

  const std::string rewritten = safetensors_bytes(native, file->metadata());
  const auto again = SafetensorsFile::from_bytes(rewritten, "fuzz.rewritten.safetensors");
  FUZZ_ASSERT(again->names().size() == native.size(), "rewrite keeps every tensor");
  FUZZ_ASSERT(again->metadata() == file->metadata(), "rewrite keeps the metadata");
  for (const auto& [name, t] : native)
    FUZZ_ASSERT(fuzz::same_tensor(again->load(name, t.dtype()), t), "rewrite keeps every tensor's bytes");
  return 0;
}
