// ops/backend.h — which implementation of an op runs, and at what precision.
//
// Every op in ops/ has a naive `ref` implementation (fp32 loops, the oracle, never optimised) and a fast `cpu`
// one (oneDNN matmul, OpenMP + vectorised loops) that is tested against `ref`. The op interface carries an
// OpContext so the precision and the device slot in without changing callers. `cuda` (ops/cuda/, built when the
// CUDA toolkit is found) runs the same contracts on an NVIDIA GPU: every pointer an op gets is then DEVICE memory
// (ops/cuda/device.h allocates and copies it), and the op is queued on accent's CUDA stream. Precision::BF16 is mixed
// precision (ops/precision.h): matmuls take bf16 operands with fp32 accumulation; every other op computes in fp32.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace accent {

enum class Backend : uint8_t { Ref, Cpu, Cuda };
enum class Precision : uint8_t { F32, BF16 };

// The precision a default-constructed OpContext (hence a newly created model) gets: F32 unless the program
// chose otherwise (the CLI's --precision sets it once at start-up, before any model exists).
Precision default_precision();
void set_default_precision(Precision precision);

struct OpContext {
  Backend backend = Backend::Cpu;
  Precision precision = default_precision();
  bool allow_tf32 = false;  // cuda, fp32 matmuls: TF32 tensor cores (10-bit mantissa products) only when asked for
};

// The backend the program's models run on (like torch's device): the CLI's --device sets it once at start-up.
// OpContext{} itself stays Cpu, so library code and tests choose explicitly.
Backend default_backend();
void set_default_backend(Backend backend);
// {default_backend(), default_precision()} — what the trainer and pipelines move a freshly loaded model to.
OpContext default_op_context();

// "auto" | "cpu" | "cuda" (also "gpu", "cuda:0") → Backend. auto = Cuda when a usable GPU is present, else Cpu;
// "cuda" without one throws naming what is missing (no CUDA backend in this build, no driver, no device).
// `said` (when not null) gets one line for people: "device: cuda (NVIDIA H200, sm_90, 139.8 GiB)" or
// "device: cpu (no usable CUDA GPU: no NVIDIA driver …)" (the probe's reason).
Backend resolve_device(std::string_view requested, std::string* said = nullptr);

const char* backend_name(Backend backend);
const char* precision_name(Precision precision);
// Throws accent::Error naming `op` when the context asks for a backend/precision the op does not know.
void check_op_context(const OpContext& ctx, const char* op);
// check_op_context for an op with CPU and ref code only: on the CUDA backend an error names `op` and says
// "<what> has no CUDA kernel yet".
void check_cpu_only_op(const OpContext& ctx, const char* op, const char* what);

// Whether this binary contains the CUDA backend (compiled with the CUDA toolkit). Whether a GPU is usable right
// now is ops/cuda/device.h's probe_device().
bool cuda_backend_built();
// Throws naming `op`: this binary was built without the CUDA backend.
[[noreturn]] void fail_cuda_not_built(const char* op);

}  // namespace accent
