// cli/verb.h — how each `accent <verb>` plugs into the CLI: one file per verb defines a static VerbRegistration.
//
//   static int run_tokenize(const TokenizeOptions& o);
//   static accent::cli::VerbRegistration reg{"tokenize", "Tokenize lines of text like HF tokenizers",
//     [](CLI::App& app) -> std::function<int()> {
//        auto opts = std::make_shared<TokenizeOptions>();
//        app.add_option("--model", opts->model, "...")->required();
//        return [opts] { return run_tokenize(*opts); };
//     }};
//
// The returned function runs when the verb was chosen; its value is the process exit code.
// Verbs stay thin: all logic lives in the library.
#pragma once
#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

namespace accent::cli {

using VerbSetup = std::function<std::function<int()>(CLI::App&)>;

struct VerbEntry {
  std::string name;
  std::string help;
  VerbSetup setup;
};

std::vector<VerbEntry>& verb_registry();

struct VerbRegistration {
  VerbRegistration(std::string name, std::string help, VerbSetup setup) {
    verb_registry().push_back({std::move(name), std::move(help), std::move(setup)});
  }
};

}  // namespace accent::cli
