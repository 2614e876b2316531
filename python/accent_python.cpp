// python/accent_python.cpp — the `accent` Python module (pybind11) over the public C++ API (accent/accent.h),
// shaped the way `transformers` users write it:
//
//   import accent
//   clf = accent.pipeline("text-classification", model="out/model")
//   clf("a fine film")                        # [{'label': 'positive', 'score': 0.98}]
//   clf(["a", "b"], top_k=None)               # [[{...}, {...}], [{...}, {...}]]  (every label, best first)
//   accent.train(model="bert-base-uncased", train_file="train.csv", output_dir="out",
//                learning_rate=2e-5, num_train_epochs=3, logging_steps=10, log_callback=print)
//   tok = accent.AutoTokenizer.from_pretrained("out/model")
//   tok(["a", "b c"], padding=True, return_tensors="np")   # {'input_ids': array(...), 'attention_mask': ...}
//
// The GIL is released while accent computes; Ctrl-C (SIGINT) stops training after the current step with
// KeyboardInterrupt and saves nothing. Errors are RuntimeError with accent's messages.
#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <accent/accent.h>

namespace py = pybind11;
using namespace accent::api;

namespace {

using Input = std::pair<std::string, std::optional<std::string>>;

// A str, or a dict {"text": ..., "text_pair": ...} (HF's form for a pair).
Input to_input(const py::handle& x) {
  if (py::isinstance<py::str>(x)) return {x.cast<std::string>(), std::nullopt};
  if (py::isinstance<py::dict>(x)) {
    const py::dict d = x.cast<py::dict>();
    if (!d.contains("text")) throw py::value_error("an input dict needs the key 'text' (and optionally 'text_pair')");
    std::optional<std::string> pair;
    if (d.contains("text_pair") && !d["text_pair"].is_none()) pair = d["text_pair"].cast<std::string>();
    return {d["text"].cast<std::string>(), pair};
  }
  throw py::type_error("expected a str, a dict with 'text'/'text_pair', or a list of them");
}

py::list scores_to_list(const std::vector<LabelScore>& scores) {
  py::list out;
  for (const auto& s : scores) {
    py::dict d;
    d["label"] = s.label;
    d["score"] = s.score;
    out.append(d);
  }
  return out;
}

// pipeline("text-classification", model=...): TextClassificationPipeline.__call__'s arguments and result shapes.
class ClassificationPipeline {
 public:
  explicit ClassificationPipeline(const std::string& model) : classifier_(TextClassifier::from_pretrained(model)) {}

  py::object call(const py::object& inputs, const py::kwargs& kwargs) {
    ClassifyOptions options;
    // HF: without top_k one dict per input (the best label); top_k=None every label; top_k=k the best k.
    const bool legacy = !kwargs.contains("top_k");
    if (!legacy) {
      const py::object k = kwargs["top_k"];
      options.top_k = k.is_none() ? 0 : k.cast<int64_t>();
      if (!k.is_none() && options.top_k < 1) throw py::value_error("top_k must be a positive integer or None");
    }
    for (const auto& [key, value] : kwargs) {
      const std::string name = key.cast<std::string>();
      if (name == "top_k") continue;
      if (name == "function_to_apply") options.function_to_apply = value.is_none() ? "" : value.cast<std::string>();
      else if (name == "truncation") options.truncation = value.cast<bool>();
      else if (name == "max_length") options.max_length = value.is_none() ? 0 : value.cast<int64_t>();
      else if (name == "batch_size") options.batch_size = value.cast<int64_t>();
      else throw py::type_error("unexpected keyword argument '" + name + "'");
    }
    const bool single = !py::isinstance<py::list>(inputs) && !py::isinstance<py::tuple>(inputs);
    std::vector<Input> batch;
    if (single) batch.push_back(to_input(inputs));
    else for (const auto& x : inputs) batch.push_back(to_input(x));
    std::vector<std::vector<LabelScore>> scores;
    {
      py::gil_scoped_release release;
      scores = classify(batch, options);
    }
    if (single) return legacy ? scores_to_list({scores[0].front()}) : scores_to_list(scores[0]);
    py::list out;
    for (const auto& s : scores) {
      if (legacy) out.append(scores_to_list({s.front()})[0]);
      else out.append(scores_to_list(s));
    }
    return out;
  }

  std::vector<std::string> labels() const { return classifier_.labels(); }

 private:
  // Texts and pairs go through the API in one call each, keeping input order.
  std::vector<std::vector<LabelScore>> classify(const std::vector<Input>& batch, const ClassifyOptions& options) {
    std::vector<std::string> texts;
    std::vector<std::pair<std::string, std::string>> pairs;
    for (const auto& [text, pair] : batch) {
      if (pair) pairs.emplace_back(text, *pair);
      else texts.push_back(text);
    }
    const auto text_scores = classifier_.classify(texts, options);
    const auto pair_scores = classifier_.classify_pairs(pairs, options);
    std::vector<std::vector<LabelScore>> out;
    size_t t = 0, p = 0;
    for (const auto& input : batch) out.push_back(input.second ? pair_scores[p++] : text_scores[t++]);
    return out;
  }

  TextClassifier classifier_;
};

// AutoTokenizer.from_pretrained(...)(text, text_pair=None, truncation=False, max_length=None, padding=False,
// return_tensors=None, add_special_tokens=True) → {"input_ids", "token_type_ids", "attention_mask"}.
class PyTokenizer {
 public:
  explicit PyTokenizer(const std::string& model) : tokenizer_(Tokenizer::from_pretrained(model)) {}

  py::dict call(const py::object& text, const py::object& text_pair, bool truncation, const py::object& max_length,
                const py::object& padding, const py::object& return_tensors, bool add_special_tokens) const {
    Tokenizer::BatchOptions options;
    options.truncation = truncation;
    options.max_length = max_length.is_none() ? 0 : max_length.cast<int64_t>();
    options.add_special_tokens = add_special_tokens;
    if (py::isinstance<py::bool_>(padding)) options.padding = padding.cast<bool>() ? "longest" : "do_not_pad";
    else if (!padding.is_none()) options.padding = padding.cast<std::string>();
    const bool single = py::isinstance<py::str>(text);
    std::vector<Input> inputs;
    if (single) {
      inputs.emplace_back(text.cast<std::string>(),
                          text_pair.is_none() ? std::nullopt : std::optional(text_pair.cast<std::string>()));
    } else {
      const auto texts = text.cast<std::vector<std::string>>();
      std::vector<std::string> pairs;
      if (!text_pair.is_none()) pairs = text_pair.cast<std::vector<std::string>>();
      if (!pairs.empty() && pairs.size() != texts.size())
        throw py::value_error("text and text_pair must have the same number of entries");
      for (size_t i = 0; i < texts.size(); ++i)
        inputs.emplace_back(texts[i], pairs.empty() ? std::nullopt : std::optional(pairs[i]));
    }
    std::vector<Encoding> encodings;
    {
      py::gil_scoped_release release;
      encodings = tokenizer_.encode_batch(inputs, options);
    }
    const bool numpy = !return_tensors.is_none();
    if (numpy && return_tensors.cast<std::string>() != "np")
      throw py::value_error("return_tensors: only 'np' is supported (accent has no torch tensors to return)");
    py::dict out;
    for (const char* key : {"input_ids", "token_type_ids", "attention_mask"}) {
      auto field = [&](const Encoding& e) -> const std::vector<int32_t>& {
        return std::string(key) == "input_ids" ? e.input_ids
               : std::string(key) == "token_type_ids" ? e.token_type_ids : e.attention_mask;
      };
      if (numpy) {
        const size_t rows = encodings.size(), cols = rows ? field(encodings[0]).size() : 0;
        for (const auto& e : encodings)
          if (field(e).size() != cols)
            throw py::value_error("Unable to create a tensor: the encodings have different lengths; use "
                                  "padding=True or truncation=True to have batched tensors with the same length");
        py::array_t<int64_t> a = single ? py::array_t<int64_t>({static_cast<py::ssize_t>(cols)})
                                        : py::array_t<int64_t>({static_cast<py::ssize_t>(rows),
                                                                static_cast<py::ssize_t>(cols)});
        int64_t* p = a.mutable_data();
        for (const auto& e : encodings)
          for (int32_t v : field(e)) *p++ = v;
        out[key] = a;
      } else if (single) {
        out[key] = py::cast(field(encodings[0]));
      } else {
        py::list rows;
        for (const auto& e : encodings) rows.append(py::cast(field(e)));
        out[key] = rows;
      }
    }
    return out;
  }

  std::vector<std::string> convert_ids_to_tokens(const std::vector<int32_t>& ids) const {
    std::vector<std::string> out;
    for (int32_t id : ids) out.push_back(tokenizer_.id_to_token(id));
    return out;
  }
  int64_t size() const { return tokenizer_.vocab_size(); }

 private:
  Tokenizer tokenizer_;
};

// transformers' AutoTokenizer: only its from_pretrained.
struct AutoTokenizer {};

// accent.train(model=..., train_file=..., output_dir=..., <TrainingArguments names>...) → TrainOutput as a dict.
py::dict train_from_kwargs(const py::kwargs& kwargs) {
  TrainSetup setup;
  TrainingArguments args;
  py::object log_callback = py::none();
  for (const auto& [key, value] : kwargs) {
    const std::string k = key.cast<std::string>();
    auto str = [&] { return value.cast<std::string>(); };
    auto i64 = [&] { return value.cast<int64_t>(); };
    auto f64 = [&] { return value.cast<double>(); };
    if (k == "model") setup.model = str();
    else if (k == "train_file") setup.train_file = str();
    else if (k == "validation_file") setup.validation_file = value.is_none() ? "" : str();
    else if (k == "validation_split") setup.validation_split = f64();
    else if (k == "text_column") setup.text_column = str();
    else if (k == "text_pair_column") setup.text_pair_column = value.is_none() ? "" : str();
    else if (k == "label_column") setup.label_column = str();
    else if (k == "max_length" || k == "max_seq_length") setup.max_length = i64();
    else if (k == "offline") setup.offline = value.cast<bool>();
    else if (k == "output_dir") args.output_dir = str();
    else if (k == "learning_rate") args.learning_rate = f64();
    else if (k == "num_train_epochs") args.num_train_epochs = f64();
    else if (k == "per_device_train_batch_size") args.per_device_train_batch_size = i64();
    else if (k == "per_device_eval_batch_size") args.per_device_eval_batch_size = i64();
    else if (k == "warmup_steps") args.warmup_steps = i64();
    else if (k == "warmup_ratio") args.warmup_ratio = f64();
    else if (k == "weight_decay") args.weight_decay = f64();
    else if (k == "max_grad_norm") args.max_grad_norm = f64();
    else if (k == "seed") args.seed = i64();
    else if (k == "max_steps") args.max_steps = i64();
    else if (k == "gradient_accumulation_steps") args.gradient_accumulation_steps = i64();
    else if (k == "lr_scheduler_type") args.lr_scheduler_type = str();
    else if (k == "logging_steps") args.logging_steps = f64();
    else if (k == "eval_strategy" || k == "evaluation_strategy") args.eval_strategy = str();
    else if (k == "save_strategy") args.save_strategy = str();
    else if (k == "save_steps") args.save_steps = f64();
    else if (k == "overwrite_output_dir") args.overwrite_output_dir = value.cast<bool>();
    else if (k == "progress") args.progress = str();
    else if (k == "report_to") args.report_to = str();
    else if (k == "logging_dir") args.logging_dir = str();
    else if (k == "log_callback") log_callback = py::reinterpret_borrow<py::object>(value);
    else throw py::type_error("train() got an unexpected keyword argument '" + k + "'");
  }
  std::function<void(const TrainLog&)> on_log;
  if (!log_callback.is_none()) {
    on_log = [log_callback](const TrainLog& log) {
      py::gil_scoped_acquire gil;
      py::dict d;
      for (const auto& [k, v] : log.values) d[py::str(k)] = v;
      d["epoch"] = log.epoch;
      d["step"] = log.step;
      log_callback(d);
    };
  }
  // Ctrl-C: Python only notes the signal; it is checked here after every step, and raising it unwinds the run.
  auto on_step = [](int64_t) {
    py::gil_scoped_acquire gil;
    if (PyErr_CheckSignals() != 0) throw py::error_already_set();
  };
  TrainOutput out;
  {
    py::gil_scoped_release release;
    out = accent::api::train(setup, args, on_log, on_step);
  }
  py::dict result;
  result["global_step"] = out.global_step;
  result["training_loss"] = out.training_loss;
  result["metrics"] = out.eval_metrics;
  result["output_dir"] = out.output_dir;
  return result;
}

}  // namespace

PYBIND11_MODULE(accent, m) {
  m.doc() = "accent: fine-tune and run Hugging Face text classifiers (C++ engine)";
  m.attr("__version__") = version();
  m.def(
      "configure",
      [](const std::string& precision, const std::string& device, int threads) {
        Runtime::configure({precision, device, threads});
      },
      py::arg("precision") = "auto", py::arg("device") = "cpu", py::arg("threads") = 0,
      "Process-wide compute settings, as the CLI's --precision, --device and --threads");
  py::class_<ClassificationPipeline>(m, "TextClassificationPipeline")
      .def("__call__", &ClassificationPipeline::call, py::arg("inputs"))
      .def_property_readonly("labels", &ClassificationPipeline::labels);
  m.def(
      "pipeline",
      [](const std::string& task, const std::string& model) {
        if (task != "text-classification" && task != "sentiment-analysis")
          throw py::value_error("accent.pipeline: task '" + task + "' is not supported (text-classification)");
        return ClassificationPipeline(model);
      },
      py::arg("task"), py::arg("model"));
  py::class_<PyTokenizer>(m, "Tokenizer")
      .def("__call__", &PyTokenizer::call, py::arg("text"), py::arg("text_pair") = py::none(),
           py::arg("truncation") = false, py::arg("max_length") = py::none(), py::arg("padding") = false,
           py::arg("return_tensors") = py::none(), py::arg("add_special_tokens") = true)
      .def("convert_ids_to_tokens", &PyTokenizer::convert_ids_to_tokens)
      .def("__len__", &PyTokenizer::size);
  py::class_<AutoTokenizer>(m, "AutoTokenizer")
      .def_static("from_pretrained", [](const std::string& model) { return PyTokenizer(model); }, py::arg("model"));
  m.def("train", &train_from_kwargs, "Fine-tune a model: run_glue.py's job with TrainingArguments' names as keywords");
}
