// ops/cuda/matmul.cu — gemm (matmul.h) through cuBLASLt, and the fp32 → bf16 conversion.
//
// Row-major C (M, N) = op(A)·op(B) is, read column-major, Cᵀ (N, M) = op(B)ᵀ·op(A)ᵀ: cuBLASLt gets B as its first
// operand and A as its second, each stored matrix described as the column-major matrix its bytes already are.
// bf16 (mixed precision): A and B are rounded to bf16 (round to nearest even, as the cpu path) into workspaces and
// multiplied on the tensor cores with fp32 accumulation; C, the bias and the accumulated C stay fp32. fp32: exact
// fp32 products (CUBLAS_COMPUTE_32F) unless TF32 was asked for. Bias is cuBLASLt's BIAS epilogue.
//
// libcublasLt is opened with dlopen on first use, not linked: the program must start on machines without the
// CUDA libraries (the CPU backend needs none of them). A plan (descriptors + the heuristic's algorithm) is made
// once per shape, operand alignment and precision, and reused.
#include <cublasLt.h>
#include <cuda_bf16.h>
#include <dlfcn.h>

#include <cstring>
#include <map>
#include <mutex>
#include <tuple>

#include "core/error.h"
#include "ops/cuda/kernels.h"
#include "ops/cuda/runtime.h"

namespace accent::cuda {

namespace {

// The cuBLASLt entry points accent uses, resolved from the shared library.
struct CublasLt {
  decltype(&::cublasLtCreate) create = nullptr;
  decltype(&::cublasLtMatmulDescCreate) desc_create = nullptr;
  decltype(&::cublasLtMatmulDescSetAttribute) desc_set = nullptr;
  decltype(&::cublasLtMatrixLayoutCreate) layout_create = nullptr;
  decltype(&::cublasLtMatrixLayoutSetAttribute) layout_set = nullptr;
  decltype(&::cublasLtMatmulPreferenceCreate) pref_create = nullptr;
  decltype(&::cublasLtMatmulPreferenceSetAttribute) pref_set = nullptr;
  decltype(&::cublasLtMatmulPreferenceDestroy) pref_destroy = nullptr;
  decltype(&::cublasLtMatmulAlgoGetHeuristic) heuristic = nullptr;
  decltype(&::cublasLtMatmul) matmul = nullptr;
  cublasLtHandle_t handle = nullptr;
};

const CublasLt& cublaslt() {
  static const CublasLt lt = [] {
    CublasLt l;
    void* lib = nullptr;
    for (const char* name : {"libcublasLt.so.13", "libcublasLt.so"}) {
      lib = dlopen(name, RTLD_NOW | RTLD_LOCAL);
      if (lib) break;
    }
    ACCENT_CHECK(lib, "CUDA matmul: libcublasLt.so.13 (cuBLAS 13) was not found: install the CUDA toolkit's cuBLAS "
                      "or add its lib directory to LD_LIBRARY_PATH (", dlerror(), ")");
    auto sym = [&](auto& fn, const char* name) {
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(lib, name));
      ACCENT_CHECK(fn, "CUDA matmul: libcublasLt has no ", name);
    };
    sym(l.create, "cublasLtCreate");
    sym(l.desc_create, "cublasLtMatmulDescCreate");
    sym(l.desc_set, "cublasLtMatmulDescSetAttribute");
    sym(l.layout_create, "cublasLtMatrixLayoutCreate");
    sym(l.layout_set, "cublasLtMatrixLayoutSetAttribute");
    sym(l.pref_create, "cublasLtMatmulPreferenceCreate");
    sym(l.pref_set, "cublasLtMatmulPreferenceSetAttribute");
    sym(l.pref_destroy, "cublasLtMatmulPreferenceDestroy");
    sym(l.heuristic, "cublasLtMatmulAlgoGetHeuristic");
    sym(l.matmul, "cublasLtMatmul");
    ACCENT_CHECK(l.create(&l.handle) == CUBLAS_STATUS_SUCCESS, "CUDA matmul: cublasLtCreate failed");
    return l;
  }();
  return lt;
}

void lt_check(cublasStatus_t status, const char* what) {
  ACCENT_CHECK(status == CUBLAS_STATUS_SUCCESS, "cuBLASLt ", what, " failed (status ", static_cast<int>(status), ")");
}

constexpr size_t kWorkspaceBytes = size_t{32} << 20;

// Largest power of two ≤ 16 dividing the address (cuBLASLt's kernels need to know what they may assume).
uint32_t alignment_of(const void* p) {
  const auto a = reinterpret_cast<uintptr_t>(p);
  uint32_t align = 16;
  while (align > 1 && (a % align) != 0) align >>= 1;
  return align;
}

struct PlanKey {
  int64_t batch, M, N, K;
  bool trans_a, trans_b, bias, bf16, tf32;
  uint32_t align_a, align_b, align_c;
  auto tie() const { return std::tie(batch, M, N, K, trans_a, trans_b, bias, bf16, tf32, align_a, align_b, align_c); }
  bool operator<(const PlanKey& o) const { return tie() < o.tie(); }
};

struct Plan {
  cublasLtMatmulDesc_t desc = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;  // cuBLASLt's operands: a = our B, b = our A
  cublasLtMatmulAlgo_t algo{};
};

cublasLtMatrixLayout_t make_layout(const CublasLt& lt, cudaDataType type, int64_t rows, int64_t cols, int64_t ld,
                                   int64_t batch, int64_t stride) {
  cublasLtMatrixLayout_t layout = nullptr;
  lt_check(lt.layout_create(&layout, type, static_cast<uint64_t>(rows), static_cast<uint64_t>(cols), ld),
           "layout create");
  if (batch > 1) {
    const int32_t count = static_cast<int32_t>(batch);
    lt_check(lt.layout_set(layout, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &count, sizeof count), "layout batch");
    lt_check(lt.layout_set(layout, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &stride, sizeof stride),
             "layout stride");
  }
  return layout;
}

const Plan& plan_for(const PlanKey& k) {
  static std::map<PlanKey, Plan> plans;
  static std::mutex mutex;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = plans.find(k);
  if (it != plans.end()) return it->second;
  const CublasLt& lt = cublaslt();
  Plan p;
  const cublasComputeType_t compute = k.tf32 && !k.bf16 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
  lt_check(lt.desc_create(&p.desc, compute, CUDA_R_32F), "matmul desc");
  const cublasOperation_t op_first = k.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;   // our B
  const cublasOperation_t op_second = k.trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;  // our A
  lt_check(lt.desc_set(p.desc, CUBLASLT_MATMUL_DESC_TRANSA, &op_first, sizeof op_first), "transa");
  lt_check(lt.desc_set(p.desc, CUBLASLT_MATMUL_DESC_TRANSB, &op_second, sizeof op_second), "transb");
  if (k.bias) {
    const cublasLtEpilogue_t epilogue = CUBLASLT_EPILOGUE_BIAS;
    lt_check(lt.desc_set(p.desc, CUBLASLT_MATMUL_DESC_EPILOGUE, &epilogue, sizeof epilogue), "epilogue");
    const cudaDataType bias_type = CUDA_R_32F;
    lt_check(lt.desc_set(p.desc, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, &bias_type, sizeof bias_type), "bias type");
  }
  const cudaDataType in = k.bf16 ? CUDA_R_16BF : CUDA_R_32F;
  // Our B: stored (K, N) → column-major (N × K), ld N; transposed: stored (N, K) → (K × N), ld K.
  p.a = k.trans_b ? make_layout(lt, in, k.K, k.N, k.K, k.batch, k.K * k.N)
                  : make_layout(lt, in, k.N, k.K, k.N, k.batch, k.K * k.N);
  // Our A: stored (M, K) → (K × M), ld K; transposed: stored (K, M) → (M × K), ld M.
  p.b = k.trans_a ? make_layout(lt, in, k.M, k.K, k.M, k.batch, k.M * k.K)
                  : make_layout(lt, in, k.K, k.M, k.K, k.batch, k.M * k.K);
  p.c = make_layout(lt, CUDA_R_32F, k.N, k.M, k.N, k.batch, k.M * k.N);

  cublasLtMatmulPreference_t pref = nullptr;
  lt_check(lt.pref_create(&pref), "preference");
  const uint64_t ws = kWorkspaceBytes;
  lt_check(lt.pref_set(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws), "workspace");
  lt_check(lt.pref_set(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, &k.align_b, sizeof k.align_b), "align");
  lt_check(lt.pref_set(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, &k.align_a, sizeof k.align_a), "align");
  lt_check(lt.pref_set(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, &k.align_c, sizeof k.align_c), "align");
  lt_check(lt.pref_set(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, &k.align_c, sizeof k.align_c), "align");
  cublasLtMatmulHeuristicResult_t result{};
  int found = 0;
  lt_check(lt.heuristic(lt.handle, p.desc, p.a, p.b, p.c, p.c, pref, 1, &result, &found), "heuristic");
  lt.pref_destroy(pref);
  ACCENT_CHECK(found > 0, "cuBLASLt has no algorithm for gemm batch=", k.batch, " M=", k.M, " N=", k.N, " K=", k.K,
               k.bf16 ? " (bf16)" : " (fp32)");
  p.algo = result.algo;
  return plans.emplace(k, p).first->second;
}

__global__ void to_bf16_kernel(const float* src, __nv_bfloat16* dst, int64_t n) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    dst[i] = __float2bfloat16_rn(src[i]);  // round to nearest even; NaN stays NaN
}

// K = 0 (an empty sum, which cuBLASLt rejects): C = (C if accumulate else 0) + bias.
__global__ void empty_product_kernel(const float* bias, float* C, int64_t rows, int64_t N, bool accumulate) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < rows * N;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    C[i] = (accumulate ? C[i] : 0.0f) + (bias ? bias[i % N] : 0.0f);
}

void run(const GemmShape& s, const void* A, const void* B, const float* bias, float* C, bool accumulate, bool bf16,
         bool tf32) {
  const CublasLt& lt = cublaslt();
  PlanKey key{s.batch, s.M, s.N, s.K, s.trans_a, s.trans_b, bias != nullptr, bf16, tf32,
              alignment_of(A), alignment_of(B), alignment_of(C)};
  const Plan& p = plan_for(key);
  if (bias) lt_check(lt.desc_set(p.desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof bias), "bias pointer");
  const float alpha = 1.0f, beta = accumulate ? 1.0f : 0.0f;
  void* ws = workspace(Workspace::CublasLt, kWorkspaceBytes);
  lt_check(lt.matmul(lt.handle, p.desc, &alpha, B, p.a, A, p.b, &beta, C, p.c, C, p.c, &p.algo, ws, kWorkspaceBytes,
                     stream()),
           "matmul");
}

}  // namespace

void convert_f32_to_bf16(const float* src, uint16_t* dst, int64_t n) {
  if (n == 0) return;
  to_bf16_kernel<<<grid_for(n), kThreads, 0, stream()>>>(src, reinterpret_cast<__nv_bfloat16*>(dst), n);
  check_launch("convert_f32_to_bf16");
}

void gemm(const GemmShape& s, const float* A, const float* B, const float* bias, float* C, bool accumulate,
          Precision precision, bool allow_tf32) {
  if (s.M == 0 || s.N == 0) return;
  if (s.K == 0) {
    empty_product_kernel<<<grid_for(s.batch * s.M * s.N), kThreads, 0, stream()>>>(bias, C, s.batch * s.M, s.N,
                                                                                     accumulate);
    check_launch("gemm (K = 0)");
    return;
  }
  if (precision != Precision::BF16) {
    run(s, A, B, bias, C, accumulate, false, allow_tf32);
    return;
  }
  const int64_t na = s.batch * s.M * s.K, nb = s.batch * s.K * s.N;
  auto* a16 = static_cast<uint16_t*>(workspace(Workspace::GemmA, static_cast<size_t>(na) * 2));
  auto* b16 = static_cast<uint16_t*>(workspace(Workspace::GemmB, static_cast<size_t>(nb) * 2));
  convert_f32_to_bf16(A, a16, na);
  convert_f32_to_bf16(B, b16, nb);
  run(s, a16, b16, bias, C, accumulate, true, false);
}

void gemm_bf16_weights(const GemmShape& s, const float* A, const uint16_t* B_bf16, const float* bias, float* C,
                       bool accumulate) {
  if (s.M == 0 || s.N == 0) return;
  if (s.K == 0) return gemm(s, A, nullptr, bias, C, accumulate, Precision::F32, false);
  const int64_t na = s.batch * s.M * s.K;
  auto* a16 = static_cast<uint16_t*>(workspace(Workspace::GemmA, static_cast<size_t>(na) * 2));
  convert_f32_to_bf16(A, a16, na);
  run(s, a16, B_bf16, bias, C, accumulate, true, false);
}

}  // namespace accent::cuda
