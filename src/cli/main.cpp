// cli/main.cpp — `accent <verb> ...`: collects the verbs registered by the files of cli/ and runs the chosen one.
#include <omp.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <set>
#include <string>

#include "cli/flag_checks.h"
#include "cli/output.h"
#include "cli/terminal_text.h"
#include "cli/verb.h"
#include "core/error.h"
#include "dist/distributed_env.h"
#include "models/int8_quantization.h"
#include "ops/precision.h"

namespace accent::cli {
std::vector<VerbEntry>& verb_registry() {
  static std::vector<VerbEntry> verbs;
  return verbs;
}
}  // namespace accent::cli

namespace {
// One GPU per rank, as torchrun scripts do with torch.cuda.set_device(LOCAL_RANK): the local rank's entry of
// CUDA_VISIBLE_DEVICES (all GPUs when unset), set before anything touches CUDA.
void select_local_gpu(const std::optional<accent::DistributedEnv>& env) {
  if (!env || env->local_world_size <= 1) return;
  std::vector<std::string> visible;
  if (const char* v = std::getenv("CUDA_VISIBLE_DEVICES")) {
    std::string list = v;
    for (size_t start = 0; start <= list.size();) {
      const size_t comma = std::min(list.find(',', start), list.size());
      if (comma > start) visible.push_back(list.substr(start, comma - start));
      start = comma + 1;
    }
    if (visible.size() <= static_cast<size_t>(env->local_rank)) return;  // fewer GPUs than ranks: leave it be
  }
  const std::string mine = visible.empty() ? std::to_string(env->local_rank) : visible[env->local_rank];
  setenv("CUDA_VISIBLE_DEVICES", mine.c_str(), 1);
}

// The physical cores, shared among this machine's processes of a data-parallel job (torchrun's LOCAL_WORLD_SIZE):
// 2 processes on 16 cores get 8 threads each, as torchrun's OMP_NUM_THREADS advice.
int default_thread_count(const std::optional<accent::DistributedEnv>& env) {
  const int local = env ? std::max(env->local_world_size, 1) : 1;
  return std::max(1, accent::physical_core_count() / local);
}
}  // namespace

int main(int argc, char** argv) {
  using namespace accent::cli;
  CLI::App app{"accent — fine-tune pretrained transformers on your own labelled text (Hugging Face compatible)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("accent 0.1.0"));
  auto verbs = verb_registry();
  std::sort(verbs.begin(), verbs.end(), [](const VerbEntry& a, const VerbEntry& b) { return a.name < b.name; });
  std::vector<std::pair<CLI::App*, std::function<int()>>> runners;
  // Compute options of the verbs that run a model: matmul precision (bf16 mixed precision on CPUs with AMX or
  // AVX512-BF16 by default; ACCENT_PRECISION overrides) and OpenMP threads (default: physical cores).
  const std::set<std::string> model_verbs{"train", "evaluate", "predict", "serve"};
  std::string precision = "auto";
  std::string device = "auto";
  int threads = 0;
  for (auto& v : verbs) {
    CLI::App* sub = app.add_subcommand(v.name, v.help);
    runners.emplace_back(sub, v.setup(*sub));
    if (model_verbs.count(v.name)) {
      sub->add_option("--precision", precision, "Matmul precision: auto (bf16 when the CPU has AMX/AVX512-BF16), bf16 "
                      "(mixed: bf16 matmuls, fp32 weights/optimizer/LayerNorm/softmax/loss), fp32, or int8 "
                      "(predict/evaluate/serve: the layers' weights int8 per channel, activations per token at run "
                      "time, as `accent quantize`; the rest as auto)")
          ->capture_default_str();
      sub->add_flag_callback("--bf16", [&precision] { precision = "bf16"; }, "Same as --precision bf16");
      sub->add_option("--device", device, "Where the model runs: auto (an NVIDIA GPU when a usable one is there, "
                      "else the CPU), cpu or cuda")
          ->capture_default_str();
      sub->add_option("--threads", threads, "Compute threads (default: the number of physical cores, divided among "
                      "the processes of a data-parallel job on this machine: LOCAL_WORLD_SIZE)")
          ->check(integer_in(1, 4096));
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version print and succeed. Any other parse error is a usage error: CLI11's message, then the
    // shell's usage-error status 2 rather than CLI11's internal codes (100–114, e.g. 114 for `data F -t F`).
    return app.exit(e) == 0 ? 0 : 2;
  }
  try {
    if (precision == "int8") {  // dynamic int8 inference (models/int8_quantization.h); other matmuls as auto
      for (auto& [sub, run] : runners)
        if (sub->parsed() && sub->get_name() == "train")
          accent::fail("--precision int8 is for inference (predict, evaluate, serve): training needs gradients "
                       "through full-precision weights; use auto, bf16 or fp32");
      accent::set_int8_inference(true);
      precision = "auto";
    }
    accent::set_default_precision(accent::resolve_precision(precision));
    const std::optional<accent::DistributedEnv> dist_env = accent::distributed_env_from_environment();
    select_local_gpu(dist_env);
    for (auto& [sub, run] : runners) {
      if (!sub->parsed() || !model_verbs.count(sub->get_name())) continue;
      std::string said;
      accent::set_default_backend(accent::resolve_device(device, &said));
      std::cerr << said << "\n";
    }
    omp_set_num_threads(threads > 0 ? threads : default_thread_count(dist_env));
    for (auto& [sub, run] : runners) {
      if (!sub->parsed()) continue;
      const int rc = run();
      flush_stdout_or_fail();  // an answer that was not written is not a success
      return rc;
    }
  } catch (const accent::Error& e) {
    std::cerr << "error: " << accent::cli::terminal_safe(e.what()) << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "error: " << accent::cli::terminal_safe(e.what()) << "\n";
    return 1;
  }
  return 0;
}
