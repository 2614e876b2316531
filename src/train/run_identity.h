// train/run_identity.h — what a training run may find in its --output-dir, and which checkpoints are its own.
//
// Why: a reused output directory kept the files of the earlier run (an old LoRA adapter beside a new full model,
// old checkpoint-* directories), and `--resume-from-checkpoint latest` picked another run's checkpoint. As HF's
// run_glue.py, a non-empty output directory is refused unless --overwrite-output-dir (or a resume) says what to do
// with it; and as a checkpoint carries the identity of its run (accent_run.json: a fingerprint of the data, the
// labels, the model) beside its training_args.json, a resume takes only a checkpoint of the same run.
#pragma once
#include "core/fnv_hash.h"  // fnv1a64
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "train/training_args.h"

namespace accent {

// File written into every checkpoint by `accent train` (the save_extra_files hook).
constexpr const char* kRunIdentityFile = "accent_run.json";

struct RunIdentity {
  std::string data_fingerprint;      // FNV-1a 64 (hex) of the training/validation bytes and how they were read
  std::vector<std::string> labels;   // id order; empty for regression
  std::string problem_type;
  std::string model;                 // --model as given
  nlohmann::json to_json() const;
};


// Before training. A missing or empty output_dir is fine. A non-empty one is refused (naming a few of its entries
// and the two flags) unless args.overwrite_output_dir or args.resume_from_checkpoint is set. With
// overwrite_output_dir (and no resume), the earlier run's checkpoint-* and tmp-checkpoint-* directories are
// removed now; its model files are replaced, all of them, by the final save's swap (io/model_dir_save.h), so a
// run that fails keeps the earlier model.
void prepare_output_dir(const TrainingArguments& args);

// The checkpoint args.resume_from_checkpoint names ("latest"/"true": the newest in output_dir), after checking it
// belongs to this run: its accent_run.json equals `run` and its training_args.json equals `args` except for the
// options that only shape output (resume_from_checkpoint, overwrite_output_dir, output_dir, progress, disable_tqdm,
// events_jsonl, report_to). Throws naming the checkpoint and the first difference.
std::string checkpoint_for_resume(const TrainingArguments& args, const RunIdentity& run);

}  // namespace accent
