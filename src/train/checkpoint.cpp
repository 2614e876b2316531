#include "train/checkpoint.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>

#include "core/error.h"
#include "core/fs.h"
#include "core/json_parse.h"
#include "io/config.h"
#include "io/model_dir_save.h"
#include "io/safetensors.h"

namespace accent {

namespace fs = std::filesystem;

namespace {
constexpr const char* kCheckpointPrefix = "checkpoint-";
constexpr const char* kTempPrefix = "tmp-checkpoint-";

void fsync_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

}  // namespace

void save_model_weights(SequenceClassifier& model, const std::string& path) {
  std::map<std::string, Tensor> tensors;
  for (const Parameter* p : model.parameters()) {
    ACCENT_CHECK(tensors.count(p->name) == 0, "save_model_weights: duplicate parameter name ", p->name);
    tensors[p->name] = p->value;
  }
  save_safetensors(path, tensors);
}

void load_model_weights(SequenceClassifier& model, const std::string& path_or_dir) {
  auto apply = [&](auto& source, const std::string& origin) {
    for (Parameter* p : model.parameters()) {
      ACCENT_CHECK(source.contains(p->name), origin, ": tensor ", p->name, " is missing");
      // In the parameter's dtype: F32, or BF16 for the frozen base of a LoRA model held in bf16 (nn/linear.h),
      // which its checkpoints save as BF16.
      Tensor t = source.load(p->name, p->value.dtype());
      ACCENT_CHECK(t.shape() == p->value.shape(), origin, ": tensor ", p->name, " has shape ", shape_str(t.shape()),
                   ", the model expects ", shape_str(p->value.shape()));
      // In place (the optimizer and caches hold this storage), in whatever memory the parameter lives.
      p->value.memory().copy_from_host(p->value.data(), t.data(), t.nbytes());
    }
  };
  if (fs::is_directory(path_or_dir)) {
    SafetensorsCheckpoint ckpt = SafetensorsCheckpoint::open_dir(path_or_dir);
    apply(ckpt, path_or_dir);
  } else {
    auto file = SafetensorsFile::open(path_or_dir);
    apply(*file, path_or_dir);
  }
}

std::string save_checkpoint(SequenceClassifier& model, const std::string& output_dir, int64_t step,
                            const CheckpointContents& c, const std::function<void(const std::string&)>& extra_files) {
  const std::string final_dir = (fs::path(output_dir) / (kCheckpointPrefix + std::to_string(step))).string();
  const std::string tmp_dir = (fs::path(output_dir) / (kTempPrefix + std::to_string(step))).string();
  std::error_code ec;
  fs::create_directories(output_dir, ec);
  ACCENT_CHECK(!ec, output_dir, ": cannot create output directory (", ec.message(), ")");
  fs::remove_all(tmp_dir, ec);
  fs::create_directory(tmp_dir, ec);
  ACCENT_CHECK(!ec, tmp_dir, ": cannot create checkpoint directory (", ec.message(), ")");
  try {
    save_model_weights(model, tmp_dir + "/model.safetensors");
    // With its config.json the checkpoint is a Hugging Face model directory (from_pretrained loads it).
    if (const ModelConfig* config = model.config()) save_config(tmp_dir + "/config.json", *config);
    save_safetensors(tmp_dir + "/optimizer.safetensors", c.optimizer->state_tensors(),
                     {{"format", "pt"}, {"step", std::to_string(c.optimizer->step_count())}});
    const nlohmann::json scheduler = {{"lr_scheduler_type", lr_scheduler_type_name(c.schedule->type())},
                                      {"base_lr", c.schedule->base_lr()},
                                      {"warmup_steps", c.schedule->warmup_steps()},
                                      {"total_steps", c.schedule->total_steps()},
                                      {"last_step", c.optimizer->step_count()}};
    write_file_atomic(tmp_dir + "/scheduler.json", scheduler.dump(2) + "\n");
    write_file_atomic(tmp_dir + "/trainer_resume.json", resume_to_json(*c.resume).dump(2) + "\n");
    write_file_atomic(tmp_dir + "/trainer_state.json", c.trainer_state->dump(2) + "\n");
    save_training_args(tmp_dir + "/training_args.json", *c.args);
    if (extra_files) extra_files(tmp_dir);
    fsync_dir(tmp_dir);
    save_step_crash_point("rename checkpoint into place");
    if (fs::exists(final_dir)) {
      // Same step saved twice (step and epoch end coincide): swap the directories atomically, drop the old one.
      if (::renameat2(AT_FDCWD, tmp_dir.c_str(), AT_FDCWD, final_dir.c_str(), RENAME_EXCHANGE) != 0)
        fail(final_dir, ": cannot replace checkpoint (", std::strerror(errno), ")");
      fs::remove_all(tmp_dir, ec);
    } else {
      fs::rename(tmp_dir, final_dir, ec);
      ACCENT_CHECK(!ec, final_dir, ": cannot rename ", tmp_dir, " into place (", ec.message(), ")");
    }
    fsync_dir(output_dir);
  } catch (...) {
    fs::remove_all(tmp_dir, ec);
    throw;
  }
  return final_dir;
}

LoadedCheckpoint load_checkpoint(const std::string& dir, SequenceClassifier& model, AdamW& optimizer) {
  ACCENT_CHECK(fs::is_directory(dir), "resume_from_checkpoint: ", dir, " is not a directory");
  for (const char* f : {"model.safetensors", "optimizer.safetensors", "scheduler.json", "trainer_resume.json",
                        "trainer_state.json"})
    ACCENT_CHECK(fs::exists(fs::path(dir) / f), "resume_from_checkpoint: ", dir, " has no ", f,
                 " (not an accent training checkpoint?)");
  LoadedCheckpoint out;
  out.dir = dir;
  load_model_weights(model, dir + "/model.safetensors");
  const std::string opt_path = dir + "/optimizer.safetensors";
  auto opt_file = SafetensorsFile::open(opt_path);
  std::map<std::string, Tensor> state;
  for (const std::string& name : opt_file->names()) state[name] = opt_file->load(name, DType::F32);
  auto step_it = opt_file->metadata().find("step");
  ACCENT_CHECK(step_it != opt_file->metadata().end(), opt_path, ": metadata has no \"step\"");
  optimizer.load_state(state, optimizer_step_from_metadata(step_it->second, opt_path), opt_path);
  out.scheduler = read_json_file(dir + "/scheduler.json");
  out.resume = resume_from_json(read_json_file(dir + "/trainer_resume.json"), dir + "/trainer_resume.json");
  out.trainer_state = read_json_file(dir + "/trainer_state.json");
  return out;
}

std::vector<std::pair<int64_t, std::string>> list_checkpoints(const std::string& output_dir) {
  std::vector<std::pair<int64_t, std::string>> out;
  std::error_code ec;
  if (!fs::is_directory(output_dir, ec)) return out;
  for (const auto& entry : fs::directory_iterator(output_dir)) {
    if (!entry.is_directory()) continue;
    if (auto step = checkpoint_step(entry.path().filename().string())) out.emplace_back(*step, entry.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::optional<std::string> latest_checkpoint(const std::string& output_dir) {
  auto all = list_checkpoints(output_dir);
  if (all.empty()) return std::nullopt;
  return all.back().second;
}

std::vector<std::string> rotate_checkpoints(const std::string& output_dir, int64_t limit, const std::string& keep) {
  auto all = list_checkpoints(output_dir);
  std::vector<std::string> deleted;
  if (limit <= 0 || static_cast<int64_t>(all.size()) <= limit) return deleted;
  // HF _sorted_checkpoints: the best checkpoint is moved out of the deletion order; with limit 1 and a best
  // checkpoint that is not the newest, 2 are kept so that training can still resume from the newest.
  const bool keep_is_listed = !keep.empty() && std::any_of(all.begin(), all.end(), [&](const auto& e) {
    return fs::equivalent(e.second, keep);
  });
  if (limit == 1 && keep_is_listed && !fs::equivalent(all.back().second, keep)) limit = 2;
  int64_t to_delete = static_cast<int64_t>(all.size()) - limit;
  for (const auto& [step, path] : all) {
    if (to_delete <= 0) break;
    if (keep_is_listed && fs::equivalent(path, keep)) continue;
    std::error_code ec;
    fs::remove_all(path, ec);
    ACCENT_CHECK(!ec, path, ": cannot delete old checkpoint (", ec.message(), ")");
    deleted.push_back(path);
    --to_delete;
  }
  return deleted;
}

void remove_partial_checkpoints(const std::string& output_dir) {
  std::error_code ec;
  if (!fs::is_directory(output_dir, ec)) return;
  for (const auto& entry : fs::directory_iterator(output_dir)) {
    if (entry.is_directory() && entry.path().filename().string().rfind(kTempPrefix, 0) == 0)
      fs::remove_all(entry.path(), ec);
  }
}

}  // namespace accent
