// ops/packed_weight.h — a matmul weight reordered once into the CPU kernel's own blocked layout (inference).
//
// oneDNN's brgemm matmul reads its B operand in a blocked layout (for bf16 on AVX512-BF16: 16·k × 64·n tiles with
// each pair of k values interleaved, what vdpbf16ps consumes; for s8 the same with groups of four). Handed a plain
// (K, N) or (N, K) matrix, it copies B into that layout inside every call: one more pass over the whole weight per
// product. With many rows (a training batch) the copy is a few percent; with one sentence (M ≈ 25 rows) it costs as
// much as the product itself (measured on AVX512-BF16: 768×768 at M = 25, 119 µs plain against 70 µs packed).
// A PackedWeight is that copy made once. Its layout depends only on (K, N, operand type) — oneDNN's choice for the
// weight with format `any`, asked at pack time — so one packed copy serves every M.
//
// Inference only: a packed weight is multiplied as op(B) = W ᵀ of a Linear (or W of a Conv1D), never in the
// backward's dx = dy·W, which still reads the plain copy. CPU backend only.
//
//   C (M, N) = round_bf16(A) (M, K) · B + bias       gemm_bf16_packed   (the same arithmetic as gemm_bf16_weights)
//   C (M, N) = A_u8 (M, K) · B_s8, int32             cpu::gemm_u8s8_packed   (ops/matmul_int8.h uses it)
#pragma once
#include <cstdint>
#include <memory>

#include "core/tensor.h"
#include "ops/backend.h"

namespace accent {

struct PackedWeightLayout;  // the oneDNN memory descriptor (ops/matmul_cpu.cpp)

class PackedWeight {
 public:
  enum class Type : uint8_t { BF16, S8 };
  PackedWeight() = default;
  PackedWeight(std::shared_ptr<const PackedWeightLayout> layout, Tensor storage, Type type, int64_t K, int64_t N)
      : layout_(std::move(layout)), storage_(std::move(storage)), type_(type), K_(K), N_(N) {}

  bool empty() const { return !layout_; }
  Type type() const { return type_; }
  int64_t K() const { return K_; }  // the reduction
  int64_t N() const { return N_; }  // the output columns
  const PackedWeightLayout& layout() const { return *layout_; }
  const void* data() const { return storage_.data(); }
  int64_t bytes() const { return storage_.numel(); }

 private:
  std::shared_ptr<const PackedWeightLayout> layout_;
  Tensor storage_;  // I8 bytes in the layout, host memory
  Type type_ = Type::BF16;
  int64_t K_ = 0, N_ = 0;
};

// Whether products under ctx can multiply packed bf16 weights: the Cpu backend on a CPU where oneDNN has a native
// bf16 matmul (without one, bf16 runs on the fp32 kernel with widened operands and gains nothing from packing).
bool packed_bf16_weights_available(const OpContext& ctx);

// B (K, N) bf16 bits, stored (K, N), or (N, K) when trans_b (a Linear's (out, in) weight) → packed.
PackedWeight pack_weight_bf16(const uint16_t* B, int64_t K, int64_t N, bool trans_b);
// B (K, N) int8, stored as above → packed for the u8·s8 product.
PackedWeight pack_weight_s8(const int8_t* B, int64_t K, int64_t N, bool trans_b);

// C (M, N) = A (M, K) · B + bias (N, may be null), A rounded to bf16 as gemm_bf16_weights does; B from
// pack_weight_bf16. ctx: Cpu backend, Precision::BF16.
void gemm_bf16_packed(const OpContext& ctx, int64_t M, const float* A, const PackedWeight& B, const float* bias,
                      float* C);

namespace cpu {
void gemm_bf16_packed(int64_t M, const float* A, const PackedWeight& B, const float* bias, float* C);
// C (M, N) = A (M, K) · B in int32, B from pack_weight_s8.
void gemm_u8s8_packed(int64_t M, const uint8_t* A, const PackedWeight& B, int32_t* C);
}  // namespace cpu

}  // namespace accent
