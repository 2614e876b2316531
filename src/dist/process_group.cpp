#include "dist/process_group.h"

#include <gloo/allgather.h>
#include <gloo/allgatherv.h>
#include <gloo/allreduce.h>
#include <gloo/barrier.h>
#include <gloo/common/error.h>
#include <gloo/rendezvous/context.h>
#include <gloo/rendezvous/prefix_store.h>
#include <gloo/transport/tcp/device.h>

#include <cstring>
#include <exception>
#include <sstream>
#include <thread>

#include "core/dtype.h"
#include "core/error.h"
#include "dist/tcp_store.h"

namespace accent {

namespace {

std::string rank_list(const std::vector<int>& ranks) {
  std::string s;
  for (size_t i = 0; i < ranks.size(); ++i) s += (i ? ", " : "") + std::to_string(ranks[i]);
  return s;
}

// Gloo's reduce function for bf16 buffers: c = a + b, summed in fp32 and rounded to nearest even.
void sum_bf16(void* c, const void* a, const void* b, size_t n) {
  auto* out = static_cast<uint16_t*>(c);
  const auto* x = static_cast<const uint16_t*>(a);
  const auto* y = static_cast<const uint16_t*>(b);
  for (size_t i = 0; i < n; ++i) out[i] = f32_to_bf16(bf16_to_f32(x[i]) + bf16_to_f32(y[i]));
}

}  // namespace

ProcessGroup::ProcessGroup(const DistributedEnv& env, std::chrono::milliseconds timeout)
    : env_(env), timeout_(timeout) {
  store_ = std::make_unique<TcpStore>(env.master_addr, env.master_port, env.rank, timeout);
  gloo::transport::tcp::attr attr;
  attr.hostname = resolve_local_addr(env);
  std::shared_ptr<gloo::transport::Device> device;
  try {
    device = gloo::transport::tcp::CreateDevice(attr);
  } catch (const std::exception& e) {
    fail("rank ", env.rank, ": cannot open a Gloo TCP device on \"", attr.hostname, "\" (", e.what(),
         "); set ACCENT_LOCAL_ADDR (accent launch --local-addr) to an address of this machine");
  }
  auto context = std::make_shared<gloo::rendezvous::Context>(env.rank, env.world_size);
  context->setTimeout(timeout);
  try {
    gloo::rendezvous::PrefixStore prefixed("gloo", *store_);
    context->connectFullMesh(prefixed, device);
  } catch (const accent::Error&) {
    throw;
  } catch (const std::exception& e) {
    fail("rank ", env.rank, ": connecting to the other ranks failed: ", e.what());
  }
  context_ = context;
  mark_progress(0);
}

ProcessGroup::~ProcessGroup() {
  // Unwinding from an error: the peers may be inside another collective; a barrier here would only wait for the
  // timeout. Closing the connections lets them fail at once, naming this rank.
  if (!failed_ && std::uncaught_exceptions() == 0) {
    try {
      barrier("shutdown");
    } catch (const std::exception&) {
      // A peer failed at the very end: nothing left to protect.
    }
  }
  context_.reset();
  store_.reset();
}

template <typename F>
void ProcessGroup::run(const char* what, F&& collective) {
  std::lock_guard<std::mutex> lock(mu_);
  ACCENT_CHECK(!failed_, "rank ", env_.rank, ": the process group already failed; no further collectives (", what,
               ")");
  const uint32_t tag = next_tag_++;
  try {
    collective(tag);
  } catch (const gloo::Exception& e) {
    failed_ = true;
    fail_collective(what, e.what());
  }
}

void ProcessGroup::fail_collective(const char* what, const std::string& gloo_message) {
  std::ostringstream os;
  os << "data-parallel training failed on rank " << env_.rank << " of " << env_.world_size << " during " << what
     << " (step " << progress_ << "): ";
  try {
    // The store notices a closed connection a moment after Gloo does; give it that moment.
    std::vector<int> lost;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while ((lost = store_->lost_ranks()).empty() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (!lost.empty()) {
      os << "rank" << (lost.size() > 1 ? "s " : " ") << rank_list(lost) << (lost.size() > 1 ? " have" : " has")
         << " exited (connection closed without finishing)";
    } else {
      // Nobody died: someone is slow or stuck. Name the ranks whose last recorded step is behind ours.
      std::vector<int> behind;
      for (int r = 0; r < env_.world_size; ++r) {
        const std::vector<char> v = store_->get("progress/" + std::to_string(r));
        if (std::atoll(std::string(v.begin(), v.end()).c_str()) < progress_) behind.push_back(r);
      }
      os << "no rank exited, but the collective did not complete within the timeout of " << timeout_.count() / 1000
         << " s (--ddp-timeout)";
      if (!behind.empty()) os << "; rank" << (behind.size() > 1 ? "s " : " ") << rank_list(behind) << " did not reach step " << progress_;
    }
  } catch (const std::exception&) {
    os << "rank 0, which hosts the rendezvous store, has exited or is unreachable";
  }
  os << " [gloo: " << gloo_message << "]";
  fail(os.str());
}

void ProcessGroup::mark_progress(int64_t step) {
  progress_ = step;
  const std::string v = std::to_string(step);
  store_->set("progress/" + std::to_string(env_.rank), std::vector<char>(v.begin(), v.end()));
}

template <typename T>
void ProcessGroup::allreduce(T* data, size_t n, ReduceFunction reduce, const char* what) {
  if (env_.world_size == 1 || n == 0) return;
  run(what, [&](uint32_t tag) {
    gloo::AllreduceOptions opts(context_);
    opts.setOutput(data, n);
    opts.setReduceFunction(reduce);
    opts.setTag(tag);
    opts.setTimeout(timeout_);
    gloo::allreduce(opts);
  });
}

void ProcessGroup::allreduce_sum(float* data, size_t n, const char* what) {
  allreduce(data, n, static_cast<ReduceFunction>(&gloo::sum<float>), what);
}

void ProcessGroup::allreduce_sum(double* data, size_t n, const char* what) {
  allreduce(data, n, static_cast<ReduceFunction>(&gloo::sum<double>), what);
}

void ProcessGroup::allreduce_sum_bf16(float* data, size_t n, const char* what) {
  if (env_.world_size == 1 || n == 0) return;
  std::vector<uint16_t> packed(n);
  for (size_t i = 0; i < n; ++i) packed[i] = f32_to_bf16(data[i]);
  allreduce(packed.data(), n, &sum_bf16, what);
  for (size_t i = 0; i < n; ++i) data[i] = bf16_to_f32(packed[i]);
}

int64_t ProcessGroup::allreduce_max(int64_t value, const char* what) {
  allreduce(&value, 1, static_cast<ReduceFunction>(&gloo::max<int64_t>), what);
  return value;
}

std::vector<std::vector<char>> ProcessGroup::allgather(const std::vector<char>& mine, const char* what) {
  if (env_.world_size == 1) return {mine};
  std::vector<int64_t> sizes(env_.world_size);
  int64_t my_size = static_cast<int64_t>(mine.size());
  run(what, [&](uint32_t tag) {
    gloo::AllgatherOptions opts(context_);
    opts.setInput(&my_size, 1);
    opts.setOutput(sizes.data(), sizes.size());
    opts.setTag(tag);
    opts.setTimeout(timeout_);
    gloo::allgather(opts);
  });
  std::vector<size_t> counts(sizes.begin(), sizes.end());
  size_t total = 0;
  for (size_t c : counts) total += c;
  std::vector<char> flat(std::max<size_t>(total, 1));
  std::vector<char> input = mine;
  if (input.empty()) input.push_back(0);  // Gloo wants a pointer; zero elements are sent
  run(what, [&](uint32_t tag) {
    gloo::AllgathervOptions opts(context_);
    opts.setInput(input.data(), mine.size());
    opts.setOutput(flat.data(), counts);
    opts.setTag(tag);
    opts.setTimeout(timeout_);
    gloo::allgatherv(opts);
  });
  std::vector<std::vector<char>> out(env_.world_size);
  size_t offset = 0;
  for (int r = 0; r < env_.world_size; ++r) {
    out[r].assign(flat.begin() + static_cast<std::ptrdiff_t>(offset),
                  flat.begin() + static_cast<std::ptrdiff_t>(offset + counts[r]));
    offset += counts[r];
  }
  return out;
}

void ProcessGroup::barrier(const char* what) {
  if (env_.world_size == 1) return;
  run(what, [&](uint32_t tag) {
    gloo::BarrierOptions opts(context_);
    opts.setTag(tag);
    opts.setTimeout(timeout_);
    gloo::barrier(opts);
  });
}

}  // namespace accent
