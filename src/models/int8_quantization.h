// models/int8_quantization.h — dynamic int8 inference for a whole model: `accent quantize` and `--precision int8`.
//
// What is quantized: every Linear / Conv1D of the transformer body (attention projections, the FFN; ELECTRA's
// embedding projection) — nearly all of the arithmetic. Embeddings, LayerNorms, attention scores and the task
// head (pooler, classifier, score) stay in their precision: the head is ~0.1% of the work and makes the logits.
// The weights are int8 per output channel and activations int8 per token row at run time (nn/int8_weight.h,
// ops/matmul_int8.h), as torch.ao.quantization.quantize_dynamic does for nn.Linear (it uses one scale per tensor).
//
// Saved layout (a Hugging Face directory that accent reloads; transformers refuses its unknown quant_method):
//   model.safetensors   "<module>.weight"        I8  the weight's own shape ((out, in); GPT-2 Conv1D (in, out))
//                       "<module>.weight_scale"  F32 (out): weight ≈ I8 value × scale of its output channel
//                       every other tensor as save_pretrained writes it (F32)
//   config.json         "quantization_config": {"quant_method": "accent_int8_dynamic", "bits": 8,
//                        "weights": "symmetric per output channel", "activations": "symmetric per token, dynamic",
//                        "modules": ["<module>", ...]}
#pragma once
#include <string>
#include <vector>

#include "io/config.h"
#include "models/checkpoint_tensors.h"
#include "models/classifier.h"

namespace accent {

inline constexpr const char* kInt8QuantMethod = "accent_int8_dynamic";

// Quantizes every body Linear/Conv1D of `model` in place (already int8 ones stay). Returns the module names.
std::vector<std::string> quantize_dynamic_int8(SequenceClassifier& model);
// The names of the model's int8 modules (empty for a model that runs in full precision).
std::vector<std::string> int8_module_names(SequenceClassifier& model);

// The int8 modules `config` names in its quantization_config; empty without one. Throws naming `origin` for a
// quantization_config accent cannot run (another quant_method, a malformed module list).
std::vector<std::string> int8_modules_of(const ModelConfig& config, const std::string& origin);
// `config` with the quantization_config that describes `modules` (removed when `modules` is empty).
void set_int8_modules(ModelConfig& config, const std::vector<std::string>& modules);

// The checkpoint tensor names an int8 layer adds beside "<module>.weight".
std::string int8_scale_name(const std::string& module);
// Sets the int8 weights of `modules` from `checkpoint` ("<module>.weight" I8 + "<module>.weight_scale") and the
// fp32 weights to what they stand for (I8 × scale). Throws naming `dir` and the tensor for a module the model
// does not have, a tensor that is missing, or one of the wrong dtype or shape.
void load_int8_weights(SequenceClassifier& model, const CheckpointTensors& checkpoint,
                       const std::vector<std::string>& modules, const std::string& dir);

// `accent quantize`: loads the fine-tuned model in `model_dir` (every weight required), quantizes it and saves it with
// its tokenizer into `output_dir` (replacing the model files there as a whole, io/model_dir_save.h). Returns the
// names of the int8 modules. A LoRA adapter directory is refused: merge it first (`accent merge`).
std::vector<std::string> quantize_model_to_dir(const std::string& model_dir, const std::string& output_dir);

// `--precision int8` for predict / evaluate / serve: models loaded for inference from now on are quantized.
// Process-wide, set once at start-up (like default_precision()).
void set_int8_inference(bool enabled);
bool int8_inference();
// A model loaded to answer (the pipelines, `evaluate`) made ready as the program was configured: moved to
// default_op_context() (--device, --precision; pipeline(device=...)), then quantized under --precision int8.
void prepare_for_inference(SequenceClassifier& model);

}  // namespace accent
