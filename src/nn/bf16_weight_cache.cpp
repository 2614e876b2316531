#include "nn/bf16_weight_cache.h"

#include <atomic>
#include <utility>

#include "nn/scratch.h"
#include "ops/precision.h"

namespace accent {

namespace {
std::atomic<int64_t> conversions{0};
std::atomic<bool> enabled{true};
}  // namespace

const uint16_t* Bf16WeightCache::get(const OpContext& ctx, const Tensor& weight) const {
  if (weight.dtype() == DType::BF16) return weight.data_as<uint16_t>();  // held in bf16 (Linear::hold_weight_in_bf16)
  ACCENT_CHECK(weight.dtype() == DType::F32, "bf16 weight cache: the master weight must be F32 or BF16, got ",
               dtype_name(weight.dtype()), " of shape ", shape_str(weight.shape()));
  const void* source = weight.data();  // const access: does not stamp
  const uint64_t version = weight.version();
  if (enabled.load(std::memory_order_relaxed) && source == source_ && version == version_ && bf16_.numel() == weight.numel() && bf16_.dtype() == DType::BF16)
    return std::as_const(bf16_).data_as<uint16_t>();
  packed_ = PackedWeight();
  if (bf16_.dtype() != DType::BF16 || bf16_.numel() != weight.numel() || &bf16_.memory() != &weight.memory())
    bf16_ = Tensor(DType::BF16, weight.shape(), weight.memory());
  uint16_t* dst = bf16_.data_as<uint16_t>();
  convert_f32_to_bf16(ctx, std::as_const(weight).f32(), dst, weight.numel());
  source_ = source;
  version_ = version;
  conversions.fetch_add(1, std::memory_order_relaxed);
  return dst;
}

const PackedWeight& Bf16WeightCache::packed(const Tensor& weight, bool trans_b) const {
  ACCENT_CHECK(weight.ndim() == 2 && weight.on_host(), "bf16 weight cache: a packed weight is a 2-D host weight, got ",
               shape_str(weight.shape()));
  const int64_t K = trans_b ? weight.dim(1) : weight.dim(0), N = trans_b ? weight.dim(0) : weight.dim(1);
  const void* source = weight.data();
  const uint64_t version = weight.version();
  if (enabled.load(std::memory_order_relaxed) && !packed_.empty() && source == source_ && version == version_ &&
      packed_.K() == K && packed_.N() == N)
    return packed_;
  // The plain bits first (the weight's own when it is held in bf16), then reordered into the packed layout; the
  // plain copy is released (one form at a time).
  const int64_t before = conversions.load(std::memory_order_relaxed);
  const uint16_t* bits = get(weight);
  packed_ = pack_weight_bf16(bits, K, N, trans_b);
  if (conversions.load(std::memory_order_relaxed) == before) conversions.fetch_add(1, std::memory_order_relaxed);
  bf16_ = Tensor();
  source_ = source;
  version_ = version;
  return packed_;
}

uint16_t* Bf16WeightCache::copy_to_refresh(const Tensor& weight) const {
  if (!enabled.load(std::memory_order_relaxed) || weight.dtype() != DType::F32 || !weight.on_host() ||
      bf16_.dtype() != DType::BF16 || bf16_.numel() != weight.numel() || weight.data() != source_ ||
      &bf16_.memory() != &weight.memory())
    return nullptr;
  return bf16_.data_as<uint16_t>();
}

void Bf16WeightCache::mark_refreshed(const Tensor& weight) const {
  ACCENT_CHECK(weight.data() == source_ && bf16_.numel() == weight.numel(),
               "bf16 weight cache: mark_refreshed for a weight whose copy was not handed out by copy_to_refresh");
  version_ = weight.version();
}

void Bf16WeightCache::clear() {
  bf16_ = Tensor();
  packed_ = PackedWeight();
  source_ = nullptr;
  version_ = 0;
}

bool forward_uses_packed_weight(const OpContext& ctx, const Tensor& weight) {
  return InferenceScratch::active() && packed_bf16_weights_available(ctx) && weight.dtype() == DType::F32 &&
         weight.on_host();
}

int64_t Bf16WeightCache::total_conversions() { return conversions.load(std::memory_order_relaxed); }

void Bf16WeightCache::set_enabled(bool on) { enabled.store(on, std::memory_order_relaxed); }

}  // namespace accent
