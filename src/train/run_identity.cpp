// train/run_identity.cpp — see run_identity.h.
#include "train/run_identity.h"

#include <algorithm>
#include <filesystem>

#include "core/error.h"
#include "core/json_parse.h"
#include "train/checkpoint.h"

namespace accent {

namespace fs = std::filesystem;

nlohmann::json RunIdentity::to_json() const {
  return {{"data_fingerprint", data_fingerprint}, {"labels", labels}, {"problem_type", problem_type}, {"model", model}};
}


void prepare_output_dir(const TrainingArguments& args) {
  std::error_code ec;
  if (!fs::exists(args.output_dir, ec)) return;
  ACCENT_CHECK(fs::is_directory(args.output_dir, ec), args.output_dir, ": --output-dir exists and is not a directory");
  std::vector<std::string> entries;
  for (const auto& e : fs::directory_iterator(args.output_dir)) entries.push_back(e.path().filename().string());
  if (entries.empty() || args.resume_from_checkpoint) return;
  if (!args.overwrite_output_dir) {
    std::sort(entries.begin(), entries.end());
    std::string some;
    for (size_t i = 0; i < entries.size() && i < 4; ++i) some += (i ? ", " : "") + entries[i];
    if (entries.size() > 4) some += ", …";
    fail(args.output_dir, ": the output directory is not empty (", some, "); pass --overwrite-output-dir to replace "
         "the earlier run's model and checkpoints, --resume-from-checkpoint latest to continue that run, or choose "
         "another --output-dir");
  }
  // Checkpoints of the earlier run would mix with this run's (rotation, `latest`): remove them now.
  for (const auto& e : fs::directory_iterator(args.output_dir)) {
    const std::string name = e.path().filename().string();
    if (e.is_directory() && (name.rfind("checkpoint-", 0) == 0 || name.rfind("tmp-checkpoint-", 0) == 0)) {
      fs::remove_all(e.path(), ec);
      ACCENT_CHECK(!ec, e.path().string(), ": cannot remove the earlier run's checkpoint (", ec.message(), ")");
    }
  }
}

std::string checkpoint_for_resume(const TrainingArguments& args, const RunIdentity& run) {
  ACCENT_CHECK(args.resume_from_checkpoint.has_value(), "checkpoint_for_resume: no checkpoint to resume from");
  std::string dir = *args.resume_from_checkpoint;
  if (dir == "latest" || dir == "true") {
    const std::optional<std::string> latest = latest_checkpoint(args.output_dir);
    ACCENT_CHECK(latest.has_value(), "--resume-from-checkpoint ", dir, ": no checkpoint-<step> directory in ",
                 args.output_dir);
    dir = *latest;
  }
  ACCENT_CHECK(fs::is_directory(dir), "--resume-from-checkpoint: ", dir, " is not a directory");
  const fs::path identity_path = fs::path(dir) / kRunIdentityFile;
  ACCENT_CHECK(fs::exists(identity_path), dir, ": has no ", kRunIdentityFile,
               ", so it cannot be shown to be a checkpoint of this run; start a new run instead of resuming");
  const nlohmann::json theirs = read_json_file(identity_path.string());
  ACCENT_CHECK(theirs.is_object(), identity_path.string(), ": expected a JSON object, got ", theirs.type_name());
  const nlohmann::json ours = run.to_json();
  for (const auto& [key, what] : {std::pair<const char*, const char*>{"data_fingerprint", "other training data"},
                                  {"labels", "other labels"},
                                  {"problem_type", "another problem type"},
                                  {"model", "another --model"}}) {
    ACCENT_CHECK(theirs.value(key, nlohmann::json()) == ours[key], dir, ": this checkpoint was saved by a run with ",
                 what, " (", key, " ", theirs.value(key, nlohmann::json()).dump(), ", this run: ", ours[key].dump(),
                 "); resume only continues the same run");
  }
  const fs::path args_path = fs::path(dir) / "training_args.json";
  ACCENT_CHECK(fs::exists(args_path), dir, ": has no training_args.json");
  nlohmann::json saved = read_json_file(args_path.string()), now = to_json(args);
  ACCENT_CHECK(saved.is_object(), args_path.string(), ": expected a JSON object, got ", saved.type_name());
  for (const char* output_only :
       {"resume_from_checkpoint", "overwrite_output_dir", "output_dir", "progress", "disable_tqdm", "events_jsonl",
        "report_to", "logging_dir"}) {
    saved.erase(output_only);
    now.erase(output_only);
  }
  for (const auto& [key, value] : now.items()) {
    const nlohmann::json before = saved.value(key, nlohmann::json());
    ACCENT_CHECK(before == value, dir, ": this checkpoint was saved with ", key, " = ", before.dump(),
                 ", this run has ", value.dump(), "; resume only continues a run with the same arguments");
  }
  return dir;
}

}  // namespace accent
