// examples/cpp/accent_example.cpp — accent's public API (accent/accent.h) from a program of its own:
//   accent_example train BASE_MODEL TRAIN_CSV OUTPUT_DIR [MAX_STEPS]   fine-tune, printing every log entry
//   accent_example classify MODEL TEXT...                              every label's score per text (best first)
//   accent_example tokenize MODEL TEXT                                 input_ids and tokens
#include <accent/accent.h>

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: accent_example train|classify|tokenize ...\n");
    return 2;
  }
  const std::string verb = argv[1];
  if (verb == "train" && argc < 5) {
    std::fprintf(stderr, "usage: accent_example train BASE_MODEL TRAIN_CSV OUTPUT_DIR [MAX_STEPS]\n");
    return 2;
  }
  try {
    accent::api::Runtime::configure({.precision = "fp32", .device = "cpu", .threads = 1});
    if (verb == "train") {
      accent::api::TrainSetup setup;
      setup.model = argv[2];
      setup.train_file = argv[3];
      setup.validation_split = 0.25;
      setup.max_length = 32;
      accent::api::TrainingArguments args;
      args.output_dir = argv[4];
      args.max_steps = argc > 5 ? std::stoll(argv[5]) : 4;
      args.logging_steps = 1;
      args.save_strategy = "no";
      args.overwrite_output_dir = true;
      const auto out = accent::api::train(setup, args, [](const accent::api::TrainLog& log) {
        std::printf("log step=%lld", static_cast<long long>(log.step));
        for (const auto& [key, value] : log.values) std::printf(" %s=%.6g", key.c_str(), value);
        std::printf("\n");
      });
      std::printf("trained %lld steps, training_loss=%.6f, eval_accuracy=%.6f, saved in %s\n",
                  static_cast<long long>(out.global_step), out.training_loss,
                  out.eval_metrics.count("eval_accuracy") ? out.eval_metrics.at("eval_accuracy") : -1.0,
                  out.output_dir.c_str());
    } else if (verb == "classify") {
      auto classifier = accent::api::TextClassifier::from_pretrained(argv[2]);
      const std::vector<std::string> texts(argv + 3, argv + argc);
      const auto scores = classifier.classify(texts, {.top_k = 0});
      for (size_t i = 0; i < texts.size(); ++i) {
        std::printf("%s", texts[i].c_str());
        for (const auto& s : scores[i]) std::printf("\t%s=%.9f", s.label.c_str(), s.score);
        std::printf("\n");
      }
    } else if (verb == "tokenize") {
      const auto tokenizer = accent::api::Tokenizer::from_pretrained(argv[2]);
      const auto e = tokenizer.encode(argv[3]);
      for (size_t i = 0; i < e.input_ids.size(); ++i) std::printf("%d:%s ", e.input_ids[i], e.tokens[i].c_str());
      std::printf("\n");
    } else {
      std::fprintf(stderr, "unknown verb %s\n", verb.c_str());
      return 2;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
