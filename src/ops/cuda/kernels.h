// ops/cuda/kernels.h — the CUDA implementations of the op contracts in ops/*.h. Every pointer is device memory;
// every call is queued on accent's stream (ops/cuda/runtime.h) and returns before the GPU has finished. The op
// headers' dispatchers call these for Backend::Cuda (ACCENT_ON_CUDA below); tests call them through the
// dispatchers too. Declared in every build, defined only in CUDA builds.
#pragma once
#include <cstdint>

#include "ops/activation.h"
#include "ops/backend.h"
#include "ops/dropout.h"
#include "ops/embedding_layernorm.h"
#include "ops/matmul.h"
#include "ops/multi_tensor.h"

// In a dispatcher: `if (ctx.backend == Backend::Cuda) return ACCENT_ON_CUDA(op, args...);` — the CUDA kernel, or
// a clear error in a build without the CUDA backend.
#if ACCENT_WITH_CUDA
#define ACCENT_ON_CUDA(op, ...) ::accent::cuda::op(__VA_ARGS__)
#else
#define ACCENT_ON_CUDA(op, ...) ::accent::fail_cuda_not_built(#op)
#endif

namespace accent {
struct AttentionDims;
}

namespace accent::cuda {

// matmul.h (cuBLASLt). bf16: A and B rounded to bf16 on the device, fp32 accumulation and output. allow_tf32 lets
// fp32 matmuls use TF32 tensor cores (only when the user asked for it).
void gemm(const GemmShape& shape, const float* A, const float* B, const float* bias, float* C, bool accumulate,
          Precision precision, bool allow_tf32);
void gemm_bf16_weights(const GemmShape& shape, const float* A, const uint16_t* B_bf16, const float* bias, float* C,
                       bool accumulate);
void column_sum_accumulate(const float* dy, float* dbias, int64_t rows, int64_t cols);
void convert_f32_to_bf16(const float* src, uint16_t* dst, int64_t n);

// tensor_ops.h
void add(const float* a, const float* b, float* y, int64_t n);
void add_inplace(const float* a, float* y, int64_t n);
void multiply_inplace(const float* a, float* y, int64_t n);
void scale_inplace(float s, float* y, int64_t n);
void split_heads(const float* x, float* y, int64_t B, int64_t T, int64_t P, int64_t NH, int64_t D);
void merge_heads(const float* x, float* y, int64_t B, int64_t T, int64_t P, int64_t NH, int64_t D);
void fill_causal(float* scores, int64_t BNH, int64_t T);
void gather_rows(const float* x, float* y, int64_t B, int64_t T, int64_t C, int64_t index);
void scatter_rows(const float* dy, float* dx, int64_t B, int64_t T, int64_t C, int64_t index);

// activation.h
void activation_forward(Activation act, const float* x, float* y, int64_t n);
void activation_backward(Activation act, const float* x, const float* dy, float* dx, int64_t n);
void activation_forward_with_derivative(Activation act, const float* x, float* y, float* dydx, int64_t n);

// dropout.h
void dropout_forward(const float* x, float* y, const DropoutDraw& draw, int64_t n);
void dropout_backward(const float* dy, const DropoutDraw& draw, float* dx, int64_t n);
void dropout_forward_mask(const float* x, float* y, uint8_t* mask, int64_t n, const DropoutDraw& draw);
void dropout_backward_mask(const float* dy, const uint8_t* mask, float* dx, int64_t n, float p);

// layernorm.h, add_layernorm.h, embedding_layernorm.h
void layernorm_forward(const float* x, const float* weight, const float* bias, float* y, float* mean, float* rstd,
                       int64_t rows, int64_t C, float eps);
void layernorm_backward(const float* dy, const float* x, const float* weight, const float* mean, const float* rstd,
                        float* dx, float* dweight, float* dbias, int64_t rows, int64_t C);
void add_layernorm_forward(const float* branch, const float* residual, const DropoutDraw& draw, const float* weight,
                           const float* bias, float* sum, float* y, float* mean, float* rstd, int64_t rows, int64_t C,
                           float eps);
void add_layernorm_backward(const float* dy, const float* sum, const float* weight, const float* mean,
                            const float* rstd, const DropoutDraw& draw, float* dsum, float* dbranch, float* dweight,
                            float* dbias, int64_t rows, int64_t C);
void embedding_layernorm_forward(const EmbeddingLookup* lookups, int count, const float* weight, const float* bias,
                                 const DropoutDraw& draw, float* sum, float* y, float* mean, float* rstd, int64_t rows,
                                 int64_t C, float eps);
void embedding_layernorm_backward(const float* dy, const float* sum, const float* weight, const float* mean,
                                  const float* rstd, const DropoutDraw& draw, float* dsum, float* dweight,
                                  float* dbias, int64_t rows, int64_t C);

// embedding.h (an out-of-range id is reported by a synchronising check, as the cpu path's error)
void embedding_forward(const int32_t* ids, const float* table, float* y, int64_t rows, int64_t V, int64_t C,
                       bool accumulate, const char* table_name);
void embedding_backward(const int32_t* ids, const float* dy, float* dtable, int64_t rows, int64_t V, int64_t C,
                        int64_t padding_idx);

// attention_softmax.h
void attention_softmax_forward(const float* scores, const float* mask_add, float* probs, const AttentionDims& dims,
                               float scale_divisor);
void attention_softmax_backward(const float* probs, const float* dprobs, float* dscores, const AttentionDims& dims,
                                float scale_divisor);
void attention_softmax_dropout_forward(const float* scores, const float* mask_add, float* probs, float* dropped,
                                       const AttentionDims& dims, float scale_divisor, const DropoutDraw& draw);
void attention_softmax_dropout_backward(const float* probs, const float* ddropped, float* dscores,
                                        const AttentionDims& dims, float scale_divisor, const DropoutDraw& draw,
                                        float* dropped);

// loss.h (the loss value is returned: synchronises)
float cross_entropy_loss(const float* logits, const int64_t* targets, float* dlogits, int64_t N, int64_t C);
float bce_with_logits_loss(const float* logits, const float* targets, float* dlogits, int64_t N, int64_t C);
float mse_loss(const float* predictions, const float* targets, float* dpredictions, int64_t N, int64_t C);

// multi_tensor.h: one launch over all tensors; the descriptors are copied to the device with the launch.
void adamw_update(const AdamWTensor* tensors, int count, const AdamWScalars& scalars);
double global_grad_norm(const GradTensor* tensors, int count);  // synchronises: returns the value
void scale_tensors(const GradTensor* tensors, int count, float coef);

}  // namespace accent::cuda
