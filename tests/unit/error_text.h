// The message of the accent::Error a call throws — for tests that compare error messages.
#pragma once
#include <functional>
#include <string>

#include "core/error.h"

namespace accent::testing {

// The message of the accent::Error that f throws, or "(no error)".
inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace accent::testing
