#include "export/onnx_export.h"

#include <filesystem>
#include <fstream>

#include <onnx/checker.h>
#include <onnx/defs/schema.h>

#include "core/error.h"
#include "core/fs.h"
#include "export/onnx_encoder_graph.h"
#include "export/onnx_gpt2_graph.h"
#include "io/hub.h"
#include "models/peft_adapter.h"
#include "models/registry.h"
#include "text/tokenizer.h"

namespace accent {

namespace fs = std::filesystem;

namespace {

constexpr int64_t kMinOpset = 17;  // LayerNormalization
constexpr uint64_t kExternalAlignment = 4096;
const char* const kExternalDataName = "model.onnx_data";  // optimum's name

int64_t newest_known_opset() {
  const auto& ranges = onnx::OpSchemaRegistry::DomainToVersionRange::Instance().Map();
  const auto it = ranges.find(onnx::ONNX_DOMAIN);
  return it == ranges.end() ? kMinOpset : it->second.second;
}

std::string architecture_of(const ModelConfig& config, const std::string& family) {
  if (!config.architectures.empty()) return config.architectures.front();
  return family + "ForSequenceClassification";
}

// Moves every initializer's raw bytes into `data_path` (aligned offsets) and points the tensors at it.
void move_weights_to_external_data(onnx::ModelProto& model, const std::string& data_path) {
  const std::string tmp = data_path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    ACCENT_CHECK(out.good(), tmp, ": cannot open for writing");
    uint64_t offset = 0;
    static const std::string zeros(kExternalAlignment, '\0');
    for (onnx::TensorProto& t : *model.mutable_graph()->mutable_initializer()) {
      if (!t.has_raw_data()) continue;  // small constants (float_data / int64_data) stay inline
      const uint64_t aligned = (offset + kExternalAlignment - 1) / kExternalAlignment * kExternalAlignment;
      out.write(zeros.data(), static_cast<std::streamsize>(aligned - offset));
      const std::string& bytes = t.raw_data();
      out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
      t.set_data_location(onnx::TensorProto::EXTERNAL);
      auto add = [&](const char* key, const std::string& value) {
        auto* e = t.add_external_data();
        e->set_key(key);
        e->set_value(value);
      };
      add("location", kExternalDataName);
      add("offset", std::to_string(aligned));
      add("length", std::to_string(bytes.size()));
      offset = aligned + bytes.size();
      t.clear_raw_data();
    }
    out.flush();
    ACCENT_CHECK(out.good(), tmp, ": write failed (disk full?)");
  }
  fs::rename(tmp, data_path);
}

}  // namespace

onnx::ModelProto onnx_model_for(SequenceClassifier& model, int64_t opset, std::vector<std::string>* inputs,
                                bool fp16_weights) {
  const int64_t newest = newest_known_opset();
  ACCENT_CHECK(opset >= kMinOpset && opset <= newest, "--opset ", opset, ": accent writes opsets ", kMinOpset, " to ",
               newest, " (the graph uses LayerNormalization, new in opset 17; this ONNX library knows up to ", newest,
               ")");
  const ModelConfig* config = model.config();
  ACCENT_CHECK(config != nullptr, "export: the model has no config");
  const std::string family = sequence_classifier_family(*config, "config.json");

  onnx::ModelProto m;
  m.set_ir_version(onnx::IR_VERSION);
  m.set_producer_name("accent");
  auto* op = m.add_opset_import();
  op->set_domain("");
  op->set_version(opset);
  onnx::GraphProto* graph = m.mutable_graph();
  graph->set_name(architecture_of(*config, family));

  OnnxGraph g(graph, fp16_weights);
  NamedWeights weights(model.parameters());
  std::vector<std::string> names;
  ACCENT_CHECK(family == "gpt2" || family == "bert" || family == "roberta" || family == "xlm-roberta" ||
                   family == "electra" || family == "distilbert",
               "export: ONNX graphs are written for bert, roberta, xlm-roberta, electra, distilbert and gpt2, not yet for \"",
               family, "\"");
  if (family == "gpt2") names = build_gpt2_graph(g, weights, *config);
  else names = build_encoder_graph(g, weights, *config, family);
  const std::vector<std::string> unused = weights.unused();
  if (!unused.empty())
    fail("export: ", unused.size(), " parameter(s) of the ", family, " model are not in the graph (first: ", unused[0],
         "); the exported graph would not compute what accent predicts");
  if (inputs) *inputs = names;
  return m;
}

OnnxExportResult export_onnx(const std::string& model_dir, const std::string& output_dir,
                             const OnnxExportOptions& options) {
  HubOptions hub = HubOptions::from_env();
  if (options.offline) hub.offline = true;
  const bool local = fs::is_directory(model_dir);
  ACCENT_CHECK(local || !output_dir.empty(), model_dir,
               ": not a local directory; give --output-dir for a model from the hub");
  const std::string dir = resolve_pretrained(model_dir, default_pretrained_files(), hub);
  const std::string out_dir = output_dir.empty() ? dir : output_dir;

  std::unique_ptr<SequenceClassifier> model;
  std::string tokenizer_dir = dir;
  if (is_adapter_dir(dir)) {
    const std::string base = resolve_adapter_base(dir, options.base_model, options.offline);
    const bool own_tokenizer = fs::exists(fs::path(dir) / "tokenizer.json") || fs::exists(fs::path(dir) / "vocab.txt");
    if (!own_tokenizer) tokenizer_dir = base;
    model = load_lora_model(dir, base)->merge_and_unload();  // W + scale·B·A, as `accent merge`
  } else {
    LoadOptions load;
    load.require_all_weights = true;  // as predict: random weights are never what gets deployed
    model = load_sequence_classifier(dir, load);
  }

  ACCENT_CHECK(model->task() == ModelTask::SequenceClassification, dir, ": ONNX export covers sequence classifiers; this "
               "is a ", task_name(model->task()), " model");
  ACCENT_CHECK(options.dtype == "fp32" || options.dtype == "fp16", "--dtype ", options.dtype,
               ": expected fp32 or fp16 (int8 needs the quantized CPU path, which accent does not have yet)");
  OnnxExportResult result;
  onnx::ModelProto proto = onnx_model_for(*model, options.opset, &result.inputs, options.dtype == "fp16");
  result.family = sequence_classifier_family(*model->config(), "config.json");
  result.num_labels = model->num_labels();
  result.nodes = proto.graph().node_size();
  for (const auto& t : proto.graph().initializer()) result.weight_bytes += t.raw_data().size();

  const fs::path onnx_dir = fs::path(out_dir) / "onnx";
  std::error_code ec;
  fs::create_directories(onnx_dir, ec);
  ACCENT_CHECK(!ec, onnx_dir.string(), ": cannot create the output directory (", ec.message(), ")");
  result.model_path = (onnx_dir / "model.onnx").string();
  const std::string data_path = (onnx_dir / kExternalDataName).string();
  if (options.external_data || result.weight_bytes > kInlineWeightLimit) {
    move_weights_to_external_data(proto, data_path);
    result.external_data_path = data_path;
  } else if (fs::exists(data_path)) {
    fs::remove(data_path);  // a stale data file of an earlier export would sit beside an inline model
  }
  std::string bytes;
  ACCENT_CHECK(proto.SerializeToString(&bytes), result.model_path, ": the ONNX model could not be serialised");
  write_file_atomic(result.model_path, bytes);

  // ONNX's checker on the file as written (with its external data): node schemas for the opset, types, names.
  try {
    onnx::checker::check_model(result.model_path);
  } catch (const std::exception& e) {
    std::error_code ignored;  // no invalid model left behind for a deployment to pick up
    fs::remove(result.model_path, ignored);
    if (!result.external_data_path.empty()) fs::remove(result.external_data_path, ignored);
    fail(result.model_path, ": ONNX's checker rejects the exported model: ", e.what());
  }

  if (fs::weakly_canonical(out_dir) != fs::weakly_canonical(dir)) {
    // A directory of its own: config.json (labels, pad_token_id) and the tokenizer beside onnx/.
    save_config((fs::path(out_dir) / "config.json").string(), *model->config());
    Tokenizer::from_pretrained(tokenizer_dir).save_pretrained(out_dir);
  }
  return result;
}

}  // namespace accent
