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
#include "error_text.h"

using namespace accent;
using accent::testing::error_of;
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

// ------------------------------------------------------------------------------------------ hostile archives
// Regressions for what fuzz/torch_bin_fuzz and fuzz/torch_pickle_fuzz found (fuzz/run.sh). The archives are built
// here byte by byte: a pickle (protocol 2) of one tensor with chosen storage/size/stride/offset, in a stored ZIP.
namespace {
void put_le(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// Stored ZIP (APPNOTE 4.3.7 / 4.3.12 / 4.3.16). `central_extra` is appended to every central-directory entry as its
// extra field; `zip64_markers` writes 0xffffffff as the central sizes (telling readers to look in that field).
std::string stored_zip(const std::vector<std::pair<std::string, std::string>>& records,
                       const std::string& central_extra = "", bool zip64_markers = false) {
  std::string zip, central;
  for (const auto& [name, bytes] : records) {
    const uint64_t offset = zip.size();
    zip += "PK\x03\x04";
    put_le(zip, 20, 2), put_le(zip, 0, 2), put_le(zip, 0, 2), put_le(zip, 0, 4), put_le(zip, 0, 4);
    put_le(zip, bytes.size(), 4), put_le(zip, bytes.size(), 4), put_le(zip, name.size(), 2), put_le(zip, 0, 2);
    zip += name + bytes;
    central += "PK\x01\x02";
    put_le(central, 20, 2), put_le(central, 20, 2), put_le(central, 0, 2), put_le(central, 0, 2);
    put_le(central, 0, 4), put_le(central, 0, 4);
    put_le(central, zip64_markers ? 0xffffffffu : bytes.size(), 4);
    put_le(central, zip64_markers ? 0xffffffffu : bytes.size(), 4);
    put_le(central, name.size(), 2), put_le(central, central_extra.size(), 2), put_le(central, 0, 2);
    put_le(central, 0, 2), put_le(central, 0, 2), put_le(central, 0, 4), put_le(central, offset, 4);
    central += name + central_extra;
  }
  const uint64_t cd_offset = zip.size();
  zip += central + "PK\x05\x06";
  put_le(zip, 0, 4), put_le(zip, records.size(), 2), put_le(zip, records.size(), 2);
  put_le(zip, central.size(), 4), put_le(zip, cd_offset, 4), put_le(zip, 0, 2);
  return zip;
}

std::string pickle_int(int64_t v) {  // LONG1 with 8 bytes
  std::string out = "\x8a\x08";
  put_le(out, static_cast<uint64_t>(v), 8);
  return out;
}
std::string pickle_str(const std::string& s) {  // BINUNICODE
  std::string out = "X";
  put_le(out, s.size(), 4);
  return out + s;
}
std::string pickle_int_tuple(const std::vector<int64_t>& v) {
  std::string out = "(";
  for (int64_t x : v) out += pickle_int(x);
  return out + "t";
}

// {name: _rebuild_tensor_v2(FloatStorage "0" of storage_numel elements, offset, size, stride, False, OrderedDict())}
std::string tensor_pickle(const std::string& name, int64_t storage_numel, int64_t offset,
                          const std::vector<int64_t>& size, const std::vector<int64_t>& stride) {
  return std::string("\x80\x02}(") + pickle_str(name) + "ctorch._utils\n_rebuild_tensor_v2\n(" + "(" +
         pickle_str("storage") + "ctorch\nFloatStorage\n" + pickle_str("0") + pickle_str("cpu") +
         pickle_int(storage_numel) + "tQ" + pickle_int(offset) + pickle_int_tuple(size) + pickle_int_tuple(stride) +
         "\x89" + "ccollections\nOrderedDict\n)R" + "tR" + "u.";
}

// An archive holding `pickle` as data.pkl and one 64-byte storage record (16 floats 0, 1, ..., 15).
std::string torch_archive(const std::string& pickle, const std::string& central_extra = "", bool zip64 = false) {
  std::string storage;
  for (int i = 0; i < 16; ++i) {
    const float f = static_cast<float>(i);
    storage.append(reinterpret_cast<const char*>(&f), 4);
  }
  return stored_zip({{"archive/data.pkl", pickle}, {"archive/byteorder", "little"}, {"archive/data/0", storage}},
                    central_extra, zip64);
}

// Writes `bytes` to a temporary file and returns load_torch_bin's error ("(no error)" when it loads).
std::string load_error(const std::string& bytes) {
  std::random_device rd;
  const fs::path path = fs::temp_directory_path() / ("accent_hostile_" + std::to_string(rd()) + ".bin");
  write_file_atomic(path.string(), bytes);
  const std::string error = error_of([&] { load_torch_bin(path.string()); });
  std::error_code ec;
  fs::remove(path, ec);
  return error;
}
}  // namespace

TEST(TorchBinHostile, ValidHandBuiltArchiveLoadsFromFileAndFromBytes) {
  // A transposed 2×3 view of the storage from offset 4: element (i, j) = storage[4 + i + 2j].
  const std::string bytes = torch_archive(tensor_pickle("w", 16, 4, {2, 3}, {1, 2}));
  EXPECT_EQ(load_error(bytes), "(no error)");
  const auto tensors = load_torch_bin_bytes(bytes, "memory.bin");
  ASSERT_EQ(tensors.count("w"), 1u);
  const Tensor& w = tensors.at("w");
  ASSERT_EQ(w.shape(), (Shape{2, 3}));
  const std::vector<float> expected = {4, 6, 8, 5, 7, 9};
  for (size_t k = 0; k < expected.size(); ++k) EXPECT_EQ(w.f32()[k], expected[k]) << k;
  EXPECT_NE(error_of([&] { load_torch_bin_bytes("not a zip", "memory.bin"); }).find("memory.bin"), std::string::npos);
}

// materialize() multiplied and added sizes, strides and offsets from the file in plain int64: a storage claiming
// 2^62 floats wrapped its byte count to 0 and passed the "record holds enough bytes" check, and a stride of 2^62
// wrapped "last element read" negative; both then copied from far outside the 64-byte record.
TEST(TorchBinHostile, OverflowingStorageSizesStridesAndShapesAreRefused) {
  const int64_t big = int64_t{1} << 62;
  const std::string storage = load_error(torch_archive(tensor_pickle("w", big, 0, {1000}, {1})));
  EXPECT_NE(storage.find("holds 64 bytes"), std::string::npos) << storage;
  const std::string stride = load_error(torch_archive(tensor_pickle("w", 16, 0, {4}, {big})));
  EXPECT_NE(stride.find("reads past the end of storage"), std::string::npos) << stride;
  const std::string offset = load_error(torch_archive(tensor_pickle("w", 16, INT64_MAX, {2}, {1})));
  EXPECT_NE(offset.find("reads past the end of storage"), std::string::npos) << offset;
  const std::string shape = load_error(torch_archive(tensor_pickle("w", 16, 0, {big, big}, {0, 0})));
  EXPECT_NE(shape.find("impossibly large shape"), std::string::npos) << shape;
  // Zero-element tensors stay fine whatever their stride.
  EXPECT_EQ(load_error(torch_archive(tensor_pickle("w", 16, 0, {0, 5}, {big, 1}))), "(no error)");
}

// A stride-0 view of one float as a 2^20 × 2^20 tensor (4 TiB once made contiguous) was allocated as asked.
// Expansions like BERT's position_ids (1, 512) from 512 elements still load.
TEST(TorchBinHostile, StrideZeroExpansionIsBounded) {
  const std::string huge = load_error(torch_archive(tensor_pickle("w", 16, 0, {1 << 20, 1 << 20}, {0, 0})));
  EXPECT_NE(huge.find("refusing to expand"), std::string::npos) << huge;
  const auto ok = load_torch_bin_bytes(torch_archive(tensor_pickle("w", 16, 0, {3, 16}, {0, 1})), "expand.bin");
  ASSERT_EQ(ok.at("w").shape(), (Shape{3, 16}));
  EXPECT_EQ(ok.at("w").f32()[16 + 5], 5.0f);
}

// Values were shared_ptrs owning each other: a list appended to itself (MEMOIZE, BINGET, APPEND) leaked (LSan
// report from fuzz/torch_bin_fuzz), and a million nested lists were destroyed recursively, overflowing the stack.
TEST(TorchBinHostile, CyclicAndDeeplyNestedPicklesAreRefusedCleanly) {
  const std::string cycle = load_error(torch_archive(std::string("\x80\x02]q\x00h\x00" "a.", 9)));
  EXPECT_NE(cycle.find("does not hold a dict"), std::string::npos) << cycle;
  std::string deep("\x80\x02]q\x00", 5);
  for (int i = 0; i < 1'000'000; ++i) deep += std::string("]h\x00" "aq\x00", 6);
  const std::string nested = load_error(torch_archive(deep + "."));
  EXPECT_NE(nested.find("does not hold a dict"), std::string::npos) << nested;
}

// A state-dict key that is not UTF-8 (pickle's BINUNICODE must be; torch.load raises) reached the safetensors
// writer, whose JSON header threw a non-accent exception (found by fuzz/torch_bin_fuzz's round trip).
TEST(TorchBinHostile, NonUtf8StringsAreRefused) {
  const std::string error = load_error(torch_archive(tensor_pickle("bad\xff", 16, 0, {2}, {1})));
  EXPECT_NE(error.find("not valid UTF-8"), std::string::npos) << error;
  for (const char* bad : {"\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82"})  // overlong, surrogate, >10FFFF, cut
    EXPECT_NE(load_error(torch_archive(tensor_pickle(bad, 16, 0, {2}, {1}))).find("UTF-8"), std::string::npos) << bad;
  EXPECT_EQ(load_error(torch_archive(tensor_pickle("w\xc3\xa9\xf0\x9f\x98\x80", 16, 0, {2}, {1}))), "(no error)");
}

// The ZIP64 extra field's length was trusted: a field claiming 0xfff0 bytes inside a 4-byte extra made the reader
// take sizes and offsets from whatever followed, up to past the end of the file.
TEST(TorchBinHostile, ZipExtraFieldMustStayInsideItsEntry) {
  std::string extra;
  put_le(extra, 0x0001, 2);
  put_le(extra, 0xfff0, 2);
  const std::string error = load_error(torch_archive(tensor_pickle("w", 16, 0, {2}, {1}), extra, true));
  EXPECT_NE(error.find("corrupt ZIP extra field"), std::string::npos) << error;
}
