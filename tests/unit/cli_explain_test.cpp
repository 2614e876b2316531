// `accent explain` end to end (issue 17): a tiny BERT trained by `accent train` on real SST-2 rows is explained —
// texts (every method, word aggregation, integrated gradients' completeness), the attention profile against its
// base, and the HTML page, checked in a real headless browser (Debian's chromium): no console message, the DOM holds
// the JSON's own words and scores, a screenshot is taken into build/screenshots/. A model trained with learning rate
// 0 shows no change against its base rebuilt from the same --seed (the profile compares against the run's true
// starting point), and a different seed does.
#include <gtest/gtest.h>

#include <filesystem>
#include <regex>

#include "browser_test_util.h"
#include "cli_test_data.h"
#include "core/fs.h"
#include "test_util.h"

using namespace accent;
using namespace accent::testing;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

const std::string kCli = ACCENT_CLI_PATH;

std::string train(const TempDir& tmp, const std::string& out, const std::string& extra) {
  const CmdResult r = run_command(kCli + " train --model " + tmp.str("base") + " --train-file " + tmp.str("train.csv") +
                                  " --output-dir " + tmp.str(out) + " --max-length 24 --progress none --report-to none " +
                                  extra, false);
  EXPECT_EQ(r.rc, 0) << r.out;
  return tmp.str(out);
}

const char* kMethods[] = {"attention_last", "attention_mean", "attention_rollout", "gradient_x_input",
                          "integrated_gradients"};

}  // namespace

TEST(CliExplain, TextsProfileAndAPageThatABrowserShows) {
  const std::string browser = chromium_binary();
  ASSERT_FALSE(browser.empty()) << "chromium is needed for this test: scripts/setup.sh --tests installs it";
  TempDir tmp("cli_explain");
  write_tiny_bert(tmp.path / "base");
  write_sst2_csv(tmp.path / "train.csv", 160);
  const std::string model = train(tmp, "model", "--num-train-epochs 2 --per-device-train-batch-size 16 "
                                                "--learning-rate 1e-3 --seed 3");
  const std::string page = tmp.str("explain.html");
  const std::string texts = "'a gorgeous , witty , seductive movie .' 'the plot is dull and the acting is painful'";
  const CmdResult r = run_command(kCli + " explain --model " + model + " " + texts + " --json --ig-steps 64 --html " +
                                  page + " --base " + tmp.str("base") + " --data " + tmp.str("train.csv") +
                                  " --max-rows 120 --min-count 3 --seed 3", false);
  ASSERT_EQ(r.rc, 0) << r.out;
  const json out = last_json_line(r.out);
  ASSERT_EQ(out.at("texts").size(), 2u);
  for (const json& t : out.at("texts")) {
    const json& a = t.at("attributions");
    const size_t words = a.at("integrated_gradients").at("words").size();
    EXPECT_GE(words, 7u);
    for (const char* m : kMethods) {
      ASSERT_TRUE(a.contains(m)) << m;
      EXPECT_EQ(a.at(m).at("tokens").size(), t.at("tokens").size()) << m;
      EXPECT_EQ(a.at(m).at("words").size(), words) << m;
    }
    // Attention methods are distributions over the tokens.
    double mass = 0;
    for (const json& v : a.at("attention_rollout").at("tokens")) mass += v.get<double>();
    EXPECT_NEAR(mass, 1.0, 1e-4);
    const json& ig = t.at("integrated_gradients");
    EXPECT_EQ(ig.at("steps").get<int>(), 64);
    EXPECT_LT(ig.at("completeness_error").get<double>(),
              1e-2 * std::max(1e-3, std::fabs(ig.at("f_input").get<double>() - ig.at("f_baseline").get<double>())));
    EXPECT_TRUE(t.at("label") == "positive" || t.at("label") == "negative");
  }
  const json& profile = out.at("profile");
  EXPECT_EQ(profile.at("rows").get<int>(), 120);
  ASSERT_EQ(profile.at("labels").size(), 3u);
  ASSERT_EQ(profile.at("head_js_divergence_bits").size(), 4u);  // 2 layers × 2 heads
  for (const json& d : profile.at("head_js_divergence_bits")) {
    // Small (a tiny model starts near uniform attention and trains 18 steps) but far above the zero of an
    // unchanged model (ProfileAgainstTheRunsOwnStartingPoint: < 1e-9).
    EXPECT_GT(d.get<double>(), 1e-7) << "training changed every head's attention";
    EXPECT_LE(d.get<double>(), 1.0);
  }
  size_t ranked = 0;
  for (const json& l : profile.at("labels")) ranked += l.at("increased").size() + l.at("decreased").size();
  EXPECT_GT(ranked, 10u);

  // The page in the browser: no console message, every section, and the words and scores of the JSON.
  const std::string log_path = tmp.str("chromium.log");
  const CmdResult dom = run_command(chromium(browser, "--dump-dom", page) + " 2>" + log_path, false);
  ASSERT_EQ(dom.rc, 0) << read_file(log_path);
  const std::string log = read_file(log_path);
  EXPECT_EQ(log.find(":CONSOLE"), std::string::npos) << log;
  for (const char* id : {"methods", "texts", "text-1", "text-2", "attention-grid", "profile", "timings"})
    EXPECT_NE(dom.out.find(std::string("id=\"") + id + "\""), std::string::npos) << id;
  const std::regex block("data-method=\"integrated_gradients\">(.*?)</div>");
  const std::regex word("title=\"([^\"]+)\">([^<]+)</span>");
  size_t text = 0;
  for (std::sregex_iterator b(dom.out.begin(), dom.out.end(), block), end; b != end; ++b, ++text) {
    ASSERT_LT(text, 2u);
    const json& words = out.at("texts").at(text).at("attributions").at("integrated_gradients").at("words");
    const std::string inner = (*b)[1].str();
    size_t k = 0;
    for (std::sregex_iterator w(inner.begin(), inner.end(), word); w != end; ++w, ++k) {
      ASSERT_LT(k, words.size());
      EXPECT_EQ((*w)[2].str(), words.at(k).at("word").get<std::string>());
      const double score = words.at(k).at("score").get<double>();
      EXPECT_NEAR(std::stod((*w)[1].str()), score, 1e-3 * std::fabs(score) + 1e-9);
    }
    EXPECT_EQ(k, words.size());
  }
  EXPECT_EQ(text, 2u);
  // 2 layers × 2 heads of attention maps, and the labelled last-layer map.
  // Per label (negative, positive, all) a dumbbell chart whose rows are the profile's top words, base → fine-tuned.
  const std::string chart_tag = "<svg class=\"chart dumbbell-chart\"";
  const std::regex shift("<g class=\"shift\" data-from=\"([^\"]+)\" data-to=\"([^\"]+)\"><title>([^<]*):");
  const std::sregex_iterator end;
  size_t label = 0;
  for (size_t at = dom.out.find(chart_tag); at != std::string::npos; at = dom.out.find(chart_tag, at + 1), ++label) {
    ASSERT_LT(label, 3u);
    const json& l = profile.at("labels").at(label);
    std::vector<json> expected;
    for (const char* list : {"increased", "decreased"})
      for (size_t k = 0; k < l.at(list).size() && k < 8; ++k) expected.push_back(l.at(list).at(k));
    const std::string inner = dom.out.substr(at, dom.out.find("</svg>", at) - at);
    size_t k = 0;
    for (std::sregex_iterator g(inner.begin(), inner.end(), shift); g != end; ++g, ++k) {
      ASSERT_LT(k, expected.size());
      EXPECT_NEAR(std::stod((*g)[1].str()), expected[k].at("base").get<double>(), 1e-3 * expected[k].at("base").get<double>());
      EXPECT_NEAR(std::stod((*g)[2].str()), expected[k].at("fine_tuned").get<double>(),
                  1e-3 * expected[k].at("fine_tuned").get<double>());
    }
    EXPECT_EQ(k, expected.size());
  }
  EXPECT_EQ(label, 3u);
  int maps = 0;
  for (size_t at = dom.out.find("<svg class=\"map\""); at != std::string::npos; at = dom.out.find("<svg class=\"map\"", at + 1))
    ++maps;
  EXPECT_EQ(maps, 5);

  expect_screenshot(browser, page, "explain_report", 1280, 3200);

  // For people: text output names the prediction and every method.
  const CmdResult human = run_command(kCli + " explain --model " + model + " 'a gorgeous , witty , seductive movie .'");
  ASSERT_EQ(human.rc, 0) << human.out;
  EXPECT_NE(human.out.find("text 1: "), std::string::npos) << human.out;
  for (const char* m : kMethods) EXPECT_NE(human.out.find(m), std::string::npos) << m;
}

TEST(CliExplain, ProfileAgainstTheRunsOwnStartingPoint) {
  TempDir tmp("cli_explain_seed");
  write_tiny_bert(tmp.path / "base");
  write_sst2_csv(tmp.path / "train.csv", 60);
  // Learning rate 0: the saved weights are the initialisation of seed 9.
  const std::string model = train(tmp, "model", "--max-steps 2 --learning-rate 0 --seed 9");
  auto profile = [&](int seed) {
    const CmdResult r = run_command(kCli + " explain --model " + model + " --base " + tmp.str("base") + " --data " +
                                    tmp.str("train.csv") + " --min-count 2 --json --seed " + std::to_string(seed), false);
    EXPECT_EQ(r.rc, 0) << r.out;
    return last_json_line(r.out).at("profile");
  };
  const json same = profile(9);
  EXPECT_EQ(same.at("rows").get<int>(), 60);
  for (const json& d : same.at("head_js_divergence_bits")) EXPECT_LT(d.get<double>(), 1e-9);
  for (const json& l : same.at("labels")) {
    EXPECT_TRUE(l.at("increased").empty()) << l.dump();
    EXPECT_TRUE(l.at("decreased").empty()) << l.dump();
  }
  const json other = profile(10);
  for (const json& d : other.at("head_js_divergence_bits")) EXPECT_GT(d.get<double>(), 1e-6);
}

TEST(CliExplain, ClearErrors) {
  TempDir tmp("cli_explain_errors");
  write_tiny_bert(tmp.path / "base");
  write_sst2_csv(tmp.path / "train.csv", 40);
  const std::string model = train(tmp, "model", "--max-steps 1");
  const CmdResult no_data = run_command(kCli + " explain --model " + model + " --base " + tmp.str("base") + " hello");
  EXPECT_NE(no_data.rc, 0);
  EXPECT_NE(no_data.out.find("--data"), std::string::npos) << no_data.out;
  const CmdResult target = run_command(kCli + " explain --model " + model + " --target neutral hello");
  EXPECT_NE(target.rc, 0);
  EXPECT_NE(target.out.find("negative, positive"), std::string::npos) << target.out;
  const CmdResult nothing = run_command(kCli + " explain --model " + model);
  EXPECT_NE(nothing.rc, 0);
  EXPECT_NE(nothing.out.find("give texts"), std::string::npos) << nothing.out;
  const CmdResult missing = run_command(kCli + " explain --model " + model + " --input " + tmp.str("nope.txt"));
  EXPECT_NE(missing.rc, 0);
  EXPECT_NE(missing.out.find("nope.txt"), std::string::npos) << missing.out;
  write_file_atomic(tmp.str("empty.txt"), "\n\n");
  const CmdResult empty = run_command(kCli + " explain --model " + model + " --input " + tmp.str("empty.txt"));
  EXPECT_NE(empty.rc, 0);
  EXPECT_NE(empty.out.find("empty.txt: no texts"), std::string::npos) << empty.out;
  // --target by name explains that class.
  const CmdResult named = run_command(kCli + " explain --model " + model + " --target negative --json hello", false);
  ASSERT_EQ(named.rc, 0) << named.out;
  EXPECT_EQ(last_json_line(named.out).at("texts").at(0).at("explained_label"), "negative");
}
