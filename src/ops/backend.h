// ops/backend.h — which implementation of an op runs, and at what precision.
//
// Every op in ops/ has a naive `ref` implementation (fp32 loops, the oracle, never optimised) and a fast `cpu`
// one (oneDNN matmul, OpenMP + vectorised loops) that is tested against `ref`. The op interface carries an
// OpContext so the precision (and a later CUDA path) slots in without changing callers. Precision::BF16 is mixed
// precision (ops/precision.h): matmuls take bf16 operands with fp32 accumulation; every other op computes in fp32.
#pragma once
#include <cstdint>

namespace accent {

enum class Backend : uint8_t { Ref, Cpu };
enum class Precision : uint8_t { F32, BF16 };

// The precision a default-constructed OpContext (hence a newly created model) gets: F32 unless the program
// chose otherwise (the CLI's --precision sets it once at start-up, before any model exists).
Precision default_precision();
void set_default_precision(Precision precision);

struct OpContext {
  Backend backend = Backend::Cpu;
  Precision precision = default_precision();
};

const char* backend_name(Backend backend);
const char* precision_name(Precision precision);
// Throws accent::Error naming `op` when the context asks for a backend/precision the op does not know.
void check_op_context(const OpContext& ctx, const char* op);

}  // namespace accent
