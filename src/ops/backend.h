// ops/backend.h — which implementation of an op runs, and at what precision.
//
// Every op in ops/ has a naive `ref` implementation (fp32 loops, the oracle, never optimised) and a fast `cpu`
// one (oneDNN matmul, OpenMP + vectorised loops) that is tested against `ref`. The op interface carries an
// OpContext so a later bf16/AMX (or CUDA) path slots in without changing callers. Only fp32 exists today:
// asking for another precision is an error, never a silent fallback.
#pragma once
#include <cstdint>

namespace accent {

enum class Backend : uint8_t { Ref, Cpu };
enum class Precision : uint8_t { F32, BF16 };

struct OpContext {
  Backend backend = Backend::Cpu;
  Precision precision = Precision::F32;
};

const char* backend_name(Backend backend);
const char* precision_name(Precision precision);
// Throws accent::Error naming `op` when the context asks for something not implemented yet (bf16 today).
void check_op_context(const OpContext& ctx, const char* op);

}  // namespace accent
