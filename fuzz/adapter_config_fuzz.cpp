// fuzz/adapter_config_fuzz.cpp — a LoRA adapter directory's JSON files: adapter_config.json → LoraConfig::from_json,
// and accent_labels.json → adapter_labels_from_json (the first byte picks which; the rest is the file).
//
// Invariant of an accepted adapter config: saving is a fixed point after one round, i.e. from_json(to_json(c))
// saves to the same JSON as c, and it passes validate() (rank in [1, 65536], alpha > 0, dropout in [0, 1)).
// Contract: a value or accent::Error — never a crash, undefined behaviour (a float 1e300 read as the rank) or a
// nlohmann exception.
#include "core/error.h"
#include "core/json_parse.h"
#include "fuzz/fuzz_util.h"
#include "models/lora_config.h"

using namespace accent;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view text = fuzz::as_view(data + 1, size - 1);
  try {
    if (data[0] % 2 == 1) {
      const AdapterLabels labels = adapter_labels_from_json(parse_json(text, "fuzz/accent_labels.json"),
                                                            "fuzz/accent_labels.json");
      FUZZ_ASSERT(!labels.problem_type || !labels.problem_type->empty(), "a problem type is named");
      return 0;
    }
    const LoraConfig config = LoraConfig::from_json(parse_json(text, "fuzz/adapter_config.json"),
                                                    "fuzz/adapter_config.json");
    FUZZ_ASSERT(config.hyper.r >= 1 && config.hyper.r <= kMaxLoraRank, "rank in range");
    const nlohmann::json saved = config.to_json();
    const LoraConfig reread = LoraConfig::from_json(saved, "fuzz/saved/adapter_config.json");
    FUZZ_ASSERT(reread.to_json() == saved, "save(parse(save(c))) == save(c)");
  } catch (const Error&) {
  }
  return 0;
}
