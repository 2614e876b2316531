// train/question_answering_eval.cpp — see question_answering_eval.h.
#include "train/question_answering_eval.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "core/error.h"
#include "train/squad_metrics.h"

namespace accent {

namespace {

double round_to(double x, int digits) {
  const double f = std::pow(10.0, digits);
  return std::round(x * f) / f;
}

}  // namespace

EvalResult evaluate_question_answering(SequenceClassifier& model, const QaEvalData& data, int64_t batch_size,
                                       const std::string& prefix, std::vector<QaExamplePrediction>* predictions) {
  ACCENT_CHECK(model.task() == ModelTask::QuestionAnswering, "evaluate_question_answering needs a question-answering model");
  ACCENT_CHECK(batch_size > 0, "evaluation batch size must be positive");
  const auto t0 = std::chrono::steady_clock::now();
  const std::vector<QaValidationFeature>& features = data.features.features;
  std::vector<QaLogits> logits(features.size());
  int64_t batches = 0;
  for (size_t first = 0; first < features.size(); first += static_cast<size_t>(batch_size), ++batches) {
    const size_t last = std::min(features.size(), first + static_cast<size_t>(batch_size));
    Batch b;
    b.B = static_cast<int64_t>(last - first);
    for (size_t f = first; f < last; ++f) b.T = std::max<int64_t>(b.T, static_cast<int64_t>(features[f].input_ids.size()));
    b.input_ids.assign(static_cast<size_t>(b.B * b.T), data.pad_id);  // (B, T)
    b.attention_mask.assign(static_cast<size_t>(b.B * b.T), 0);
    if (data.token_types) b.token_type_ids.assign(static_cast<size_t>(b.B * b.T), 0);
    for (size_t f = first; f < last; ++f) {
      const QaValidationFeature& x = features[f];
      const int64_t row = static_cast<int64_t>(f - first) * b.T;
      std::copy(x.input_ids.begin(), x.input_ids.end(), b.input_ids.begin() + row);
      std::copy(x.attention_mask.begin(), x.attention_mask.end(), b.attention_mask.begin() + row);
      if (data.token_types) std::copy(x.token_type_ids.begin(), x.token_type_ids.end(), b.token_type_ids.begin() + row);
    }
    const ForwardResult out = model.forward(b);
    const float* z = out.logits.f32();  // (B, T, 2)
    for (size_t f = first; f < last; ++f) {
      const int64_t r = static_cast<int64_t>(f - first);
      QaLogits& l = logits[f];
      l.start.resize(static_cast<size_t>(b.T));
      l.end.resize(static_cast<size_t>(b.T));
      for (int64_t t = 0; t < b.T; ++t) {
        l.start[t] = z[(r * b.T + t) * 2];
        l.end[t] = z[(r * b.T + t) * 2 + 1];
      }
    }
  }
  std::vector<QaExamplePrediction> predicted = postprocess_qa_predictions(data.examples, features, logits, data.args);
  std::vector<SquadPrediction> preds;
  std::vector<SquadReference> refs;
  for (size_t i = 0; i < data.examples.size(); ++i) {
    preds.push_back({predicted[i].id, predicted[i].prediction_text, 0.0});
    refs.push_back({data.examples[i].id, data.examples[i].answer_texts});
  }
  EvalResult r;
  r.num_examples = static_cast<int64_t>(data.examples.size());
  r.metrics = nlohmann::json::object();
  const nlohmann::json scores = data.args.version_2_with_negative ? squad_v2_scores(preds, refs).to_json()
                                                                  : squad_v1_scores(preds, refs).to_json();
  for (auto it = scores.begin(); it != scores.end(); ++it) r.metrics[prefix + "_" + it.key()] = it.value();
  const double runtime = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.metrics[prefix + "_runtime"] = round_to(runtime, 4);
  r.metrics[prefix + "_samples_per_second"] = runtime > 0 ? round_to(r.num_examples / runtime, 3) : 0.0;
  r.metrics[prefix + "_steps_per_second"] = runtime > 0 ? round_to(batches / runtime, 3) : 0.0;
  r.report = scores;
  if (predictions) *predictions = std::move(predicted);
  return r;
}

}  // namespace accent
