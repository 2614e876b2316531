// io/model_dir_save.cpp — see model_dir_save.h.
#include "io/model_dir_save.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <set>

#include "core/error.h"
#include "core/fs.h"
#include "core/json_parse.h"

namespace accent {

namespace fs = std::filesystem;

namespace {

constexpr const char* kStagingName = ".accent-save";
constexpr const char* kJournalName = "SWAP";   // in the staging directory; its presence = committed
constexpr const char* kOwnerName = "OWNER";    // pid of the process filling the staging directory

void fsync_dir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

bool process_alive(long pid) { return pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM); }

// The pid in "<name>.tmp.<pid>.<random>" (core/fs.h's temporary files), or -1.
long temp_file_pid(const std::string& name) {
  const size_t at = name.rfind(".tmp.");
  if (at == std::string::npos) return -1;
  const std::string rest = name.substr(at + 5);
  const size_t dot = rest.find('.');
  if (dot == 0 || dot == std::string::npos) return -1;
  const std::string pid = rest.substr(0, dot);
  if (!std::all_of(pid.begin(), pid.end(), [](char c) { return c >= '0' && c <= '9'; }) || pid.size() > 9) return -1;
  return std::stol(pid);
}

void remove_stale_temp_files(const std::string& dir) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    const long pid = temp_file_pid(name);
    if (pid > 0 && pid != ::getpid() && !process_alive(pid) && entry.is_regular_file(ec)) fs::remove(entry.path(), ec);
  }
}

long staging_owner(const std::string& staging) {
  std::error_code ec;
  if (!fs::exists(fs::path(staging) / kOwnerName, ec)) return -1;
  try {
    return std::stol(read_file((fs::path(staging) / kOwnerName).string()));
  } catch (const std::exception&) {
    return -1;
  }
}

// Step 4 of the protocol, from the journal. Every step tolerates having been done already.
void roll_forward(const std::string& dir, const std::string& staging) {
  const std::string journal_path = (fs::path(staging) / kJournalName).string();
  const nlohmann::json journal = read_json_file(journal_path);
  ACCENT_CHECK(journal.is_object() && journal.value("install", nlohmann::json()).is_array() &&
                   journal.value("remove", nlohmann::json()).is_array(),
               journal_path, ": not a save journal (expected {\"install\": [...], \"remove\": [...]})");
  auto safe_name = [&](const nlohmann::json& n) {
    ACCENT_CHECK(n.is_string() && is_model_file(n.get<std::string>()), journal_path, ": unexpected entry ", n.dump());
    return n.get<std::string>();
  };
  std::error_code ec;
  for (const auto& n : journal["remove"]) {
    const fs::path old = fs::path(dir) / safe_name(n);
    if (!fs::exists(old, ec)) continue;
    save_step_crash_point("remove old model file");
    fs::remove(old, ec);
    ACCENT_CHECK(!ec, old.string(), ": cannot remove the previous model's file (", ec.message(), ")");
  }
  for (const auto& n : journal["install"]) {
    const std::string name = safe_name(n);
    const fs::path from = fs::path(staging) / name;
    if (!fs::exists(from, ec)) continue;  // installed before a crash
    save_step_crash_point("install model file");
    fs::rename(from, fs::path(dir) / name, ec);
    ACCENT_CHECK(!ec, (fs::path(dir) / name).string(), ": cannot move the saved file into place (", ec.message(), ")");
  }
  fsync_dir(dir);
  save_step_crash_point("finish swap");
  fs::remove_all(staging, ec);
  ACCENT_CHECK(!ec, staging, ": cannot remove the finished save's staging directory (", ec.message(), ")");
  fsync_dir(dir);
}

}  // namespace

bool is_model_file(const std::string& name) {
  static const std::set<std::string> kExact = {
      // model
      "config.json", "generation_config.json", "model.safetensors", "model.safetensors.index.json",
      "pytorch_model.bin", "pytorch_model.bin.index.json",
      // PEFT adapter (+ accent's label file beside it)
      "adapter_config.json", "adapter_model.safetensors", "adapter_model.bin", "accent_labels.json",
      // tokenizer
      "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt", "vocab.json", "merges.txt",
      "added_tokens.json",
      // the run that produced it
      "training_args.json", "trainer_state.json", "train_results.json", "eval_results.json", "all_results.json",
      "eval_predictions.json",
      "report.html"};
  if (kExact.count(name)) return true;
  // Shards: model-00001-of-00003.safetensors, pytorch_model-00001-of-00003.bin.
  auto shard = [&](const std::string& prefix, const std::string& suffix) {
    return name.size() > prefix.size() + suffix.size() && name.rfind(prefix, 0) == 0 && name.ends_with(suffix) &&
           name.find("-of-") != std::string::npos;
  };
  return shard("model-", ".safetensors") || shard("pytorch_model-", ".bin");
}

void save_step_crash_point(const char* what) {
  static const long kill_at = [] {
    const char* v = std::getenv("ACCENT_TEST_KILL_AT_SAVE_STEP");
    return v ? std::atol(v) : 0L;
  }();
  static long step = 0;
  (void)what;
  if (kill_at > 0 && ++step == kill_at) ::kill(::getpid(), SIGKILL);
}

void recover_interrupted_save(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return;
  const std::string staging = (fs::path(dir) / kStagingName).string();
  if (fs::exists(staging, ec)) {
    if (fs::exists(fs::path(staging) / kJournalName, ec)) {
      roll_forward(dir, staging);  // committed: the new model wins
    } else {
      // Never committed: the old model is intact. Drop the partial new one unless its writer still runs.
      const long owner = staging_owner(staging);
      if (owner == ::getpid() || !process_alive(owner)) fs::remove_all(staging, ec);
    }
  }
  remove_stale_temp_files(dir);
}

ModelDirSave::ModelDirSave(std::string dir) : dir_(std::move(dir)) {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  ACCENT_CHECK(!ec, dir_, ": cannot create the directory (", ec.message(), ")");
  recover_interrupted_save(dir_);
  staging_ = (fs::path(dir_) / kStagingName).string();
  if (fs::exists(staging_, ec)) fail(dir_, ": another accent process (pid ", staging_owner(staging_), ") is saving a model here");
  fs::create_directory(staging_, ec);
  ACCENT_CHECK(!ec, staging_, ": cannot create the staging directory (", ec.message(), ")");
  write_file_atomic((fs::path(staging_) / kOwnerName).string(), std::to_string(::getpid()));
}

ModelDirSave::~ModelDirSave() {
  if (committed_) return;
  std::error_code ec;
  fs::remove_all(staging_, ec);
}

std::vector<std::string> ModelDirSave::commit() {
  std::vector<std::string> install;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(staging_)) {
    const std::string name = entry.path().filename().string();
    if (name == kOwnerName || temp_file_pid(name) > 0) continue;
    ACCENT_CHECK(entry.is_regular_file() && is_model_file(name), entry.path().string(),
                 ": not a model file; a model save writes only the files listed in io/model_dir_save.cpp");
    install.push_back(name);
  }
  std::sort(install.begin(), install.end());
  std::vector<std::string> remove;
  for (const auto& entry : fs::directory_iterator(dir_)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && is_model_file(name) && !std::binary_search(install.begin(), install.end(), name))
      remove.push_back(name);
  }
  fsync_dir(staging_);
  save_step_crash_point("commit save journal");
  write_file_atomic((fs::path(staging_) / kJournalName).string(),
                    nlohmann::json{{"install", install}, {"remove", remove}}.dump(1) + "\n");
  committed_ = true;
  roll_forward(dir_, staging_);
  remove_stale_temp_files(dir_);
  return install;
}

}  // namespace accent
