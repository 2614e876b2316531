// 10,000 mutated request bodies through everything the server does with a body before the model: JSON parsing,
// the TEI and Inference API schemas, and the response builder. Each body is either a request (with 1+ inputs) or
// a 422 ApiError with a message; nothing else may escape, nothing may crash. Under ASan + UBSan the same parsing
// runs as the libFuzzer target fuzz/serve_request_fuzz.cpp (io_fuzz_test).
#include <gtest/gtest.h>

#include "serve/classify_request.h"
#include "serve_fuzz_bodies.h"

using namespace accent;
using namespace accent::testing;

TEST(ServeRequestFuzz, TenThousandMutatedBodies) {
  const std::vector<std::string> bodies = fuzzed_bodies(10000, 20261205);
  size_t accepted = 0, refused = 0;
  for (size_t i = 0; i < bodies.size(); ++i) {
    for (auto parse : {&parse_tei_predict, &parse_inference_api}) {
      try {
        const ClassifyRequest r = parse(parse_request_json(bodies[i]));
        ASSERT_FALSE(r.inputs.empty()) << "body " << i;
        std::vector<std::vector<LabelScore>> scores(r.inputs.size(), {{"POSITIVE", 0.75}, {"NEGATIVE", 0.25}});
        const nlohmann::json response = classify_response(r, scores);
        ASSERT_TRUE(response.is_array()) << "body " << i;
        // Inputs may hold any valid UTF-8 the JSON parser accepted; the reply dump must not throw on them.
        (void)response.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        ++accepted;
      } catch (const ApiError& e) {
        ASSERT_EQ(e.status(), 422) << "body " << i << ": " << e.what();
        ASSERT_FALSE(std::string(e.what()).empty());
        (void)e.body().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        ++refused;
      }
    }
  }
  // The mutations keep some bodies valid and break most: both paths were exercised.
  EXPECT_GT(accepted, 200u);
  EXPECT_GT(refused, 5000u);
}
