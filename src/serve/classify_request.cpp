#include "serve/classify_request.h"

#include "core/error.h"
#include "core/json_parse.h"

namespace accent {
namespace {

using json = nlohmann::json;

const char* type_name(const json& v) { return v.type_name(); }  // "string", "array", "object", "number", ...

// One batch item of TEI's /predict: "text", ["text"] or ["text", "text_pair"].
TextInput tei_batch_item(const json& item, size_t index) {
  if (item.is_string()) return {item.get<std::string>(), std::nullopt};
  if (item.is_array() && (item.size() == 1 || item.size() == 2)) {
    for (const auto& s : item)
      if (!s.is_string())
        throw validation_error("`inputs`[" + std::to_string(index) + "] must hold strings, found a " + type_name(s));
    if (item.size() == 1) return {item[0].get<std::string>(), std::nullopt};
    return {item[0].get<std::string>(), item[1].get<std::string>()};
  }
  throw validation_error("`inputs`[" + std::to_string(index) +
                         "] must be a string, [text] or [text, text_pair], found " +
                         (item.is_array() ? "an array of " + std::to_string(item.size()) : std::string("a ") + type_name(item)));
}

bool all_strings(const json& array) {
  for (const auto& v : array)
    if (!v.is_string()) return false;
  return true;
}

bool optional_bool(const json& body, const char* key, bool fallback) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) throw validation_error(std::string("`") + key + "` must be a boolean, found a " + type_name(*it));
  return it->get<bool>();
}

// One input of the Inference API: "text" or {"text": ..., "text_pair": ...}.
TextInput inference_api_item(const json& item, const std::string& where) {
  if (item.is_string()) return {item.get<std::string>(), std::nullopt};
  if (item.is_object()) {
    auto text = item.find("text");
    if (text == item.end() || !text->is_string()) throw validation_error(where + " needs a string \"text\"");
    auto pair = item.find("text_pair");
    if (pair == item.end() || pair->is_null()) return {text->get<std::string>(), std::nullopt};
    if (!pair->is_string()) throw validation_error(where + ": \"text_pair\" must be a string");
    return {text->get<std::string>(), pair->get<std::string>()};
  }
  throw validation_error(where + " must be a string or {\"text\", \"text_pair\"}, found a " + type_name(item));
}

const json& inputs_of(const json& body) {
  if (!body.is_object()) throw validation_error(std::string("the body must be a JSON object, found a ") + type_name(body));
  auto it = body.find("inputs");
  if (it == body.end()) throw validation_error("missing field `inputs`");
  return *it;
}

}  // namespace

json parse_request_json(std::string_view body) {
  try {
    return parse_json(body, "request body");
  } catch (const Error& e) {
    throw validation_error(e.what());
  }
}

ClassifyRequest parse_tei_predict(const json& body) {
  const json& inputs = inputs_of(body);
  ClassifyRequest r;
  if (inputs.is_string()) {
    r.inputs.emplace_back(inputs.get<std::string>(), std::nullopt);
    r.shape = ResponseShape::OneList;
  } else if (inputs.is_array() && inputs.size() == 2 && all_strings(inputs)) {
    // TEI's untagged PredictInput tries Single(Sequence::Pair) before Batch: two strings are a pair.
    r.inputs.emplace_back(inputs[0].get<std::string>(), inputs[1].get<std::string>());
    r.shape = ResponseShape::OneList;
  } else if (inputs.is_array()) {
    r.shape = ResponseShape::ListPerInput;
    for (size_t i = 0; i < inputs.size(); ++i) r.inputs.push_back(tei_batch_item(inputs[i], i));
  } else {
    throw validation_error(std::string("`inputs` must be a string or an array, found a ") + type_name(inputs));
  }
  if (r.inputs.empty()) throw validation_error("`inputs` cannot be empty");
  r.function_to_apply = optional_bool(body, "raw_scores", false) ? FunctionToApply::None : FunctionToApply::Default;
  r.truncate = optional_bool(body, "truncate", false);
  auto dir = body.find("truncation_direction");
  if (dir != body.end() && !dir->is_null()) {
    // TEI accepts "right"/"left" (and the capitalised variant names serde derives).
    const std::string d = dir->is_string() ? dir->get<std::string>() : "";
    if (d == "right" || d == "Right") r.truncation_side = Side::Right;
    else if (d == "left" || d == "Left") r.truncation_side = Side::Left;
    else throw validation_error("`truncation_direction` must be \"right\" or \"left\", found " + dir->dump());
  }
  r.top_k = {TopK::All, 0};
  return r;
}

ClassifyRequest parse_inference_api(const json& body) {
  const json& inputs = inputs_of(body);
  ClassifyRequest r;
  bool one_input = true;
  if (inputs.is_array()) {
    one_input = false;
    for (size_t i = 0; i < inputs.size(); ++i) r.inputs.push_back(inference_api_item(inputs[i], "`inputs`[" + std::to_string(i) + "]"));
  } else {
    r.inputs.push_back(inference_api_item(inputs, "`inputs`"));
  }
  if (r.inputs.empty()) throw validation_error("`inputs` cannot be empty");
  r.top_k = {TopK::Legacy, 1};
  auto params = body.find("parameters");
  if (params != body.end() && !params->is_null()) {
    if (!params->is_object()) throw validation_error("`parameters` must be an object");
    auto k = params->find("top_k");
    if (k != params->end() && !k->is_null()) {
      if (!k->is_number_integer() || k->get<int64_t>() < 1)
        throw validation_error("`parameters.top_k` must be a positive integer, found " + k->dump());
      r.top_k = {TopK::K, k->get<int64_t>()};
    }
    auto f = params->find("function_to_apply");
    if (f != params->end() && !f->is_null()) {
      const std::string name = f->is_string() ? f->get<std::string>() : f->dump();
      if (name == "softmax") r.function_to_apply = FunctionToApply::Softmax;
      else if (name == "sigmoid") r.function_to_apply = FunctionToApply::Sigmoid;
      else if (name == "none") r.function_to_apply = FunctionToApply::None;
      else throw validation_error("`parameters.function_to_apply` must be \"softmax\", \"sigmoid\" or \"none\", found " + f->dump());
    }
    auto t = params->find("truncation");
    if (t != params->end() && !t->is_null()) {
      if (!t->is_boolean()) throw validation_error("`parameters.truncation` must be a boolean");
      r.truncate = t->get<bool>();
    }
  }
  if (r.top_k.kind == TopK::Legacy) r.shape = ResponseShape::OneDictPerInput;
  else r.shape = one_input ? ResponseShape::OneList : ResponseShape::ListPerInput;
  return r;
}

json classify_response(const ClassifyRequest& request, const std::vector<std::vector<LabelScore>>& results) {
  switch (request.shape) {
    case ResponseShape::OneList:
      return label_scores_to_json(results.at(0));
    case ResponseShape::ListPerInput: {
      json out = json::array();
      for (const auto& r : results) out.push_back(label_scores_to_json(r));
      return out;
    }
    case ResponseShape::OneDictPerInput: {
      json out = json::array();
      for (const auto& r : results) out.push_back(label_scores_to_json(r).at(0));
      return out;
    }
  }
  fail("classify_response: unknown shape");
}

}  // namespace accent
