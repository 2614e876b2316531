// fuzz/checkpoint_files_fuzz.cpp — the files a training checkpoint is resumed from (train/checkpoint_json.h): the
// first byte picks trainer_resume.json, trainer_state.json, scheduler.json, or (as plain text) a directory name
// for checkpoint_step and optimizer.safetensors' "step" metadata; the rest is the file.
//
// Invariants: an accepted trainer_resume.json saves and re-reads to the same state; steps and counters are within
// [0, kMaxCheckpointCount]; a checkpoint name's step prints back as the name's digits (leading zeros aside).
// Contract: a value or accent::Error — never a crash, undefined behaviour or another exception.
#include "core/error.h"
#include "core/json_parse.h"
#include "fuzz/fuzz_util.h"
#include "train/checkpoint_json.h"

using namespace accent;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string text(fuzz::as_view(data + 1, size - 1));
  try {
    switch (data[0] % 4) {
      case 0: {
        const ResumeState r = resume_from_json(parse_json(text, "fuzz/trainer_resume.json"), "fuzz/trainer_resume.json");
        FUZZ_ASSERT(r.epoch >= 0 && r.batch_in_epoch >= 0 && r.steps_since_log >= 0, "counts are non-negative");
        const nlohmann::json saved = resume_to_json(r);
        FUZZ_ASSERT(resume_to_json(resume_from_json(saved, "fuzz/saved")) == saved, "save(parse(save(r))) == save(r)");
        break;
      }
      case 1: {
        const SavedTrainerState s = trainer_state_from_json(parse_json(text, "fuzz/trainer_state.json"),
                                                            "fuzz/trainer_state.json");
        FUZZ_ASSERT(s.global_step >= 0 && s.global_step <= kMaxCheckpointCount, "global_step in range");
        FUZZ_ASSERT(s.log_history.is_array() && s.patience_counter >= 0, "log_history array, counter >= 0");
        break;
      }
      case 2: {
        const auto total = scheduler_total_steps(parse_json(text, "fuzz/scheduler.json"), "fuzz/scheduler.json");
        FUZZ_ASSERT(!total || (*total >= 0 && *total <= kMaxCheckpointCount), "total_steps in range");
        break;
      }
      default: {
        if (const auto step = checkpoint_step(text)) {
          const std::string digits = text.substr(std::string("checkpoint-").size());
          FUZZ_ASSERT(*step >= 0, "a step is non-negative");
          FUZZ_ASSERT(std::to_string(*step) == digits.substr(std::min(digits.find_first_not_of('0'), digits.size() - 1)),
                      "the step prints back as the name's digits");
        }
        const int64_t step = optimizer_step_from_metadata(text, "fuzz/optimizer.safetensors");
        FUZZ_ASSERT(step >= 0, "an optimizer step is non-negative");
      }
    }
  } catch (const Error&) {
  }
  return 0;
}
