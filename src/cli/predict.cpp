// cli/predict.cpp — `accent predict`: what the model's pipeline returns, one JSON line per input —
// pipeline("text-classification") for sequence classifiers, pipeline("ner") for token classifiers (entities,
// --aggregation-strategy), pipeline("question-answering") for QA models (--question/--context, or inputs of
// question<TAB>context lines / question and context columns).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>
#include <iostream>

#include "cli/flag_checks.h"
#include "cli/output.h"
#include "cli/verb.h"
#include "data/line_stream.h"
#include "data/table_stream.h"
#include "serve/task_pipelines.h"
#include "serve/text_classification.h"

namespace accent::cli {
namespace {

struct PredictOptions {
  std::string model;
  std::vector<std::string> texts;
  std::string input;
  std::string text_column = "text", text_pair_column;
  std::string top_k;
  std::string function_to_apply;
  bool truncation = false;
  int64_t max_length = 0;
  int64_t batch_size = 32;
  bool offline = false;
  std::string base_model;
  // Token classification.
  std::string aggregation_strategy = "none";
  // Question answering.
  std::string question, context;
  bool handle_impossible_answer = false;
  int64_t max_answer_len = 15;
  std::optional<int64_t> doc_stride;
};

bool is_plain_text_input(const std::string& input) {
  return input == "-" || input.ends_with(".txt") || input.find('.') == std::string::npos;
}

using Answer = std::function<void(const std::vector<TextInput>&, int64_t)>;

// Answers inputs in batches as they arrive: a batch goes out when it is full or when no further input is ready
// yet, so `yes hello | accent predict` answers as it reads, in bounded memory, and an interactive user (or a slow
// writer into a named pipe) gets each answer without waiting for the end of the input.
// `next(input)` gives the next input (false at the end); `ready()` says whether next() would return at once.
void answer_as_inputs_arrive(int64_t batch_size, const std::function<bool(TextInput&)>& next,
                             const std::function<bool()>& ready, const Answer& answer) {
  std::vector<TextInput> batch;
  int64_t first = 1;
  const size_t full = static_cast<size_t>(std::max<int64_t>(1, batch_size));
  TextInput input("", std::nullopt);
  while (next(input)) {
    batch.push_back(std::move(input));
    if (batch.size() >= full || !ready()) {
      answer(batch, first);
      first += static_cast<int64_t>(batch.size());
      batch.clear();
    }
  }
  if (!batch.empty()) answer(batch, first);
}

// Inputs from a table (.csv .tsv .jsonl .json) by column, row by row as the file is read. Invalid UTF-8 is
// replaced by U+FFFD and counted (as for plain text); returns that count.
int64_t stream_table_inputs(const PredictOptions& o, const Answer& answer) {
  TableOptions options;
  options.replace_invalid_utf8 = true;
  TableStream rows(o.input, options);
  const TableParser& table = rows.parser();
  TableRow row;
  auto next = [&](TextInput& input) {
    if (!rows.next(row)) return false;
    std::optional<std::string> pair;
    if (!o.text_pair_column.empty()) pair = table.cell(row, o.text_pair_column, "text pair");
    input = TextInput(table.cell(row, o.text_column, "text"), std::move(pair));
    return true;
  };
  answer_as_inputs_arrive(o.batch_size, next, [&] { return rows.ready(); }, answer);
  // A header without rows still has to name the columns asked for.
  table.check_column(o.text_column, "text");
  if (!o.text_pair_column.empty()) table.check_column(o.text_pair_column, "text pair");
  return table.invalid_utf8_replaced();
}

// Plain text (stdin or a file; one input per line, a pair is text_a<TAB>text_b), line by line.
void stream_plain_inputs(const PredictOptions& o, const Answer& answer) {
  int fd = STDIN_FILENO;
  std::string name = "standard input";
  if (o.input != "-") {
    ACCENT_CHECK(!std::filesystem::is_directory(o.input), o.input, ": --input is a directory, expected a file");
    fd = ::open(o.input.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail(o.input, ": cannot open (", std::strerror(errno), ")");
    name = o.input;
  }
  struct Closer {
    int fd;
    ~Closer() {
      if (fd != STDIN_FILENO) ::close(fd);
    }
  } closer{fd};
  LineStream lines(fd, name);
  std::string line;
  auto next = [&](TextInput& input) {
    if (!lines.next(line)) return false;
    const size_t tab = line.find('\t');
    if (tab == std::string::npos) input = TextInput(line, std::nullopt);
    else input = TextInput(line.substr(0, tab), line.substr(tab + 1));
    return true;
  };
  answer_as_inputs_arrive(o.batch_size, next, [&] { return lines.ready(); }, answer);
}

int run_predict(const PredictOptions& o) {
  PipelineOptions p;
  if (!o.function_to_apply.empty()) p.function_to_apply = parse_function_to_apply(o.function_to_apply);
  if (o.top_k == "all" || o.top_k == "None") p.top_k = {TopK::All, 0};
  else if (!o.top_k.empty()) {
    // "1.5" used to be read as 1, and 0 or -1 printed [] with success.
    size_t used = 0;
    int64_t k = 0;
    try {
      k = std::stoll(o.top_k, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != o.top_k.size() || k < 1)
      fail("--top-k: expected a positive integer or 'all', got '", o.top_k, "'");
    p.top_k = {TopK::K, k};
  }
  p.truncation = o.truncation || o.max_length > 0;
  if (o.max_length > 0) p.max_length = o.max_length;
  p.batch_size = o.batch_size;
  auto pipeline = TextClassificationPipeline::from_pretrained(o.model, o.offline, o.base_model);
  const ModelTask task = pipeline.model().task();
  TokenClassificationOptions ner;
  ner.aggregation_strategy = parse_aggregation_strategy(o.aggregation_strategy);
  QaPipelineOptions qa;
  qa.top_k = p.top_k.kind == TopK::K ? p.top_k.k : 1;
  qa.handle_impossible_answer = o.handle_impossible_answer;
  qa.max_answer_len = o.max_answer_len;
  qa.doc_stride = o.doc_stride;
  if (o.max_length > 0) qa.max_seq_len = o.max_length;
  auto print = [](const auto& j) {
    std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  };
  auto answer = [&](const std::vector<TextInput>& inputs, int64_t first_number) {
    p.first_input_number = first_number;
    if (task == ModelTask::TokenClassification) {
      for (size_t i = 0; i < inputs.size(); ++i)
        print(predict_entities(pipeline, inputs[i].first, ner, first_number + static_cast<int64_t>(i)));
    } else if (task == ModelTask::QuestionAnswering) {
      for (size_t i = 0; i < inputs.size(); ++i) {
        ACCENT_CHECK(inputs[i].second.has_value(), "input ", first_number + static_cast<int64_t>(i),
                     ": a question-answering model needs a question and a context (question<TAB>context, or the "
                     "question and context columns)");
        print(predict_answers(pipeline, inputs[i].first, *inputs[i].second, qa));
      }
    } else {
      for (const auto& scores : pipeline(inputs, p)) std::cout << label_scores_to_json(scores).dump() << "\n";
    }
    flush_stdout_or_fail();  // each answer out as soon as it is known, and a failed write stops the run
  };
  if (task == ModelTask::QuestionAnswering && (!o.question.empty() || !o.context.empty())) {
    ACCENT_CHECK(!o.question.empty() && !o.context.empty(), "--question and --context go together");
    answer({TextInput(o.question, o.context)}, 1);
    return 0;
  }
  PredictOptions in = o;
  if (task == ModelTask::QuestionAnswering && in.text_column == "text" && in.text_pair_column.empty())
    in.text_column = "question", in.text_pair_column = "context";
  int64_t replaced_in_table = 0;
  if (in.input.empty()) in.input = "-";
  if (!o.texts.empty()) {
    std::vector<TextInput> inputs;
    for (const auto& t : o.texts) inputs.emplace_back(t, std::nullopt);
    answer(inputs, 1);
  } else if (is_plain_text_input(in.input)) {
    stream_plain_inputs(in, answer);
  } else {
    replaced_in_table = stream_table_inputs(in, answer);
  }
  // As `tokenize`: invalid UTF-8 in a text is replaced (as HF's tokenizers do), never silently.
  if (const size_t replaced = pipeline.tokenizer().invalid_utf8_replacements() + static_cast<size_t>(replaced_in_table))
    std::cerr << "warning: " << replaced << " invalid UTF-8 sequence(s) in the input"
              << (o.input.empty() || o.input == "-" ? "" : " " + o.input) << " were replaced by U+FFFD\n";
  return 0;
}

VerbRegistration reg{"predict", "Predict with a saved model; prints its pipeline's JSON per input (text-classification, ner, question-answering)",
  [](CLI::App& app) -> std::function<int()> {
    auto o = std::make_shared<PredictOptions>();
    app.add_option("--model,-m", o->model, "Model directory or hub id")->required();
    app.add_option("texts", o->texts, "Texts to classify (else --input, else stdin, one per line)");
    app.add_option("--input,-i", o->input, "File of inputs: .txt (one per line, pair = a<TAB>b), .csv/.tsv/.jsonl (--text-column)");
    app.add_option("--text-column", o->text_column)->capture_default_str();
    app.add_option("--text-pair-column", o->text_pair_column);
    app.add_option("--top-k", o->top_k, "Return the K best labels, or 'all' (default: the best one)");
    app.add_option("--function-to-apply", o->function_to_apply, "softmax|sigmoid|none (default: HF's rule from the config)");
    app.add_flag("--truncation", o->truncation, "Truncate long inputs to the model's maximum length");
    app.add_option("--max-length", o->max_length, "Truncate inputs to this many tokens")->check(integer_in(1, kMaxFlagInt));
    app.add_option("--batch-size,-b", o->batch_size)->capture_default_str()->check(integer_in(1, kMaxFlagInt));
    app.add_flag("--offline", o->offline, "Use only the Hugging Face cache");
    app.add_option("--base-model", o->base_model, "Base model of a LoRA adapter --model (default: its adapter_config.json base_model_name_or_path)");
    app.add_option("--aggregation-strategy", o->aggregation_strategy, "Token classification: none|simple|first|average|max")->capture_default_str();
    app.add_option("--question", o->question, "Question answering: the question (with --context)");
    app.add_option("--context", o->context, "Question answering: the text to find the answer in");
    app.add_flag("--handle-impossible-answer", o->handle_impossible_answer, "Question answering: the empty answer may win");
    app.add_option("--max-answer-len", o->max_answer_len, "Question answering: longest answer in tokens")->capture_default_str()->check(integer_in(1, kMaxFlagInt));
    app.add_option("--doc-stride", o->doc_stride, "Question answering: tokens shared by consecutive windows (default min(max_seq_len / 2, 128))");
    return [o] { return run_predict(*o); };
  }};

}  // namespace
}  // namespace accent::cli
