// serve/api_error.h — an HTTP API error as text-embeddings-inference (TEI) answers it: a status code and the body
// {"error": message, "error_type": kind}.
//
// TEI's kinds and codes (spec/serving.md): "Validation" 413 (too many inputs in one request) or 422 (bad body),
// "Tokenizer" 422, "Backend" 424 (inference failed), "Overloaded" 429, "Unhealthy" 503. Capitalised:
// TEI's ErrorType enum is serialised by serde without a rename (its OpenAPI examples show lower case).
#pragma once
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

namespace accent {

class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string error_type, const std::string& message)
      : std::runtime_error(message), status_(status), error_type_(std::move(error_type)) {}
  int status() const { return status_; }
  const std::string& error_type() const { return error_type_; }
  nlohmann::json body() const { return {{"error", what()}, {"error_type", error_type_}}; }

 private:
  int status_;
  std::string error_type_;
};

// The common ones.
inline ApiError validation_error(const std::string& message) { return ApiError(422, "Validation", message); }

}  // namespace accent
