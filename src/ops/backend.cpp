#include "ops/backend.h"

#include "core/error.h"

#include <atomic>

namespace accent {

namespace {
std::atomic<Precision> g_default_precision{Precision::F32};
}  // namespace

Precision default_precision() { return g_default_precision.load(std::memory_order_relaxed); }
void set_default_precision(Precision precision) { g_default_precision.store(precision, std::memory_order_relaxed); }

const char* backend_name(Backend backend) {
  switch (backend) {
    case Backend::Ref: return "ref";
    case Backend::Cpu: return "cpu";
  }
  return "?";
}

const char* precision_name(Precision precision) {
  switch (precision) {
    case Precision::F32: return "f32";
    case Precision::BF16: return "bf16";
  }
  return "?";
}

void check_op_context(const OpContext& ctx, const char* op) {
  // Every op accepts both precisions: under BF16 only matmuls change (bf16 operands, fp32 accumulation); the
  // others keep computing and accumulating in fp32, as torch.autocast does for LayerNorm, softmax and losses.
  ACCENT_CHECK(ctx.precision == Precision::F32 || ctx.precision == Precision::BF16, "op ", op, ": unknown precision ",
               static_cast<int>(ctx.precision), " on backend ", backend_name(ctx.backend));
}

}  // namespace accent
