// serve/task_pipelines.cpp — see task_pipelines.h.
#include "serve/task_pipelines.h"

#include <cmath>

#include "core/error.h"

namespace accent {

namespace {

// The model's logits for one encoding (batch of one, no padding): (T, C) row-major.
std::vector<float> logits_of(TextClassificationPipeline& loaded, const Encoding& e) {
  Batch b;
  b.B = 1;
  b.T = static_cast<int64_t>(e.ids.size());
  b.input_ids = e.ids;
  b.attention_mask.assign(e.ids.size(), 1);
  if (loaded.tokenizer().returns_token_type_ids()) b.token_type_ids = e.type_ids;
  const ForwardResult out = loaded.model().forward(b);
  std::vector<float> z(out.logits.f32(), out.logits.f32() + out.logits.numel());
  for (float v : z) ACCENT_CHECK(std::isfinite(v), "the model's logits are not finite (", v, ")");
  return z;
}

}  // namespace

nlohmann::ordered_json predict_entities(TextClassificationPipeline& loaded, const std::string& text,
                                        const TokenClassificationOptions& options, int64_t number) {
  ACCENT_CHECK(loaded.model().task() == ModelTask::TokenClassification, "the model is not a token classifier");
  EncodeOptions eo;
  eo.return_offsets_mapping = true;
  const Encoding e = loaded.tokenizer().encode(text, std::nullopt, eo);
  ACCENT_CHECK(static_cast<int64_t>(e.size()) <= loaded.max_input_tokens(), "input ", number, " has ", e.size(),
               " tokens; the model takes at most ", loaded.max_input_tokens(), " (split the text)");
  std::vector<std::string> id2label;
  for (const auto& [id, name] : loaded.config().id2label) id2label.push_back(name);
  const std::vector<NerEntity> entities =
      token_classification_postprocess(loaded.tokenizer(), e, text, logits_of(loaded, e), id2label, options);
  return ner_entities_to_json(entities, options.aggregation_strategy);
}

nlohmann::json predict_answers(TextClassificationPipeline& loaded, const std::string& question,
                               const std::string& context, const QaPipelineOptions& options) {
  ACCENT_CHECK(loaded.model().task() == ModelTask::QuestionAnswering, "the model is not a question-answering model");
  QaPipelineOptions o = options;
  if (!o.max_seq_len) o.max_seq_len = std::min<int64_t>(loaded.max_input_tokens(), 384);
  const QaPipelineWindows windows = qa_pipeline_preprocess(loaded.tokenizer(), question, context, o);
  std::vector<QaLogits> logits;
  for (const Encoding& w : windows.windows) {
    const std::vector<float> z = logits_of(loaded, w);  // (T, 2)
    QaLogits l;
    for (size_t t = 0; t < w.size(); ++t) l.start.push_back(z[2 * t]), l.end.push_back(z[2 * t + 1]);
    logits.push_back(std::move(l));
  }
  return qa_answers_to_json(qa_pipeline_postprocess(context, windows, logits, o));
}

}  // namespace accent
