#include "train/data_parallel.h"

#include <cstring>
#include <optional>
#include <sstream>

#include "core/error.h"
#include "core/fnv_hash.h"

namespace accent {

std::unique_ptr<ProcessGroup> join_data_parallel_job(std::chrono::milliseconds timeout) {
  const std::optional<DistributedEnv> env = distributed_env_from_environment();
  if (!env) return nullptr;
  return std::make_unique<ProcessGroup>(*env, timeout);
}

void local_main_process_first(ProcessGroup* group, const std::function<void()>& work) {
  if (group == nullptr || group->world_size() == 1) {
    work();
    return;
  }
  const bool first = group->env().is_local_process_zero();
  if (first) work();
  group->barrier("waiting for each machine's first process (model download)");
  if (!first) work();
}

uint64_t parameter_fingerprint(const ParameterList& params) {
  uint64_t h = 0;
  auto mix = [&](const void* data, size_t n) { h = fnv1a64_bytes(data, n, h); };
  for (const Parameter* p : params) {
    mix(p->name.data(), p->name.size());
    for (int64_t d : p->value.shape()) mix(&d, sizeof d);
    const Tensor host = p->value.on_host() ? p->value : p->value.to_host();  // no copy of host weights
    mix(host.data(), host.nbytes());  // fp32, or bf16 for a frozen LoRA base held in bf16
  }
  return h;
}

void check_ranks_agree(ProcessGroup& group, const nlohmann::json& mine) {
  const std::string text = mine.dump();
  const auto all = group.allgather(std::vector<char>(text.begin(), text.end()), "the start-up agreement check");
  const nlohmann::json reference = nlohmann::json::parse(all[0].begin(), all[0].end());
  std::ostringstream problems;
  for (size_t r = 1; r < all.size(); ++r) {
    const nlohmann::json other = nlohmann::json::parse(all[r].begin(), all[r].end());
    for (auto it = reference.begin(); it != reference.end(); ++it) {
      const nlohmann::json& theirs = other.contains(it.key()) ? other[it.key()] : nlohmann::json();
      if (theirs == it.value()) continue;
      problems << "\n  rank " << r << ": its " << it.key() << " differ from rank 0's";
      if (it.value().is_object() && theirs.is_object()) {
        std::string keys;
        for (auto k = it.value().begin(); k != it.value().end(); ++k)
          if (!theirs.contains(k.key()) || theirs[k.key()] != k.value())
            keys += (keys.empty() ? "" : ", ") + k.key() + " (" + (theirs.contains(k.key()) ? theirs[k.key()].dump() : "missing") +
                    " vs " + k.value().dump() + ")";
        if (!keys.empty()) problems << ": " << keys;
      }
    }
  }
  const std::string p = problems.str();
  ACCENT_CHECK(p.empty(), "data-parallel ranks disagree at start-up (every rank must run the same command on the "
               "same data and model):", p);
}

void broadcast_parameters_from_rank0(ProcessGroup& group, const ParameterList& params) {
  for (Parameter* p : params) {
    Tensor& v = p->value;
    if (v.dtype() == DType::BF16) continue;  // a frozen LoRA base held in bf16: the same checkpoint on every rank
    ACCENT_CHECK(v.on_host(), "data-parallel training over Gloo needs parameters in host memory (", p->name, ")");
    if (group.rank() != 0) v.zero();
    group.allreduce_sum(v.f32(), static_cast<size_t>(v.numel()), "sharing rank 0's best weights");
  }
}

}  // namespace accent
