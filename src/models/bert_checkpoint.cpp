#include "models/bert_checkpoint.h"

#include "models/weight_loading.h"

namespace accent {

void load_bert_weights(BertForSequenceClassification& model, const CheckpointTensors& checkpoint,
                       const std::string& dir, const LoadOptions& options, LoadReport& report) {
  WeightLoadSpec spec;
  spec.base_prefix = BertForSequenceClassification::kBasePrefix;
  spec.word_embeddings = spec.base_prefix + ".embeddings.word_embeddings.weight";
  spec.vocab_size = model.dims().V;
  spec.hidden_size = model.dims().H;
  spec.init = [&model](Parameter& p, const Rng& rng) { model.init_parameter(p, rng); };
  load_weights(model.parameters(), checkpoint, dir, spec, options, report);
}

}  // namespace accent
