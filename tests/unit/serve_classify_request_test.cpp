// serve/classify_request: TEI /predict and Inference API bodies → typed requests (every accepted shape, every
// refused one with a 422 naming the field) and the response nesting each expects.
#include <gtest/gtest.h>

#include "serve/classify_request.h"

using namespace accent;
using json = nlohmann::json;

namespace {

int status_of(const std::string& body, ClassifyRequest (*parse)(const json&) = &parse_tei_predict) {
  try {
    parse(parse_request_json(body));
  } catch (const ApiError& e) {
    EXPECT_FALSE(std::string(e.what()).empty());
    return e.status();
  }
  return 200;
}

}  // namespace

TEST(ClassifyRequest, TeiInputShapes) {
  auto r = parse_tei_predict(parse_request_json(R"({"inputs": "great film"})"));
  ASSERT_EQ(r.inputs.size(), 1u);
  EXPECT_EQ(r.inputs[0].first, "great film");
  EXPECT_FALSE(r.inputs[0].second);
  EXPECT_EQ(r.shape, ResponseShape::OneList);
  EXPECT_EQ(r.top_k.kind, TopK::All);
  EXPECT_EQ(r.function_to_apply, FunctionToApply::Default);

  r = parse_tei_predict(parse_request_json(R"({"inputs": ["a premise", "a hypothesis"], "raw_scores": true})"));
  ASSERT_EQ(r.inputs.size(), 1u);
  EXPECT_EQ(*r.inputs[0].second, "a hypothesis");
  EXPECT_EQ(r.shape, ResponseShape::OneList);
  EXPECT_EQ(r.function_to_apply, FunctionToApply::None);

  r = parse_tei_predict(parse_request_json(
      R"({"inputs": [["one"], ["two", "pair"], "three"], "truncate": true, "truncation_direction": "left"})"));
  ASSERT_EQ(r.inputs.size(), 3u);
  EXPECT_EQ(r.shape, ResponseShape::ListPerInput);
  EXPECT_FALSE(r.inputs[0].second);
  EXPECT_EQ(*r.inputs[1].second, "pair");
  EXPECT_EQ(r.inputs[2].first, "three");
  EXPECT_TRUE(r.truncate);
  EXPECT_EQ(r.truncation_side, Side::Left);

  // Three strings: a batch of three single inputs (TEI's untagged enum falls through to Batch).
  r = parse_tei_predict(parse_request_json(R"({"inputs": ["a", "b", "c"]})"));
  EXPECT_EQ(r.inputs.size(), 3u);
  EXPECT_EQ(r.shape, ResponseShape::ListPerInput);
}

TEST(ClassifyRequest, TeiRefusals) {
  EXPECT_EQ(status_of("not json"), 422);
  EXPECT_EQ(status_of(""), 422);
  EXPECT_EQ(status_of("{\"inputs\": \"\xff\xfe\"}"), 422);  // invalid UTF-8
  EXPECT_EQ(status_of(std::string(1000, '[') + std::string(1000, ']')), 422);  // too deep
  EXPECT_EQ(status_of(R"([])"), 422);
  EXPECT_EQ(status_of(R"({})"), 422);
  EXPECT_EQ(status_of(R"({"inputs": []})"), 422);
  EXPECT_EQ(status_of(R"({"inputs": 5})"), 422);
  EXPECT_EQ(status_of(R"({"inputs": [["a", "b", "c"]]})"), 422);
  EXPECT_EQ(status_of(R"({"inputs": [[1]]})"), 422);
  EXPECT_EQ(status_of(R"({"inputs": "x", "raw_scores": "yes"})"), 422);
  EXPECT_EQ(status_of(R"({"inputs": "x", "truncation_direction": "middle"})"), 422);
  EXPECT_EQ(status_of(R"({"inputs": "x", "truncate": null})"), 200);
}

TEST(ClassifyRequest, InferenceApiShapes) {
  auto r = parse_inference_api(parse_request_json(R"({"inputs": "great"})"));
  EXPECT_EQ(r.shape, ResponseShape::OneDictPerInput);
  EXPECT_EQ(r.top_k.kind, TopK::Legacy);
  r = parse_inference_api(parse_request_json(R"({"inputs": "great", "parameters": {"top_k": 2, "function_to_apply": "sigmoid"}})"));
  EXPECT_EQ(r.shape, ResponseShape::OneList);
  EXPECT_EQ(r.top_k.kind, TopK::K);
  EXPECT_EQ(r.top_k.k, 2);
  EXPECT_EQ(r.function_to_apply, FunctionToApply::Sigmoid);
  r = parse_inference_api(parse_request_json(R"({"inputs": ["a", {"text": "b", "text_pair": "c"}], "parameters": {"top_k": 1}})"));
  EXPECT_EQ(r.shape, ResponseShape::ListPerInput);
  ASSERT_EQ(r.inputs.size(), 2u);
  EXPECT_EQ(*r.inputs[1].second, "c");
  EXPECT_EQ(status_of(R"({"inputs": "a", "parameters": {"top_k": 0}})", &parse_inference_api), 422);
  EXPECT_EQ(status_of(R"({"inputs": "a", "parameters": {"function_to_apply": "relu"}})", &parse_inference_api), 422);
  EXPECT_EQ(status_of(R"({"inputs": {"text_pair": "b"}})", &parse_inference_api), 422);
}

TEST(ClassifyRequest, ResponseNesting) {
  const std::vector<std::vector<LabelScore>> results{{{"POSITIVE", 0.9}, {"NEGATIVE", 0.1}},
                                                     {{"NEGATIVE", 0.7}, {"POSITIVE", 0.3}}};
  ClassifyRequest r;
  r.shape = ResponseShape::ListPerInput;
  json j = classify_response(r, results);
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[1][0]["label"], "NEGATIVE");
  EXPECT_DOUBLE_EQ(j[1][0]["score"].get<double>(), 0.7);
  r.shape = ResponseShape::OneDictPerInput;
  j = classify_response(r, results);
  EXPECT_EQ(j[0]["label"], "POSITIVE");
  EXPECT_EQ(j[1]["label"], "NEGATIVE");
  r.shape = ResponseShape::OneList;
  j = classify_response(r, {results[0]});
  EXPECT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["label"], "POSITIVE");
}
