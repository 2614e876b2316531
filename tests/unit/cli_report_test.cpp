// `accent train` leaves report.html (issue 17's training report), checked in a real headless browser (Debian's
// chromium, installed by scripts/setup.sh --tests): the page loads from the file with no console message (no script
// error, nothing it tries to fetch), the DOM the browser built shows the run's own numbers (the confusion matrix of
// the final evaluation, one curve point per logged step), and a screenshot is taken into build/screenshots/ for people
// to look at. `--report-to none` writes no report.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
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

}  // namespace

TEST(CliReport, TrainWritesAReportThatABrowserShowsWithTheRunsNumbers) {
  const std::string browser = chromium_binary();
  ASSERT_FALSE(browser.empty()) << "chromium is needed for this test: scripts/setup.sh --tests installs it";
  TempDir tmp("cli_report");
  write_tiny_bert(tmp.path / "base");
  write_sst2_csv(tmp.path / "train.csv", 120);
  const std::string out_dir = tmp.str("out");
  const CmdResult r = run_command(kCli + " train --model " + tmp.str("base") + " --train-file " + tmp.str("train.csv") +
                                  " --output-dir " + out_dir + " --validation-split 0.25 --num-train-epochs 2 " +
                                  "--per-device-train-batch-size 16 --learning-rate 1e-3 --max-length 24 " +
                                  "--logging-steps 1 --progress none --json --seed 3", false);
  ASSERT_EQ(r.rc, 0) << r.out;
  const json out = last_json_line(r.out);
  const std::string page = out_dir + "/report.html";
  ASSERT_TRUE(fs::exists(page));
  const std::string html = read_file(page);
  EXPECT_EQ(html.find("<script"), std::string::npos);

  // The browser's DOM, and its console: any message (a script error, a blocked or failed load) fails the test.
  const std::string log_path = tmp.str("chromium.log");
  const CmdResult dom = run_command(chromium(browser, "--dump-dom", page) + " 2>" + log_path, false);
  ASSERT_EQ(dom.rc, 0) << read_file(log_path);
  const std::string log = read_file(log_path);
  EXPECT_EQ(log.find(":CONSOLE"), std::string::npos) << log;
  for (const char* id : {"summary", "curves", "evaluation", "confusion-matrix", "per-class", "data", "label-counts",
                         "settings", "timings"})
    EXPECT_NE(dom.out.find(std::string("id=\"") + id + "\""), std::string::npos) << id;

  // The confusion matrix in the DOM is the final evaluation's (the --json output's eval_report).
  const json cm = out.at("eval_report").at("confusion_matrix");
  const std::regex cell("data-row=\"([0-9]+)\" data-col=\"([0-9]+)\" style=\"[^\"]*\">([0-9]+)<");
  int cells = 0;
  for (std::sregex_iterator it(dom.out.begin(), dom.out.end(), cell), end; it != end; ++it, ++cells)
    EXPECT_EQ(std::stoi((*it)[3].str()), cm.at(std::stoi((*it)[1].str())).at(std::stoi((*it)[2].str())).get<int>());
  EXPECT_EQ(cells, 4);

  // One loss point per optimizer step (--logging-steps 1): 90 training rows / 16 = 6 steps per epoch, 2 epochs;
  // one eval-loss point per epoch.
  const std::regex points("data-series=\"([a-z ]+)\" data-points=\"([0-9]+)\"");
  std::map<std::string, int> counts;
  for (std::sregex_iterator it(dom.out.begin(), dom.out.end(), points), end; it != end; ++it)
    counts[(*it)[1].str()] = std::stoi((*it)[2].str());
  EXPECT_EQ(counts["train loss"], 12);
  EXPECT_EQ(counts["learning rate"], 12);
  EXPECT_EQ(counts["gradient norm"], 12);
  EXPECT_EQ(counts["eval loss"], 2);
  EXPECT_EQ(counts["accuracy"], 2);

  // A screenshot for people (kept in build/screenshots/).
  expect_screenshot(browser, page, "training_report", 1280, 2800);
}

TEST(CliReport, ReportToNoneWritesNoReport) {
  TempDir tmp("cli_report_none");
  write_tiny_bert(tmp.path / "base");
  write_sst2_csv(tmp.path / "train.csv", 40);
  const CmdResult r = run_command(kCli + " train --model " + tmp.str("base") + " --train-file " + tmp.str("train.csv") +
                                  " --output-dir " + tmp.str("out") + " --max-steps 2 --max-length 16 " +
                                  "--progress none --report-to none");
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_TRUE(fs::exists(tmp.path / "out" / "config.json"));
  EXPECT_FALSE(fs::exists(tmp.path / "out" / "report.html"));
  const CmdResult bad = run_command(kCli + " train --model " + tmp.str("base") + " --train-file " + tmp.str("train.csv") +
                                    " --output-dir " + tmp.str("out2") + " --report-to wandb");
  EXPECT_NE(bad.rc, 0);
  EXPECT_NE(bad.out.find("--report-to"), std::string::npos) << bad.out;
}
