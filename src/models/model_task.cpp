// models/model_task.cpp — see model_task.h.
#include "models/model_task.h"

#include "core/error.h"

namespace accent {

const char* task_class_suffix(ModelTask task) {
  switch (task) {
    case ModelTask::SequenceClassification: return "ForSequenceClassification";
    case ModelTask::TokenClassification: return "ForTokenClassification";
    case ModelTask::QuestionAnswering: return "ForQuestionAnswering";
  }
  return "";
}

const char* task_name(ModelTask task) {
  switch (task) {
    case ModelTask::SequenceClassification: return "text-classification";
    case ModelTask::TokenClassification: return "token-classification";
    case ModelTask::QuestionAnswering: return "question-answering";
  }
  return "";
}

ModelTask task_from_name(const std::string& name) {
  if (name == "text-classification" || name == "sequence-classification") return ModelTask::SequenceClassification;
  if (name == "token-classification" || name == "ner") return ModelTask::TokenClassification;
  if (name == "question-answering") return ModelTask::QuestionAnswering;
  fail("unknown task '", name, "' (expected text-classification, token-classification or question-answering)");
}

ModelTask task_from_architectures(const ModelConfig& config) {
  auto ends_with = [](const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  for (const std::string& a : config.architectures)
    for (ModelTask t : {ModelTask::SequenceClassification, ModelTask::TokenClassification, ModelTask::QuestionAnswering})
      if (ends_with(a, task_class_suffix(t))) return t;
  return ModelTask::SequenceClassification;
}

}  // namespace accent
