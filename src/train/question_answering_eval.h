// train/question_answering_eval.h — evaluation of an extractive QA model as run_qa.py's QuestionAnsweringTrainer
// does it: the model's start/end logits over every validation feature (window), utils_qa's
// postprocess_qa_predictions (serve/question_answering.h) to one answer per example, then the official SQuAD
// metric (train/squad_metrics.h): v1.1 {exact_match, f1}, or v2.0 {exact, f1, HasAns_*, NoAns_*, best_*} with the
// no-answer probability 0 as run_qa.py passes it.
#pragma once
#include <string>
#include <vector>

#include "data/qa_features.h"
#include "data/squad_data.h"
#include "models/classifier.h"
#include "serve/question_answering.h"
#include "train/trainer.h"

namespace accent {

struct QaEvalData {
  std::vector<SquadExample> examples;
  QaValidationFeatures features;
  QaDataArguments args;   // n_best_size, max_answer_length, version_2_with_negative, threshold
  int32_t pad_id = 0;     // for features of different lengths (pad_to_max_length false)
  bool token_types = true;  // the tokenizer returns token_type_ids
};

// Metrics named "<prefix>_exact_match", "<prefix>_f1" (v2: "<prefix>_exact", ...), runtime and throughput.
// `predictions` (optional) receives the post-processed predictions in example order.
EvalResult evaluate_question_answering(SequenceClassifier& model, const QaEvalData& data, int64_t batch_size,
                                       const std::string& prefix = "eval",
                                       std::vector<QaExamplePrediction>* predictions = nullptr);

}  // namespace accent
