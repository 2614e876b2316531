// fuzz/fuzz_util.h — shared helpers of the libFuzzer targets (built by fuzz/CMakeLists.txt, run by fuzz/run.sh).
//
// Contract checked by every target: a reader either returns a value or throws accent::Error. Any other exception
// escapes LLVMFuzzerTestOneInput and libFuzzer reports it as a crash (uncaught exception → abort), just as ASan and
// UBSan report memory errors, leaks and undefined behaviour.
#pragma once
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "core/tensor.h"

namespace accent::fuzz {

// Aborts (a finding) when an invariant of a successfully read input does not hold.
#define FUZZ_ASSERT(cond, what)                                                   \
  do {                                                                            \
    if (!(cond)) {                                                                \
      std::fprintf(stderr, "fuzz invariant violated: %s (%s)\n", what, #cond);   \
      std::abort();                                                               \
    }                                                                             \
  } while (0)

inline std::string_view as_view(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Bitwise equality of two tensors (dtype, shape and bytes).
inline bool same_tensor(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() && a.nbytes() == b.nbytes() &&
         (a.nbytes() == 0 || std::memcmp(a.data(), b.data(), a.nbytes()) == 0);
}

}  // namespace accent::fuzz
