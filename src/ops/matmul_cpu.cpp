// ops/matmul_cpu.cpp — gemm on oneDNN 2.6 (fp32, bf16 or u8·s8 matmul primitive) and a parallel column sum.
// int8 (ops/matmul_int8.h): u8·s8 with an int32 result (AVX512-VNNI's vpdpbusd takes exactly these operand types).
// bf16: operands are bf16 (converted here into per-thread scratch that only grows, so a training step that
// repeats shapes allocates nothing after the first), bias and dst fp32; oneDNN accumulates in fp32 (AMX tiles or
// AVX512-BF16 dot products).
//
// Transposes are expressed as strides of the memory descriptors, so nothing is copied: B stored (N, K) is the
// (K, N) matrix with strides {1, K}. Accumulation (C += ...) is oneDNN's `sum` post-op. Primitives are created
// once per (shape, transposes, bias, accumulate) and cached; oneDNN threads with OpenMP like the rest of accent.
// Packed weights (ops/packed_weight.h): B in the layout oneDNN picks for a weight of format `any`, reordered once;
// the primitives that multiply it name that layout, so nothing is copied per call.
//
// A CPU without a bf16 matmul in oneDNN 2.6 (no AVX-512: oneDNN has no bf16 kernel for AVX2) still runs
// Precision::BF16, as PyTorch's autocast does there: the operands are rounded to bf16 exactly as above and multiplied
// by the fp32 primitive. A product of two bf16 values is exact in fp32, so this is the same arithmetic (fp32
// accumulation of exact products), only slower; `auto` precision picks fp32 on such a CPU anyway.
#include <algorithm>
#include <atomic>
#include <list>
#include <map>
#include <mutex>
#include <set>
#include <tuple>
#include <unordered_map>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

#include "core/dtype.h"
#include "core/error.h"
#include "ops/matmul.h"
#include "ops/matmul_int8.h"
#include "ops/packed_weight.h"
#include "ops/precision.h"

namespace accent {
struct PackedWeightLayout {
  dnnl::memory::desc desc;  // (K, N) in oneDNN's blocked weight layout
};
}  // namespace accent

namespace accent::cpu {

namespace {

using dnnl::memory;

// What A and B hold: fp32, bf16 (fp32 accumulation) or u8 · s8 (int32 accumulation and result).
enum class Operands : uint8_t { F32, BF16, U8S8 };

struct GemmKey {
  int64_t batch, M, N, K;
  bool trans_a, trans_b, has_bias, accumulate;
  Operands operands;
  bool packed_b = false;  // B in packed_layout(K, N, operands) (batch 1, no transposes)
  auto tie() const { return std::tie(batch, M, N, K, trans_a, trans_b, has_bias, accumulate, operands, packed_b); }
  bool operator<(const GemmKey& o) const { return tie() < o.tie(); }
};

struct GemmPrimitive {
  dnnl::matmul::primitive_desc pd;
  dnnl::matmul primitive;
};

dnnl::engine& engine() {
  static dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  return eng;
}

dnnl::stream& stream() {
  static dnnl::stream s(engine());
  return s;
}

memory::data_type a_type_of(Operands operands) {
  return operands == Operands::U8S8 ? memory::data_type::u8
         : operands == Operands::BF16 ? memory::data_type::bf16 : memory::data_type::f32;
}
memory::data_type b_type_of(Operands operands) {
  return operands == Operands::U8S8 ? memory::data_type::s8
         : operands == Operands::BF16 ? memory::data_type::bf16 : memory::data_type::f32;
}

// The layout oneDNN's matmul wants for a (K, N) weight of these operand types: asked once per (K, N, operands) with
// weights format `any` at a representative row count. brgemm's choice depends on N's blocking, not on M, and a
// primitive created for another M with this exact layout takes it as given (the packed tests multiply M from 1 to
// 2,000 against the plain product).
std::shared_ptr<const PackedWeightLayout> packed_layout(int64_t K, int64_t N, Operands operands) {
  static std::mutex mutex;
  static std::map<std::tuple<int64_t, int64_t, Operands>, std::shared_ptr<const PackedWeightLayout>> layouts;
  std::lock_guard<std::mutex> lock(mutex);
  auto& slot = layouts[{K, N, operands}];
  if (slot) return slot;
  constexpr memory::dim kRepresentativeRows = 32;
  const memory::desc a_md({kRepresentativeRows, K}, a_type_of(operands), memory::dims{K, 1});
  const memory::desc b_md({K, N}, b_type_of(operands), memory::format_tag::any);
  const memory::desc c_md({kRepresentativeRows, N},
                          operands == Operands::U8S8 ? memory::data_type::s32 : memory::data_type::f32,
                          memory::dims{N, 1});
  try {
    const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a_md, b_md, c_md), engine());
    slot = std::make_shared<const PackedWeightLayout>(PackedWeightLayout{pd.weights_desc()});
  } catch (const dnnl::error& e) {
    fail("pack_weight: oneDNN has no matmul layout for a ", K, "×", N, " weight (", e.what(), ")");
  }
  return slot;
}

GemmPrimitive make_primitive(const GemmKey& k) {
  const memory::dim bs = k.batch, M = k.M, N = k.N, K = k.K;
  memory::desc a_md, b_md, c_md, bias_md;
  const bool int8 = k.operands == Operands::U8S8;
  const memory::data_type in_type = k.operands == Operands::BF16 ? memory::data_type::bf16 : memory::data_type::f32;
  const memory::data_type a_type = a_type_of(k.operands);
  const memory::data_type b_type = b_type_of(k.operands);
  const memory::data_type c_type = int8 ? memory::data_type::s32 : memory::data_type::f32;
  if (k.batch == 1) {
    a_md = memory::desc({M, K}, a_type, k.trans_a ? memory::dims{1, M} : memory::dims{K, 1});
    b_md = k.packed_b ? packed_layout(K, N, k.operands)->desc
                      : memory::desc({K, N}, b_type, k.trans_b ? memory::dims{1, K} : memory::dims{N, 1});
    c_md = memory::desc({M, N}, c_type, memory::dims{N, 1});
    if (k.has_bias) bias_md = memory::desc({1, N}, memory::data_type::f32, memory::dims{N, 1});
  } else {
    a_md = memory::desc({bs, M, K}, in_type,
                        k.trans_a ? memory::dims{M * K, 1, M} : memory::dims{M * K, K, 1});
    b_md = memory::desc({bs, K, N}, in_type,
                        k.trans_b ? memory::dims{K * N, 1, K} : memory::dims{K * N, N, 1});
    c_md = memory::desc({bs, M, N}, memory::data_type::f32, memory::dims{M * N, N, 1});
    if (k.has_bias) bias_md = memory::desc({1, 1, N}, memory::data_type::f32, memory::dims{N, N, 1});
  }
  dnnl::primitive_attr attr;
  if (k.accumulate) {
    dnnl::post_ops ops;
    ops.append_sum(1.0f);
    attr.set_post_ops(ops);
  }
  dnnl::matmul::desc desc = k.has_bias ? dnnl::matmul::desc(a_md, b_md, bias_md, c_md)
                                       : dnnl::matmul::desc(a_md, b_md, c_md);
  dnnl::matmul::primitive_desc pd(desc, attr, engine());
  return GemmPrimitive{pd, dnnl::matmul(pd)};
}

// Cached primitives, least recently used first out. The cache is bounded, so a pathological stream of shapes cannot
// grow it forever. Evicting one entry at a time keeps the shapes in use while they number fewer than the capacity
// (a cycle over more distinct shapes misses every time, as a clear did). It was cleared whole at 512 entries: one
// process running bf16, fp32 and int8 over SST-2 dev meets ~1,700 shapes, so each clear made every live shape pay
// primitive creation again. Returned by value: the handles are reference-counted, so an entry evicted by another
// thread stays alive for the caller that holds it.
constexpr size_t kPrimitiveCacheCapacity = 1024;
std::atomic<int64_t> primitives_created{0};

GemmPrimitive primitive_for(const GemmKey& key) {
  static std::mutex mutex;
  static std::list<GemmKey> recency;  // most recently used first
  static std::map<GemmKey, std::pair<GemmPrimitive, std::list<GemmKey>::iterator>> cache;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = cache.find(key);
  if (it != cache.end()) {
    recency.splice(recency.begin(), recency, it->second.second);
    return it->second.first;
  }
  GemmPrimitive made;
  try {
    made = make_primitive(key);
    primitives_created.fetch_add(1, std::memory_order_relaxed);
  } catch (const dnnl::error& e) {
    fail("gemm: oneDNN could not create a matmul for batch=", key.batch, " M=", key.M, " N=", key.N, " K=", key.K,
         key.trans_a ? " Aᵀ" : "", key.trans_b ? " Bᵀ" : "", key.has_bias ? " +bias" : "",
         key.accumulate ? " +=" : "",
         key.operands == Operands::BF16 ? " bf16" : key.operands == Operands::U8S8 ? " u8·s8" : " fp32", " (", e.what(), ")");
  }
  if (cache.size() >= kPrimitiveCacheCapacity) {
    cache.erase(recency.back());
    recency.pop_back();
  }
  recency.push_front(key);
  cache.emplace(key, std::make_pair(made, recency.begin()));
  return made;
}

}  // namespace

namespace {

// C = bias (or unchanged when accumulating) for an empty reduction, which oneDNN does not take.
void empty_reduction(const GemmShape& s, const float* bias, float* C, bool accumulate) {
  if (accumulate) return;
  for (int64_t i = 0; i < s.batch * s.M; ++i)
    for (int64_t n = 0; n < s.N; ++n) C[i * s.N + n] = bias ? bias[n] : 0.0f;
}

// C is fp32, or int32 for Operands::U8S8. packed_b: B is a PackedWeight's data (batch 1, no transposes).
void execute(const GemmShape& s, const void* A, const void* B, const float* bias, void* C, bool accumulate,
             Operands operands, bool packed_b = false) {
  const GemmKey key{s.batch, s.M, s.N, s.K, s.trans_a, s.trans_b, bias != nullptr, accumulate, operands, packed_b};
  const GemmPrimitive p = primitive_for(key);
  memory a(p.pd.src_desc(), engine(), const_cast<void*>(A));
  memory b(p.pd.weights_desc(), engine(), const_cast<void*>(B));
  memory c(p.pd.dst_desc(), engine(), C);
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, a}, {DNNL_ARG_WEIGHTS, b}, {DNNL_ARG_DST, c}};
  if (bias) args.emplace(DNNL_ARG_BIAS, memory(p.pd.bias_desc(), engine(), const_cast<float*>(bias)));
  p.primitive.execute(stream(), args);
  stream().wait();
}

// Per-thread bf16 scratch for converted operands; grows to the largest size seen, never shrinks.
uint16_t* bf16_scratch(int slot, int64_t n) {
  thread_local std::vector<uint16_t> buffers[2];
  auto& b = buffers[slot];
  if (static_cast<int64_t>(b.size()) < n) b.resize(static_cast<size_t>(n));
  return b.data();
}

// Whether oneDNN has a bf16 matmul on this CPU (asked once, with a small shape).
bool native_bf16_matmul() {
  static const bool available = [] {
    try {
      make_primitive(GemmKey{1, 16, 16, 16, false, false, false, false, Operands::BF16});
      return true;
    } catch (const dnnl::error&) {
      return false;
    }
  }();
  return available;
}

// Without a native bf16 matmul: the bf16 operands widened back to fp32 (exact), for the fp32 primitive.
const float* widened(int slot, const uint16_t* bf16, int64_t n) {
  thread_local std::vector<float> buffers[2];
  auto& b = buffers[slot];
  if (static_cast<int64_t>(b.size()) < n) b.resize(static_cast<size_t>(n));
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < n; ++i) b[static_cast<size_t>(i)] = bf16_to_f32(bf16[i]);
  return b.data();
}

// C = A16·B16 (+ bias): on the bf16 primitive, or on the fp32 one with the widened operands.
void execute_bf16(const GemmShape& s, const uint16_t* a16, const uint16_t* b16, const float* bias, float* C,
                  bool accumulate) {
  if (native_bf16_matmul()) return execute(s, a16, b16, bias, C, accumulate, Operands::BF16);
  execute(s, widened(0, a16, s.batch * s.M * s.K), widened(1, b16, s.batch * s.K * s.N), bias, C, accumulate,
          Operands::F32);
}

}  // namespace

void gemm(const GemmShape& s, const float* A, const float* B, const float* bias, float* C, bool accumulate) {
  if (s.K == 0) return empty_reduction(s, bias, C, accumulate);
  execute(s, A, B, bias, C, accumulate, Operands::F32);
}

void gemm_u8s8(const GemmShape& s, const uint8_t* A, const int8_t* B, int32_t* C) {
  ACCENT_CHECK(s.batch == 1 && !s.trans_a, "gemm_u8s8: takes one (M, K) A, got batch=", s.batch,
               s.trans_a ? " Aᵀ" : "");
  if (s.K == 0) {
    std::fill(C, C + s.M * s.N, 0);
    return;
  }
  execute(s, A, B, nullptr, C, false, Operands::U8S8);
}

void gemm_bf16(const GemmShape& s, const float* A, const float* B, const float* bias, float* C, bool accumulate) {
  if (s.K == 0) return empty_reduction(s, bias, C, accumulate);
  const int64_t na = s.batch * s.M * s.K, nb = s.batch * s.K * s.N;
  uint16_t* a16 = bf16_scratch(0, na);
  uint16_t* b16 = bf16_scratch(1, nb);
  convert_f32_to_bf16(A, a16, na);
  convert_f32_to_bf16(B, b16, nb);
  execute_bf16(s, a16, b16, bias, C, accumulate);
}

void gemm_bf16_weights(const GemmShape& s, const float* A, const uint16_t* B_bf16, const float* bias, float* C,
                       bool accumulate) {
  if (s.K == 0) return empty_reduction(s, bias, C, accumulate);
  const int64_t na = s.batch * s.M * s.K;
  uint16_t* a16 = bf16_scratch(0, na);
  convert_f32_to_bf16(A, a16, na);
  execute_bf16(s, a16, B_bf16, bias, C, accumulate);
}

namespace {

Operands packed_operands(const PackedWeight& B) {
  return B.type() == PackedWeight::Type::S8 ? Operands::U8S8 : Operands::BF16;
}

PackedWeight pack(const void* B, int64_t K, int64_t N, bool trans_b, Operands operands) {
  auto layout = packed_layout(K, N, operands);
  const memory::desc plain({K, N}, b_type_of(operands), trans_b ? memory::dims{1, K} : memory::dims{N, 1});
  Tensor storage(DType::I8, {static_cast<int64_t>(layout->desc.get_size())});
  memory src(plain, engine(), const_cast<void*>(B));
  memory dst(layout->desc, engine(), storage.data());
  dnnl::reorder(src, dst).execute(stream(), src, dst);
  stream().wait();
  return PackedWeight(std::move(layout), std::move(storage),
                      operands == Operands::U8S8 ? PackedWeight::Type::S8 : PackedWeight::Type::BF16, K, N);
}

// C = A · B for a packed B. The layout was asked at 32 rows; should oneDNN refuse it for another row count (an ISA
// whose kernel blocks by M, such as AMX, not seen on the machines this was measured on), the product falls back to
// B unpacked into per-thread scratch and the plain primitive, and remembers the shape so it does not ask again.
void execute_packed(const GemmShape& s, const void* A, const PackedWeight& B, const float* bias, void* C) {
  static std::mutex mutex;
  static std::set<std::tuple<int64_t, int64_t, int64_t, Operands, bool>> refused;
  const Operands operands = packed_operands(B);
  const auto key = std::make_tuple(s.M, s.N, s.K, operands, bias != nullptr);
  bool known_refused;
  {
    std::lock_guard<std::mutex> lock(mutex);
    known_refused = refused.count(key) > 0;
  }
  if (!known_refused) {
    try {
      return execute(s, A, B.data(), bias, C, false, operands, /*packed_b=*/true);
    } catch (const Error&) {
      std::lock_guard<std::mutex> lock(mutex);
      refused.insert(key);
    }
  }
  thread_local std::vector<uint8_t> plain_bytes;
  const memory::desc plain({s.K, s.N}, b_type_of(operands), memory::dims{s.N, 1});
  if (plain_bytes.size() < plain.get_size()) plain_bytes.resize(plain.get_size());
  memory src(B.layout().desc, engine(), const_cast<void*>(B.data()));
  memory dst(plain, engine(), plain_bytes.data());
  dnnl::reorder(src, dst).execute(stream(), src, dst);
  stream().wait();
  execute(s, A, plain_bytes.data(), bias, C, false, operands);
}

GemmShape packed_shape(int64_t M, const PackedWeight& B) {
  GemmShape s;
  s.M = M, s.N = B.N(), s.K = B.K();
  return s;
}

}  // namespace

void gemm_bf16_packed(int64_t M, const float* A, const PackedWeight& B, const float* bias, float* C) {
  ACCENT_CHECK(!B.empty() && B.type() == PackedWeight::Type::BF16, "gemm_bf16_packed: B is not a packed bf16 weight");
  const GemmShape s = packed_shape(M, B);
  if (s.K == 0) return empty_reduction(s, bias, C, false);
  uint16_t* a16 = bf16_scratch(0, M * s.K);
  convert_f32_to_bf16(A, a16, M * s.K);
  execute_packed(s, a16, B, bias, C);
}

void gemm_u8s8_packed(int64_t M, const uint8_t* A, const PackedWeight& B, int32_t* C) {
  ACCENT_CHECK(!B.empty() && B.type() == PackedWeight::Type::S8, "gemm_u8s8_packed: B is not a packed s8 weight");
  const GemmShape s = packed_shape(M, B);
  if (s.K == 0) {
    std::fill(C, C + s.M * s.N, 0);
    return;
  }
  execute_packed(s, A, B, nullptr, C);
}

}  // namespace accent::cpu

namespace accent {

bool packed_bf16_weights_available(const OpContext& ctx) {
  return ctx.backend == Backend::Cpu && ctx.precision == Precision::BF16 && cpu::native_bf16_matmul();
}

PackedWeight pack_weight_bf16(const uint16_t* B, int64_t K, int64_t N, bool trans_b) {
  return cpu::pack(B, K, N, trans_b, cpu::Operands::BF16);
}

PackedWeight pack_weight_s8(const int8_t* B, int64_t K, int64_t N, bool trans_b) {
  return cpu::pack(B, K, N, trans_b, cpu::Operands::U8S8);
}

void gemm_bf16_packed(const OpContext& ctx, int64_t M, const float* A, const PackedWeight& B, const float* bias,
                      float* C) {
  check_op_context(ctx, "gemm_bf16_packed");
  ACCENT_CHECK(packed_bf16_weights_available(ctx), "gemm_bf16_packed: packed weights need the Cpu backend with a "
               "native bf16 matmul and Precision::BF16 (check packed_bf16_weights_available first)");
  if (M == 0 || B.N() == 0) return;
  cpu::gemm_bf16_packed(M, A, B, bias, C);
}

}  // namespace accent

namespace accent::cpu {

int64_t gemm_primitives_created() { return primitives_created.load(std::memory_order_relaxed); }

const char* gemm_impl_name(const GemmShape& s, bool has_bias, bool accumulate, bool bf16) {
  const GemmKey key{s.batch, s.M, s.N, s.K, s.trans_a, s.trans_b, has_bias, accumulate,
                    bf16 && native_bf16_matmul() ? Operands::BF16 : Operands::F32};
  return primitive_for(key).pd.impl_info_str();
}

void column_sum_accumulate(const float* dy, float* dbias, int64_t rows, int64_t cols) {
  // Column blocks in parallel, rows in order inside a block: race-free and the same result for any thread count.
  // Sums are carried in double (PyTorch reduces with a cascade; both are far inside the fp32 tolerance).
  constexpr int64_t kBlock = 64;
  const int64_t nblocks = (cols + kBlock - 1) / kBlock;
#pragma omp parallel for schedule(static)
  for (int64_t blk = 0; blk < nblocks; ++blk) {
    const int64_t c0 = blk * kBlock, c1 = std::min(cols, c0 + kBlock);
    double acc[kBlock] = {};
    for (int64_t r = 0; r < rows; ++r) {
      const float* row = dy + r * cols;
#pragma omp simd
      for (int64_t c = c0; c < c1; ++c) acc[c - c0] += row[c];
    }
    for (int64_t c = c0; c < c1; ++c) dbias[c] += static_cast<float>(acc[c - c0]);
  }
}

}  // namespace accent::cpu
