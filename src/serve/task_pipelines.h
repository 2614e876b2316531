// serve/task_pipelines.h — pipeline("ner") and pipeline("question-answering") on a loaded model: one text (or one
// question and context) in, what the transformers pipeline returns out, as JSON.
//   entities: encode with offsets → logits (T, C) → serve/token_classification.h's postprocess
//   answers:  windows (serve/question_answering.h's preprocess) → start/end logits per window → its postprocess
// The model and tokenizer come from TextClassificationPipeline::from_pretrained, which loads any head (the class
// in config.json's architectures).
#pragma once
#include <string>

#include <nlohmann/json.hpp>

#include "serve/question_answering.h"
#include "serve/text_classification.h"
#include "serve/token_classification.h"

namespace accent {

// pipeline("ner", aggregation_strategy=...)(text): the list of entity dicts. A text longer than the model's
// positions is an error naming input `number`.
nlohmann::ordered_json predict_entities(TextClassificationPipeline& loaded, const std::string& text,
                                        const TokenClassificationOptions& options, int64_t number = 1);

// pipeline("question-answering")(question=..., context=..., top_k=...): one answer dict, or a list when top_k > 1.
nlohmann::json predict_answers(TextClassificationPipeline& loaded, const std::string& question,
                               const std::string& context, const QaPipelineOptions& options);

}  // namespace accent
