// ops/matmul_cpu.cpp — gemm on oneDNN 2.6 (fp32 matmul primitive) and a parallel column sum.
//
// Transposes are expressed as strides of the memory descriptors, so nothing is copied: B stored (N, K) is the
// (K, N) matrix with strides {1, K}. Accumulation (C += ...) is oneDNN's `sum` post-op. Primitives are created
// once per (shape, transposes, bias, accumulate) and cached; oneDNN threads with OpenMP like the rest of accent.
#include <algorithm>
#include <map>
#include <mutex>
#include <tuple>
#include <unordered_map>

#include <oneapi/dnnl/dnnl.hpp>

#include "core/error.h"
#include "ops/matmul.h"

namespace accent::cpu {

namespace {

using dnnl::memory;

struct GemmKey {
  int64_t batch, M, N, K;
  bool trans_a, trans_b, has_bias, accumulate;
  auto tie() const { return std::tie(batch, M, N, K, trans_a, trans_b, has_bias, accumulate); }
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

GemmPrimitive make_primitive(const GemmKey& k) {
  const memory::dim bs = k.batch, M = k.M, N = k.N, K = k.K;
  memory::desc a_md, b_md, c_md, bias_md;
  if (k.batch == 1) {
    a_md = memory::desc({M, K}, memory::data_type::f32, k.trans_a ? memory::dims{1, M} : memory::dims{K, 1});
    b_md = memory::desc({K, N}, memory::data_type::f32, k.trans_b ? memory::dims{1, K} : memory::dims{N, 1});
    c_md = memory::desc({M, N}, memory::data_type::f32, memory::dims{N, 1});
    if (k.has_bias) bias_md = memory::desc({1, N}, memory::data_type::f32, memory::dims{N, 1});
  } else {
    a_md = memory::desc({bs, M, K}, memory::data_type::f32,
                        k.trans_a ? memory::dims{M * K, 1, M} : memory::dims{M * K, K, 1});
    b_md = memory::desc({bs, K, N}, memory::data_type::f32,
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

// Cached primitive for a key. The cache is bounded: a pathological stream of shapes cannot grow it forever.
const GemmPrimitive& primitive_for(const GemmKey& key) {
  static std::mutex mutex;
  static std::map<GemmKey, GemmPrimitive> cache;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  if (cache.size() >= 512) cache.clear();
  try {
    return cache.emplace(key, make_primitive(key)).first->second;
  } catch (const dnnl::error& e) {
    fail("gemm: oneDNN could not create a matmul for batch=", key.batch, " M=", key.M, " N=", key.N, " K=", key.K,
         " (", e.what(), ")");
  }
}

}  // namespace

void gemm(const GemmShape& s, const float* A, const float* B, const float* bias, float* C, bool accumulate) {
  if (s.K == 0) {  // empty reduction: C = bias (or unchanged when accumulating)
    if (!accumulate) {
      for (int64_t i = 0; i < s.batch * s.M; ++i)
        for (int64_t n = 0; n < s.N; ++n) C[i * s.N + n] = bias ? bias[n] : 0.0f;
    }
    return;
  }
  const GemmKey key{s.batch, s.M, s.N, s.K, s.trans_a, s.trans_b, bias != nullptr, accumulate};
  const GemmPrimitive& p = primitive_for(key);
  memory a(p.pd.src_desc(), engine(), const_cast<float*>(A));
  memory b(p.pd.weights_desc(), engine(), const_cast<float*>(B));
  memory c(p.pd.dst_desc(), engine(), C);
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, a}, {DNNL_ARG_WEIGHTS, b}, {DNNL_ARG_DST, c}};
  if (bias) args.emplace(DNNL_ARG_BIAS, memory(p.pd.bias_desc(), engine(), const_cast<float*>(bias)));
  p.primitive.execute(stream(), args);
  stream().wait();
}

const char* gemm_impl_name(const GemmShape& s, bool has_bias, bool accumulate) {
  const GemmKey key{s.batch, s.M, s.N, s.K, s.trans_a, s.trans_b, has_bias, accumulate};
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
