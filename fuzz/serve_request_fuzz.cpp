// fuzz/serve_request_fuzz.cpp — an HTTP request body of `accent serve` (POST /predict, POST /) → parse_request_json →
// the TEI or Inference API schema → the response builder. The first byte picks the route; the rest is the body.
// Contract: a body is either a request with at least one input, whose response is a JSON array that dumps, or a
// 422 ApiError (invalid JSON, UTF-8, nesting or schema). Anything else escaping is a finding.
#include "fuzz/fuzz_util.h"
#include "serve/classify_request.h"

using namespace accent;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool inference_api = (data[0] & 1) != 0;
  const std::string_view body = fuzz::as_view(data + 1, size - 1);
  try {
    const ClassifyRequest r = inference_api ? parse_inference_api(parse_request_json(body))
                                            : parse_tei_predict(parse_request_json(body));
    FUZZ_ASSERT(!r.inputs.empty(), "an accepted request has inputs");
    std::vector<std::vector<LabelScore>> scores(r.inputs.size(), {{"B", 0.5}, {"A", 0.5}});
    const nlohmann::json response = classify_response(r, scores);
    FUZZ_ASSERT(response.is_array(), "the response is an array");
    (void)response.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } catch (const ApiError& e) {
    FUZZ_ASSERT(e.status() == 422, "a refused body is a 422");
    (void)e.body().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  return 0;
}
