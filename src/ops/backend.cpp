#include "ops/backend.h"

#include "core/error.h"

namespace accent {

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
  ACCENT_CHECK(ctx.precision == Precision::F32, "op ", op, ": precision ", precision_name(ctx.precision),
               " is not implemented yet on backend ", backend_name(ctx.backend), " (only f32)");
}

}  // namespace accent
