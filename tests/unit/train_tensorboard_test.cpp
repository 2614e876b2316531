// --report-to tensorboard (train/tensorboard_writer.h): the event files `accent train` writes are read back by an
// independent reader (tests/reference/tfevents_read.py: a bitwise CRC-32C from its definition, Google's protobuf
// library decoding event.proto's messages) and must hold what transformers' TensorBoardCallback logs — the
// arguments and config as text, then every log_history entry of trainer_state.json as scalars under rewrite_logs'
// names at its global step.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "cli_test_data.h"
#include "core/fs.h"
#include "test_util.h"
#include "train/tensorboard_writer.h"

using namespace accent;
using namespace accent::testing;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

const std::string kCli = ACCENT_CLI_PATH;

std::vector<fs::path> event_files(const fs::path& dir) {
  std::vector<fs::path> out;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.path().filename().string().rfind("events.out.tfevents.", 0) == 0) out.push_back(e.path());
  return out;
}

json read_events(const fs::path& file) {
  const CmdResult r = run_command("/usr/bin/python3 " + std::string(ACCENT_SOURCE_DIR) +
                                  "/tests/reference/tfevents_read.py " + file.string(), false);
  EXPECT_EQ(r.rc, 0) << r.out;
  return last_json_line(r.out).at("events");
}

}  // namespace

TEST(TensorBoard, Crc32cCheckValue) {
  EXPECT_EQ(crc32c("123456789", 9), 0xE3069283u);  // the CRC-32C catalogue's check value
  EXPECT_EQ(crc32c("", 0), 0u);
  const uint32_t c = crc32c("abc", 3);
  EXPECT_EQ(masked_crc32c("abc", 3), ((c >> 15) | (c << 17)) + 0xa282ead8u);
}

TEST(TensorBoard, TrainWritesWhatTheTensorBoardCallbackLogs) {
  TempDir tmp("tensorboard");
  write_tiny_bert(tmp.path / "base");
  write_sst2_csv(tmp.path / "train.csv", 80);
  const std::string out = tmp.str("out"), logs = tmp.str("tb");
  const CmdResult r = run_command(kCli + " train --model " + tmp.str("base") + " --train-file " + tmp.str("train.csv") +
                                  " --output-dir " + out + " --validation-split 0.2 --num-train-epochs 2 " +
                                  "--per-device-train-batch-size 16 --max-length 16 --logging-steps 1 --progress none " +
                                  "--report-to tensorboard --logging-dir " + logs);
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_FALSE(fs::exists(fs::path(out) / "report.html")) << "html was not asked for";
  const auto files = event_files(logs);
  ASSERT_EQ(files.size(), 1u);
  const std::string name = files[0].filename().string();
  EXPECT_EQ(name.substr(0, 20), "events.out.tfevents.");
  EXPECT_EQ(name.substr(name.size() - 2), ".0");
  const json events = read_events(files[0]);
  ASSERT_GT(events.size(), 3u);
  EXPECT_EQ(events[0].at("file_version"), "brain.Event:2");

  // Text first: the arguments (training_args.json's values) and config.json.
  std::map<std::string, json> text;
  std::map<std::string, std::map<int64_t, double>> scalars;
  for (const json& e : events)
    for (const json& v : e.at("values")) {
      if (v.contains("text")) {
        EXPECT_EQ(v.at("plugin"), "text");
        EXPECT_EQ(v.at("dtype").get<int>(), 7);
        EXPECT_EQ(v.at("shape"), json::array({1}));
        text[v.at("tag").get<std::string>()] = json::parse(v.at("text").at(0).get<std::string>());
      } else {
        scalars[v.at("tag").get<std::string>()][e.at("step").get<int64_t>()] = v.at("simple_value").get<double>();
      }
    }
  ASSERT_TRUE(text.count("args/text_summary"));
  ASSERT_TRUE(text.count("model_config/text_summary"));
  const json saved_args = json::parse(read_file(out + "/training_args.json"));
  EXPECT_EQ(text["args/text_summary"].at("learning_rate"), saved_args.at("learning_rate"));
  EXPECT_EQ(text["args/text_summary"].at("logging_dir"), logs);
  EXPECT_EQ(text["model_config/text_summary"].at("hidden_size").get<int>(), 32);

  // Every numeric log_history entry, rewrite_logs' name, at its step (float precision: simple_value is a float).
  const json state = json::parse(read_file(out + "/trainer_state.json"));
  size_t compared = 0;
  for (const json& entry : state.at("log_history")) {
    const int64_t step = entry.at("step").get<int64_t>();
    for (const auto& [key, value] : entry.items()) {
      if (key == "step" || !value.is_number()) continue;
      const std::string tag = key.rfind("eval_", 0) == 0 ? "eval/" + key.substr(5) : "train/" + key;
      ASSERT_TRUE(scalars[tag].count(step)) << tag << " at step " << step;
      const double v = value.get<double>();
      EXPECT_NEAR(scalars[tag][step], v, 1e-6 * std::max(1.0, std::fabs(v))) << tag << " at step " << step;
      ++compared;
    }
  }
  // 64 training rows / 16 = 4 steps per epoch, 2 epochs: a loss per step, an evaluation per epoch.
  EXPECT_EQ(scalars["train/loss"].size(), 8u);
  EXPECT_EQ(scalars["train/learning_rate"].size(), 8u);
  EXPECT_EQ(scalars["train/grad_norm"].size(), 8u);
  EXPECT_EQ(scalars["eval/loss"].size(), 2u);
  EXPECT_EQ(scalars["eval/accuracy"].size(), 2u);
  EXPECT_GT(compared, 40u);
}

TEST(TensorBoard, DefaultLogDirAndBadValues) {
  TempDir tmp("tensorboard_default");
  write_tiny_bert(tmp.path / "base");
  write_sst2_csv(tmp.path / "train.csv", 40);
  const std::string out = tmp.str("out");
  const CmdResult r = run_command(kCli + " train --model " + tmp.str("base") + " --train-file " + tmp.str("train.csv") +
                                  " --output-dir " + out + " --max-steps 2 --max-length 16 --progress none " +
                                  "--report-to html,tensorboard");
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_TRUE(fs::exists(fs::path(out) / "report.html"));
  const auto files = event_files(fs::path(out) / "runs");
  ASSERT_EQ(files.size(), 1u) << "transformers' default: OUTPUT_DIR/runs/<date>_<host>/";
  EXPECT_EQ(files[0].parent_path().parent_path(), fs::path(out) / "runs");
  EXPECT_GT(read_events(files[0]).size(), 3u);

  for (const char* bad : {"wandb", "none,html", "html,"}) {
    const CmdResult b = run_command(kCli + " train --model " + tmp.str("base") + " --train-file " +
                                    tmp.str("train.csv") + " --output-dir " + tmp.str("bad") + " --report-to " + bad);
    EXPECT_NE(b.rc, 0) << bad;
    EXPECT_NE(b.out.find("report_to"), std::string::npos) << b.out;
  }
}
