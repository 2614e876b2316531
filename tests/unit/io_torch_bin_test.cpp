// Tests for io/torch_bin: state dicts written by torch.save (/usr/bin/python3, tests/reference/torch_bin_oracle.py)
// read back value for value, and hostile or unsupported files refused without executing anything.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>

#include "core/error.h"
#include "core/fs.h"
#include "io/torch_bin.h"

using namespace accent;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {
// One oracle run shared by the tests of this file (torch import is the slow part).
class TorchBinTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::random_device rd;
    dir_ = fs::temp_directory_path() / ("accent_io_torch_bin_" + std::to_string(rd()));
    const std::string cmd = "/usr/bin/python3 " + std::string(ACCENT_SOURCE_DIR) +
                            "/tests/reference/torch_bin_oracle.py write " + dir_.string();
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  static std::string file(const std::string& name) { return (dir_ / name).string(); }
  static fs::path dir_;
};
fs::path TorchBinTest::dir_;

void expect_matches_torch(const std::map<std::string, Tensor>& got, const json& expected, const std::string& file) {
  ASSERT_EQ(got.size(), expected.size()) << file;
  for (const auto& [name, info] : expected.items()) {
    ASSERT_TRUE(got.count(name)) << file << ": " << name;
    const Tensor& t = got.at(name);
    EXPECT_EQ(std::string(dtype_name(t.dtype())), info["dtype"].get<std::string>()) << name;
    EXPECT_EQ(t.shape(), info["shape"].get<Shape>()) << name;
    const Tensor t64 = t.to(DType::F64);
    const auto values = info["values"].get<std::vector<double>>();
    ASSERT_EQ(values.size(), static_cast<size_t>(t.numel())) << name;
    for (size_t i = 0; i < values.size(); ++i) EXPECT_EQ(t64.data_as<double>()[i], values[i]) << name << "[" << i << "]";
  }
}

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_F(TorchBinTest, ModuleStateDictWithViewsAndEveryDType) {
  const json expected = json::parse(read_file(file("expected.json")));
  expect_matches_torch(load_torch_bin(file("module.bin")), expected["module.bin"], "module.bin");
  expect_matches_torch(load_torch_bin(file("plain.bin")), expected["plain.bin"], "plain.bin");
}

TEST_F(TorchBinTest, ShardedDirectory) {
  const json expected = json::parse(read_file(file("expected.json")));
  expect_matches_torch(load_torch_bin_dir(file("sharded")), expected["plain.bin"], "sharded");
}

TEST_F(TorchBinTest, MaliciousPicklesAreRefusedAndNeverRun) {
  const std::string global = error_of([&] { load_torch_bin(file("evil_global.bin")); });
  EXPECT_NE(global.find("evil_global.bin"), std::string::npos) << global;
  EXPECT_NE(global.find("posix.system"), std::string::npos) << global;  // pickle spells os.system as posix.system
  EXPECT_NE(global.find("not allowed"), std::string::npos) << global;
  const std::string stack = error_of([&] { load_torch_bin(file("evil_stack.bin")); });
  EXPECT_NE(stack.find("builtins.exec"), std::string::npos) << stack;
  EXPECT_FALSE(fs::exists(dir_ / "pwned"));
}

TEST_F(TorchBinTest, UnsupportedAndCorruptFilesHaveClearErrors) {
  EXPECT_NE(error_of([&] { load_torch_bin(file("legacy.bin")); }).find("legacy"), std::string::npos);
  EXPECT_NE(error_of([&] { load_torch_bin(file("nope.bin")); }).find("no such file"), std::string::npos);
  // A truncated archive (central directory cut off).
  const std::string bytes = read_file(file("plain.bin"));
  write_file_atomic(file("truncated.bin"), bytes.substr(0, bytes.size() / 2));
  const std::string truncated = error_of([&] { load_torch_bin(file("truncated.bin")); });
  EXPECT_NE(truncated.find("truncated.bin"), std::string::npos) << truncated;
  EXPECT_FALSE(truncated.empty());
  EXPECT_NE(error_of([&] { load_torch_bin_dir(dir_.string()); }).find("no pytorch_model.bin"), std::string::npos);
}
