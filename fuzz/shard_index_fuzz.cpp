// fuzz/shard_index_fuzz.cpp — a sharded checkpoint's index (model.safetensors.index.json,
// pytorch_model.bin.index.json) → shard_index_from_json (what read_shard_index runs).
//
// Invariant of an accepted index: every shard is a plain file name of the index's directory (no '/', not "..",
// not empty: the loader opens exactly those), and shard_files() lists each once.
// Contract: a value or accent::Error — never a crash, undefined behaviour or another exception.
#include <set>

#include "core/error.h"
#include "core/json_parse.h"
#include "fuzz/fuzz_util.h"
#include "io/shard_index.h"

using namespace accent;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const std::string origin = "fuzz/model.safetensors.index.json";
    const ShardIndex index = shard_index_from_json(parse_json(fuzz::as_view(data, size), origin), origin);
    const std::vector<std::string> files = index.shard_files();
    FUZZ_ASSERT(std::set<std::string>(files.begin(), files.end()).size() == files.size(), "each shard once");
    for (const auto& f : files)
      FUZZ_ASSERT(!f.empty() && f != ".." && f.find('/') == std::string::npos, "shards are plain file names");
  } catch (const Error&) {
  }
  return 0;
}
