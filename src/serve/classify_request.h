// serve/classify_request.h — the two request bodies `accent serve` classifies, parsed into one typed request, and
// the response each expects.
//
// TEI's POST /predict (spec/serving.md):
//   {"inputs": "text" | ["a", "b"] | [["a"], ["a", "b"], "c", ...], "raw_scores": false, "truncate": false,
//    "truncation_direction": "right" | "left"}
//   "text" and a two-string array (a pair) are one input and get one list of {"score", "label"}; any other array is
//   a batch (items: a string, [text] or [text, text_pair]) and gets a list per item. Every label, sorted by score
//   descending (what `accent predict --top-k all` prints). raw_scores returns the logits.
// The Hugging Face Inference API's POST / (spec/pipeline.md §3):
//   {"inputs": "text" | {"text", "text_pair"} | [those...], "parameters": {"top_k": k, "function_to_apply": f}}
//   returns what pipeline("text-classification")(inputs, **parameters) returns: without top_k one dict per input
//   (a single input wrapped in a list), with top_k a list per input (a single input: one list).
// Any other shape, type or value is a 422 ApiError naming the field.
#pragma once
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "serve/api_error.h"
#include "serve/scores.h"
#include "serve/text_classification.h"

namespace accent {

enum class ResponseShape {
  OneList,          // one input: [{...}, ...]
  ListPerInput,     // a batch: [[{...}, ...], ...]
  OneDictPerInput,  // pipeline's legacy (no top_k): [{...}, {...}] — the best label of each input
};

struct ClassifyRequest {
  std::vector<TextInput> inputs;
  ResponseShape shape = ResponseShape::OneList;
  FunctionToApply function_to_apply = FunctionToApply::Default;  // Default = HF's rule from the config
  TopK top_k{TopK::All, 0};
  bool truncate = false;
  Side truncation_side = Side::Right;
};

// The body as JSON: 422 when it is not valid JSON (invalid UTF-8 included) or nests too deep.
nlohmann::json parse_request_json(std::string_view body);
// TEI /predict and Inference API bodies; 422 ApiError for a wrong shape or value.
ClassifyRequest parse_tei_predict(const nlohmann::json& body);
ClassifyRequest parse_inference_api(const nlohmann::json& body);
// The response body for `request` given each input's scored labels (already selected per request.top_k).
nlohmann::json classify_response(const ClassifyRequest& request, const std::vector<std::vector<LabelScore>>& results);

}  // namespace accent
