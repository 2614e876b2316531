#include "ops/backend.h"

#include "core/error.h"
#include "ops/cuda/device.h"

#include <atomic>

namespace accent {

namespace {
std::atomic<Precision> g_default_precision{Precision::F32};
std::atomic<Backend> g_default_backend{Backend::Cpu};
}  // namespace

Backend default_backend() { return g_default_backend.load(std::memory_order_relaxed); }
void set_default_backend(Backend backend) { g_default_backend.store(backend, std::memory_order_relaxed); }
OpContext default_op_context() {
  OpContext ctx;
  ctx.backend = default_backend();
  ctx.precision = default_precision();
  return ctx;
}

Backend resolve_device(std::string_view requested, std::string* said) {
  const std::string r(requested);
  const cuda::DeviceStatus& gpu = cuda::probe_device();
  if (r == "cpu") {
    if (said) *said = "device: cpu";
    return Backend::Cpu;
  }
  if (r == "cuda" || r == "gpu" || r == "cuda:0") {
    ACCENT_CHECK(gpu.usable, "--device ", r, ": ", gpu.description);
    if (said) *said = "device: cuda (" + gpu.description + ")";
    return Backend::Cuda;
  }
  ACCENT_CHECK(r == "auto", "--device \"", r, "\": expected auto, cpu or cuda");
  if (said) *said = std::string("device: ") + (gpu.usable ? "cuda (" : "cpu (") + gpu.description + ")";
  return gpu.usable ? Backend::Cuda : Backend::Cpu;
}

Precision default_precision() { return g_default_precision.load(std::memory_order_relaxed); }
void set_default_precision(Precision precision) { g_default_precision.store(precision, std::memory_order_relaxed); }

const char* backend_name(Backend backend) {
  switch (backend) {
    case Backend::Ref: return "ref";
    case Backend::Cpu: return "cpu";
    case Backend::Cuda: return "cuda";
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

void check_cpu_only_op(const OpContext& ctx, const char* op, const char* what) {
  check_op_context(ctx, op);
  ACCENT_CHECK(ctx.backend != Backend::Cuda, op, ": ", what, " has no CUDA kernel yet (it runs on the CPU backend)");
}

bool cuda_backend_built() {
#if ACCENT_WITH_CUDA
  return true;
#else
  return false;
#endif
}

void fail_cuda_not_built(const char* op) {
  fail("op ", op, ": this accent was built without the CUDA backend (CMake found no CUDA toolkit: install it at "
       "/usr/local/cuda, or set CMAKE_CUDA_COMPILER, and rebuild)");
}

}  // namespace accent
