// io/model_dir_save.h — a saved model appears in its directory as a whole or not at all.
//
// Why: each file of a save was atomic (core/fs.h) but the set was not. Killed during the final save, a directory
// held new weights beside the old config.json (old label names on new weights, and `predict` answered with them),
// or new trainer_state.json beside old weights; a reused directory kept the previous run's adapter files, which
// `predict` then loaded. The model files cannot simply be a directory renamed over the old one: a model directory
// is also the run's output directory (checkpoints, validation.csv and the user's own files live beside them).
//
// Protocol (one save at a time per directory):
//   1. recover_interrupted_save(dir): finish a swap an earlier process committed but did not complete, or drop
//      one it never committed; remove stale `*.tmp.*` files of dead processes.
//   2. The new files are written into the staging directory dir/.accent-save/ (the "sibling temporary directory").
//   3. commit(): the journal dir/.accent-save/SWAP — the files to install, and the old model files to remove —
//      is written atomically. Writing it is the commit point: before it, the old model is untouched; after it,
//      the new model will be installed by this process or, if it dies, by the next recover_interrupted_save.
//   4. Roll forward: unlink the old model files that the new set does not have (a LoRA adapter after a full
//      model, or the reverse), rename every staged file over its old name, then remove the journal and staging.
// Roll forward is idempotent (a step already done is skipped), so a crash during recovery is recovered again.
// Readers (`predict`, `evaluate`, `inspect`, `train --model`) call recover_interrupted_save before they read a
// model directory, so no reader ever sees the mixed state between steps 3 and 4.
//
// "Model files" are the names accent writes into a model directory (is_model_file): config, weights (single or
// sharded), adapter, tokenizer files, training_args.json, trainer_state.json and the *_results.json files. Files
// with other names are never touched.
#pragma once
#include <string>
#include <vector>

namespace accent {

// The file names accent writes as part of a saved model (see the list in model_dir_save.cpp).
bool is_model_file(const std::string& name);

// Completes or drops an interrupted save in `dir` (see above) and removes `*.tmp.<pid>.*` files left in `dir` by
// processes that no longer run. A directory that does not exist, or holds no interrupted save, is left as it is.
// Throws accent::Error naming the directory when a committed swap cannot be completed (e.g. it is read-only).
void recover_interrupted_save(const std::string& dir);

class ModelDirSave {
 public:
  // Recovers `dir`, creates it when missing, and starts an empty staging directory.
  explicit ModelDirSave(std::string dir);
  // Without commit() (an exception while writing), the staging directory is removed: the old model stays.
  ~ModelDirSave();
  ModelDirSave(const ModelDirSave&) = delete;
  ModelDirSave& operator=(const ModelDirSave&) = delete;

  // Where to write the new model's files (flat: no subdirectories).
  const std::string& staging_dir() const { return staging_; }
  // Swaps the staged files in, replacing the whole previous model (every old model file, even one the new set
  // does not have). Returns the file names installed.
  std::vector<std::string> commit();

 private:
  std::string dir_, staging_;
  bool committed_ = false;
};

// Test hook for crash tests: when the environment variable ACCENT_TEST_KILL_AT_SAVE_STEP is N, the process kills
// itself with SIGKILL just before the N-th (1-based) step of a save that changes what a reader sees — the journal
// commit, each unlink and rename of the swap, each checkpoint directory rename. Unset: does nothing.
void save_step_crash_point(const char* what);

}  // namespace accent
