// models/model_task.h — which head a transformers model class puts on its base model, and the class-name suffix
// that says so ("BertForTokenClassification" = the "bert" base + the TokenClassification head):
//   SequenceClassification   one row of C logits per sequence (B, C)          *ForSequenceClassification
//   TokenClassification      C logits for every token (B, T, C)               *ForTokenClassification
//   QuestionAnswering        start and end logits for every token (B, T, 2)   *ForQuestionAnswering
#pragma once
#include <string>

#include "io/config.h"

namespace accent {

enum class ModelTask { SequenceClassification, TokenClassification, QuestionAnswering };

// "ForSequenceClassification", "ForTokenClassification", "ForQuestionAnswering".
const char* task_class_suffix(ModelTask task);
// The pipeline/run-script spelling: "text-classification", "token-classification", "question-answering".
const char* task_name(ModelTask task);
// Parses task_name() spellings (also "sequence-classification", "ner"); throws naming the value otherwise.
ModelTask task_from_name(const std::string& name);
// The task of the first architecture with a known suffix; SequenceClassification when none has one (a base
// model such as BertForPreTraining or BertModel gets a new sequence-classification head by default).
ModelTask task_from_architectures(const ModelConfig& config);

}  // namespace accent
