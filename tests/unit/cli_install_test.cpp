// The installed library (issue 18): `cmake --install` of this build into a fresh prefix, then examples/cpp — a
// separate CMake project with find_package(accent) → accent::accent — is configured, built and run against it:
// it fine-tunes a tiny model through accent::api::train (its progress callback prints every log entry), classifies
// with TextClassifier and tokenizes with Tokenizer, and its answers equal the `accent` CLI's. The same program is
// also built with nothing but `pkg-config --cflags --libs accent`.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <nlohmann/json.hpp>

#include "cli_test_data.h"
#include "test_util.h"

using namespace accent::testing;
namespace fs = std::filesystem;

namespace {

const std::string kCli = ACCENT_CLI_PATH;

// "text\tlabel=score\t..." lines of accent_example classify → label → score, per text.
std::map<std::string, double> scores_of_line(const std::string& line) {
  std::map<std::string, double> out;
  std::istringstream fields(line);
  std::string field;
  std::getline(fields, field, '\t');  // the text
  while (std::getline(fields, field, '\t')) {
    const size_t eq = field.rfind('=');
    out[field.substr(0, eq)] = std::stod(field.substr(eq + 1));
  }
  return out;
}

}  // namespace

TEST(CliInstall, AProgramBuiltAgainstTheInstalledPackageTrainsClassifiesAndTokenizes) {
  TempDir tmp("install");
  const std::string build_dir = fs::path(kCli).parent_path().string();
  const std::string prefix = tmp.str("prefix");
  CmdResult r = run_command("cmake --install " + build_dir + " --prefix " + prefix);
  ASSERT_EQ(r.rc, 0) << r.out;
  for (const char* f : {"include/accent/accent.h", "lib/cmake/accent/accentConfig.cmake",
                        "lib/cmake/accent/accentTargets.cmake", "lib/pkgconfig/accent.pc", "lib/libaccent_api.a",
                        "bin/accent"})
    EXPECT_TRUE(fs::exists(fs::path(prefix) / f)) << f;
  // Nothing internal is installed as a header: the API is accent/accent.h alone.
  EXPECT_EQ(std::distance(fs::recursive_directory_iterator(fs::path(prefix) / "include"),
                          fs::recursive_directory_iterator()),
            2);  // include/accent and include/accent/accent.h

  const std::string example = std::string(ACCENT_SOURCE_DIR) + "/examples/cpp";
  r = run_command("cmake -S " + example + " -B " + tmp.str("example") + " -G Ninja -DCMAKE_BUILD_TYPE=Release " +
                  "-DCMAKE_PREFIX_PATH=" + prefix + " && cmake --build " + tmp.str("example"));
  ASSERT_EQ(r.rc, 0) << r.out;
  const std::string program = tmp.str("example/accent_example");

  // Train through the API: 4 steps, a log entry per step from the callback, then the final evaluation.
  write_tiny_bert(tmp.path / "base", TinyBert{16, 1, 32, 32});
  write_sst2_csv(tmp.path / "train.csv", 40);
  r = run_command(program + " train " + tmp.str("base") + " " + tmp.str("train.csv") + " " + tmp.str("out") + " 4");
  ASSERT_EQ(r.rc, 0) << r.out;
  for (int step = 1; step <= 4; ++step)
    EXPECT_NE(r.out.find("log step=" + std::to_string(step) + " "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("learning_rate="), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("trained 4 steps"), std::string::npos) << r.out;
  ASSERT_TRUE(fs::exists(tmp.path / "out/model.safetensors"));

  // Classify: the API's scores are the CLI's (same fp32 path, one thread).
  r = run_command(program + " classify " + tmp.str("out") + " 'a fine film' 'dull and slow'", false);
  ASSERT_EQ(r.rc, 0) << r.out;
  const CmdResult cli = run_command("ACCENT_PRECISION=fp32 " + kCli + " predict --threads 1 --device cpu -m " +
                                    tmp.str("out") + " --top-k all 'a fine film' 'dull and slow'", false);
  ASSERT_EQ(cli.rc, 0) << cli.out;
  std::istringstream api_lines(r.out), cli_lines(cli.out);
  std::string api_line, cli_line;
  int compared = 0;
  while (std::getline(api_lines, api_line) && std::getline(cli_lines, cli_line)) {
    const auto api_scores = scores_of_line(api_line);
    const nlohmann::json want = nlohmann::json::parse(cli_line);
    ASSERT_EQ(api_scores.size(), want.size()) << api_line << "\n" << cli_line;
    for (const auto& s : want) {
      ASSERT_TRUE(api_scores.count(s["label"])) << api_line;
      EXPECT_NEAR(api_scores.at(s["label"]), s["score"].get<double>(), 1e-6) << api_line << "\n" << cli_line;
    }
    ++compared;
  }
  EXPECT_EQ(compared, 2) << r.out << "\n" << cli.out;

  // Tokenize: the API's ids are `accent tokenize`'s.
  r = run_command(program + " tokenize " + tmp.str("out") + " 'Hello, world!'", false);
  ASSERT_EQ(r.rc, 0) << r.out;
  {
    std::ofstream(tmp.path / "line.txt") << "Hello, world!\n";
  }
  const CmdResult ids = run_command(kCli + " tokenize --model " + tmp.str("out") + " --input " + tmp.str("line.txt"),
                                    false);
  ASSERT_EQ(ids.rc, 0) << ids.out;
  std::string api_ids;
  std::istringstream pieces(r.out);
  std::string piece;
  while (pieces >> piece) api_ids += (api_ids.empty() ? "" : ",") + piece.substr(0, piece.find(':'));
  EXPECT_EQ("[" + api_ids + "]", nlohmann::json::parse(ids.out).dump()) << r.out << "\n" << ids.out;

  // The same program with only pkg-config's flags.
  r = run_command("g++ -O1 " + example + "/accent_example.cpp -o " + tmp.str("pc_example") + " $(PKG_CONFIG_PATH=" +
                  prefix + "/lib/pkgconfig pkg-config --cflags --libs accent)");
  ASSERT_EQ(r.rc, 0) << r.out;
  const CmdResult pc = run_command(tmp.str("pc_example") + " classify " + tmp.str("out") + " 'a fine film'", false);
  ASSERT_EQ(pc.rc, 0) << pc.out;
  const CmdResult cm = run_command(program + " classify " + tmp.str("out") + " 'a fine film'", false);
  EXPECT_NE(pc.out.find("a fine film\t"), std::string::npos) << pc.out;
  EXPECT_EQ(pc.out, cm.out);
}
