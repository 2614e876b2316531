// cli/main.cpp — `accent <verb> ...`: collects the verbs registered by the files of cli/ and runs the chosen one.
#include <algorithm>
#include <iostream>
#include <memory>

#include "cli/verb.h"
#include "core/error.h"

namespace accent::cli {
std::vector<VerbEntry>& verb_registry() {
  static std::vector<VerbEntry> verbs;
  return verbs;
}
}  // namespace accent::cli

int main(int argc, char** argv) {
  using namespace accent::cli;
  CLI::App app{"accent — fine-tune pretrained transformers on your own labelled text (Hugging Face compatible)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("accent 0.1.0"));
  auto verbs = verb_registry();
  std::sort(verbs.begin(), verbs.end(), [](const VerbEntry& a, const VerbEntry& b) { return a.name < b.name; });
  std::vector<std::pair<CLI::App*, std::function<int()>>> runners;
  for (auto& v : verbs) {
    CLI::App* sub = app.add_subcommand(v.name, v.help);
    runners.emplace_back(sub, v.setup(*sub));
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    for (auto& [sub, run] : runners)
      if (sub->parsed()) return run();
  } catch (const accent::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
