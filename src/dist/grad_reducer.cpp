#include "dist/grad_reducer.h"

#include <chrono>
#include <cstring>

#include "core/error.h"
#include "ops/memory.h"
#include "ops/tensor_ops.h"

namespace accent {

namespace {
double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace

GradReducer::GradReducer(ProcessGroup& group, const ParameterList& params, GradReducerOptions options,
                         NcclCommunicator* nccl, const OpContext& device_context)
    : group_(group), options_(options), nccl_(nccl), device_context_(device_context) {
  ACCENT_CHECK(!(nccl_ && options_.bf16_compression),
               "--ddp-bf16-compress applies to Gloo (CPU) runs; GPU ranks all-reduce fp32 over NCCL");
  // Reverse parameter order, cut whenever a bucket reaches bucket_bytes (a parameter never straddles two).
  Bucket current;
  for (auto it = params.rbegin(); it != params.rend(); ++it) {
    Parameter* p = *it;
    if (!p->trainable) continue;
    ACCENT_CHECK(p->grad.on_host() != (nccl_ != nullptr), p->name, ": data-parallel training reduces ",
                 nccl_ ? "GPU gradients over NCCL, but this one is in host memory"
                       : "host gradients over Gloo, but this one is in GPU memory (GPU ranks need NCCL)");
    const size_t n = static_cast<size_t>(p->value.numel());
    current.params.push_back(p);
    current.offsets.push_back(current.numel);
    current.numel += n;
    if (current.numel * sizeof(float) >= options_.bucket_bytes) {
      buckets_.push_back(std::move(current));
      current = Bucket{};
    }
  }
  if (!current.params.empty()) buckets_.push_back(std::move(current));
  for (size_t b = 0; b < buckets_.size(); ++b) {
    if (nccl_) buckets_[b].device_flat = Tensor(DType::F32, {static_cast<int64_t>(buckets_[b].numel)},
                                                buckets_[b].params.front()->grad.memory());
    else buckets_[b].flat.resize(buckets_[b].numel);
    stats_.bytes_per_step += buckets_[b].numel * sizeof(float);
    for (Parameter* p : buckets_[b].params) slot_of_[p] = Slot{b, slot_of_.size()};
  }
  reported_.assign(slot_of_.size(), 0);
  if (!nccl_) comm_ = std::thread([this] { communication_loop(); });
}

GradReducer::~GradReducer() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (comm_.joinable()) comm_.join();
}

void GradReducer::begin_step(int64_t step) {
  group_.mark_progress(step);
  std::lock_guard<std::mutex> lock(mu_);
  armed_ = true;
  next_to_send_ = 0;
  done_ = 0;
  std::fill(reported_.begin(), reported_.end(), 0);
  for (Bucket& b : buckets_) {
    b.pending = b.params.size();
    b.ready = false;
  }
}

void GradReducer::mark_ready_locked(size_t bucket) {
  buckets_[bucket].ready = true;
  if (nccl_) send_ready_device_buckets_locked();
  cv_.notify_all();
}

void GradReducer::send_ready_device_buckets_locked() {
  while (next_to_send_ < buckets_.size() && buckets_[next_to_send_].ready) {
    reduce_on_device(buckets_[next_to_send_++]);
    ++done_;
  }
}

void GradReducer::grads_ready(const ParameterList& ready) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!armed_) return;
  for (const Parameter* p : ready) {
    const auto it = slot_of_.find(p);
    if (it == slot_of_.end() || reported_[it->second.index]) continue;  // frozen, or reported before
    reported_[it->second.index] = 1;
    if (--buckets_[it->second.bucket].pending == 0) mark_ready_locked(it->second.bucket);
  }
}

void GradReducer::finish() {
  const auto t0 = std::chrono::steady_clock::now();
  std::unique_lock<std::mutex> lock(mu_);
  ACCENT_CHECK(armed_, "GradReducer::finish without begin_step");
  for (size_t b = 0; b < buckets_.size(); ++b)
    if (!buckets_[b].ready) mark_ready_locked(b);
  cv_.wait(lock, [&] { return done_ == buckets_.size() || error_ != nullptr; });
  armed_ = false;
  if (nccl_) nccl_->check_errors();
  stats_.wait_seconds += seconds_since(t0);
  ++stats_.steps;
  if (error_) {
    std::exception_ptr e = error_;
    error_ = nullptr;
    std::rethrow_exception(e);
  }
}

void GradReducer::communication_loop() {
  for (;;) {
    size_t b = 0;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] {
        return stopping_ || (armed_ && error_ == nullptr && next_to_send_ < buckets_.size() &&
                             buckets_[next_to_send_].ready);
      });
      if (stopping_) return;
      b = next_to_send_++;
    }
    try {
      reduce(buckets_[b]);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mu_);
      error_ = std::current_exception();
      cv_.notify_all();
      continue;
    }
    std::lock_guard<std::mutex> lock(mu_);
    ++done_;
    cv_.notify_all();
  }
}

void GradReducer::reduce_on_device(Bucket& bucket) {
  // Queued on the GPU's stream in this order: pack, all-reduce, scale by 1/W, unpack.
  float* flat = bucket.device_flat.f32();
  for (size_t i = 0; i < bucket.params.size(); ++i) {
    const Tensor& g = bucket.params[i]->grad;
    copy_bytes(device_context_, flat + bucket.offsets[i], g.f32(), static_cast<size_t>(g.numel()) * sizeof(float));
  }
  nccl_->allreduce_sum(flat, bucket.numel);
  scale_inplace(device_context_, 1.0f / static_cast<float>(group_.world_size()), flat,
                static_cast<int64_t>(bucket.numel));
  for (size_t i = 0; i < bucket.params.size(); ++i) {
    Tensor& g = bucket.params[i]->grad;
    copy_bytes(device_context_, g.f32(), flat + bucket.offsets[i], static_cast<size_t>(g.numel()) * sizeof(float));
  }
  ++stats_.buckets;
}

void GradReducer::reduce(Bucket& bucket) {
  float* flat = bucket.flat.data();
  for (size_t i = 0; i < bucket.params.size(); ++i) {
    const Tensor& g = bucket.params[i]->grad;
    std::memcpy(flat + bucket.offsets[i], g.f32(), static_cast<size_t>(g.numel()) * sizeof(float));
  }
  const auto t0 = std::chrono::steady_clock::now();
  if (options_.bf16_compression) group_.allreduce_sum_bf16(flat, bucket.numel, "the gradient all-reduce");
  else group_.allreduce_sum(flat, bucket.numel, "the gradient all-reduce");
  stats_.allreduce_seconds += seconds_since(t0);
  ++stats_.buckets;
  const float inv = 1.0f / static_cast<float>(group_.world_size());
  for (size_t i = 0; i < bucket.params.size(); ++i) {
    Tensor& g = bucket.params[i]->grad;
    float* dst = g.f32();
    const float* src = flat + bucket.offsets[i];
    const int64_t n = g.numel();
    for (int64_t j = 0; j < n; ++j) dst[j] = src[j] * inv;
  }
}

}  // namespace accent
