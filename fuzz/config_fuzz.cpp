// fuzz/config_fuzz.cpp — config.json text → parse_config_text (what load_config runs), then config_to_json_string.
//
// Invariant of an accepted config: saving is a fixed point after one round, i.e. parse(save(c)) saves to the same
// text as c (a config read and saved by accent loses nothing and does not drift on every save).
//
// Not explored: a legacy "num_labels" above kMaxFuzzedLabels. parse_config builds LABEL_0..LABEL_{n-1} as
// transformers does, in time and memory linear in n (a file saying 10^9 labels costs what HF pays for it);
// under ASan a few hundred thousand labels already take a minute and would read as a hang.
#include <cstring>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "fuzz/fuzz_util.h"
#include "io/config.h"

using namespace accent;

namespace {
constexpr int64_t kMaxFuzzedLabels = 4096;

bool asks_for_many_labels(std::string_view text) {
  if (text.find("num_labels") == std::string_view::npos) return false;
  const auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  return j.is_object() && j.contains("num_labels") && j["num_labels"].is_number_integer() &&
         j["num_labels"].get<int64_t>() > kMaxFuzzedLabels;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (asks_for_many_labels(fuzz::as_view(data, size))) return 0;
  ModelConfig config;
  try {
    config = parse_config_text(std::string(fuzz::as_view(data, size)), "fuzz/config.json");
  } catch (const Error&) {
    return 0;
  }
  const std::string saved = config_to_json_string(config);
  const ModelConfig reread = parse_config_text(saved, "fuzz/saved/config.json");
  FUZZ_ASSERT(config_to_json_string(reread) == saved, "save(parse(save(c))) == save(c)");
  return 0;
}
