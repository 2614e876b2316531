// cli/export.cpp — `accent export --model D [--output-dir O] [--opset 17] [--dtype fp32|fp16]`: the model as ONNX in O/onnx/model.onnx,
// laid out as optimum writes it (export/onnx_export.h). Prints one line saying what was written.
#include <iostream>

#include "cli/verb.h"
#include "export/onnx_export.h"

namespace accent::cli {
namespace {

struct ExportOptions {
  std::string model, output_dir;
  OnnxExportOptions onnx;
};

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

VerbRegistration reg{"export", "Export a model as ONNX (onnx/model.onnx, as optimum lays it out)",
  [](CLI::App& app) -> std::function<int()> {
    auto o = std::make_shared<ExportOptions>();
    app.add_option("--model,-m", o->model, "Model directory, hub id or LoRA adapter directory (merged first)")->required();
    app.add_option("--output-dir,-o", o->output_dir, "Where onnx/model.onnx goes (default: the model directory)");
    app.add_option("--opset", o->onnx.opset, "ONNX opset (17 or newer)")->capture_default_str();
    app.add_option("--dtype", o->onnx.dtype, "Weights as fp32, or fp16 (half the file; the graph casts them and "
                   "computes in fp32)")->check(CLI::IsMember({"fp32", "fp16"}))->capture_default_str();
    app.add_flag("--external-data", o->onnx.external_data,
                 "Weights in onnx/model.onnx_data (automatic above 2 GB, protobuf's limit)");
    app.add_option("--base-model", o->onnx.base_model, "Base model of a LoRA adapter --model");
    app.add_flag("--offline", o->onnx.offline, "Use only the Hugging Face cache");
    return [o] {
      const OnnxExportResult r = export_onnx(o->model, o->output_dir, o->onnx);
      std::cout << "exported " << r.family << " (" << r.num_labels << " labels, " << r.nodes << " nodes, "
                << r.weight_bytes / (1024 * 1024) << " MiB of " << o->onnx.dtype << " weights) to " << r.model_path;
      if (!r.external_data_path.empty()) std::cout << " with weights in " << r.external_data_path;
      std::cout << "; inputs " << joined(r.inputs) << ", output logits; passes ONNX's checker\n";
      return 0;
    };
  }};

}  // namespace
}  // namespace accent::cli
