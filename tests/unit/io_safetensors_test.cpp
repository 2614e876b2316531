// Tests for io/safetensors: bit-exact round trips, interchange with an independent Python oracle
// (tests/reference/safetensors_oracle.py), every validation error, and sharded checkpoints.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "core/fs.h"
#include "io/safetensors.h"
#include "io/safetensors_dtype.h"
#include "test_util.h"

using namespace accent::testing;

using namespace accent;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {
const std::string kOracle = std::string(ACCENT_SOURCE_DIR) + "/tests/reference/safetensors_oracle.py";

Tensor random_tensor(DType dtype, Shape shape, std::mt19937& gen) {
  Tensor t(dtype, std::move(shape));
  auto* bytes = static_cast<unsigned char*>(t.data());
  for (size_t i = 0; i < t.nbytes(); ++i) bytes[i] = static_cast<unsigned char>(gen());
  if (dtype == DType::BOOL)
    for (size_t i = 0; i < t.nbytes(); ++i) bytes[i] &= 1;
  return t;
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// A file image from a header text and a data buffer of `data_size` bytes (header length taken as given).
std::string image(const std::string& header, size_t data_size, uint64_t declared_length = UINT64_MAX) {
  const uint64_t n = declared_length == UINT64_MAX ? header.size() : declared_length;
  std::string out;
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  return out + header + std::string(data_size, '\x01');
}

// Oracle values: numbers, or "inf"/"-inf"/"nan" for the values JSON cannot spell.
std::vector<double> oracle_values(const json& list) {
  std::vector<double> out;
  for (const auto& v : list) {
    if (v.is_number()) out.push_back(v.get<double>());
    else if (v == "inf") out.push_back(INFINITY);
    else if (v == "-inf") out.push_back(-INFINITY);
    else out.push_back(NAN);
  }
  return out;
}

bool same_value(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

// Expects open() to throw an error that names the file and contains `needle`.
void expect_open_error(const std::string& path, const std::string& needle) {
  try {
    SafetensorsFile::open(path);
    ADD_FAILURE() << "no error for " << path << " (expected: " << needle << ")";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    EXPECT_NE(msg.find(needle), std::string::npos) << "expected \"" << needle << "\" in: " << msg;
  }
}
}  // namespace

TEST(Safetensors, RoundTripIsBitExactForEveryCoreDType) {
  TempDir dir("rt");
  std::mt19937 gen(7);
  std::map<std::string, Tensor> tensors;
  const DType all[] = {DType::F32, DType::F16, DType::BF16, DType::F64, DType::I64, DType::I32, DType::I16,
                       DType::I8,  DType::U8,  DType::BOOL, DType::U16, DType::U32, DType::U64};
  int k = 0;
  for (DType d : all) tensors["t" + std::to_string(k++) + "." + std::string(dtype_name(d))] = random_tensor(d, {3, 5}, gen);
  tensors["scalar"] = Tensor::from_vector({}, {2.25f});
  tensors["empty"] = Tensor(DType::F32, {0, 3});
  tensors["unicode.é"] = random_tensor(DType::F32, {2}, gen);
  const std::string path = dir / "rt.safetensors";
  save_safetensors(path, tensors);
  auto file = SafetensorsFile::open(path);
  EXPECT_EQ(file->metadata().at("format"), "pt");
  ASSERT_EQ(file->names().size(), tensors.size());
  for (const auto& [name, t] : tensors) {
    const auto& e = file->entry(name);
    EXPECT_EQ(e.dtype, t.dtype()) << name;
    EXPECT_EQ(e.shape, t.shape()) << name;
    Tensor back = file->load(name, t.dtype());
    ASSERT_EQ(back.nbytes(), t.nbytes()) << name;
    EXPECT_EQ(std::memcmp(back.data(), t.data(), t.nbytes()), 0) << name;
  }
  // Header 8-aligned, data starts right after; the bytes written are what safetensors_bytes produces.
  const std::string bytes = read_file(path);
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  EXPECT_EQ(n % 8, 0u);
  EXPECT_EQ(bytes, safetensors_bytes(tensors));
}

TEST(Safetensors, HeaderLayoutMatchesReferenceWriter) {
  std::map<std::string, Tensor> tensors;
  tensors["b"] = Tensor(DType::F32, {2, 3});
  tensors["a"] = Tensor(DType::F16, {2});
  tensors["c"] = Tensor(DType::I64, {1});
  tensors["a32"] = Tensor(DType::F32, {1});
  const std::string bytes = safetensors_bytes(tensors);
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  const std::string header = bytes.substr(8, n);
  // Rank descending (I64 > F32 > F16), ties by name; compact JSON; space padding to 8.
  std::string expected =
      R"({"__metadata__":{"format":"pt"},"c":{"dtype":"I64","shape":[1],"data_offsets":[0,8]},)"
      R"("a32":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},)"
      R"("b":{"dtype":"F32","shape":[2,3],"data_offsets":[12,36]},)"
      R"("a":{"dtype":"F16","shape":[2],"data_offsets":[36,40]}})";
  expected.append((8 - expected.size() % 8) % 8, ' ');
  EXPECT_EQ(header, expected);
  EXPECT_EQ(bytes.size(), 8 + n + 40);
}

TEST(Safetensors, ReadsFileWrittenByPythonOracle) {
  TempDir dir("py_read");
  const std::string file_path = dir / "oracle.safetensors", expected_path = dir / "expected.json";
  run_capture("/usr/bin/python3 " + kOracle + " write " + file_path + " " + expected_path);
  const json expected = json::parse(read_file(expected_path));
  auto file = SafetensorsFile::open(file_path);
  EXPECT_EQ(file->metadata().at("format"), "pt");
  ASSERT_EQ(file->names().size(), expected.size());
  for (const auto& [name, info] : expected.items()) {
    ASSERT_TRUE(file->contains(name)) << name;
    const auto& e = file->entry(name);
    EXPECT_EQ(e.dtype_string, info["dtype"].get<std::string>()) << name;
    EXPECT_EQ(e.shape, info["shape"].get<Shape>()) << name;
    // Raw bytes identical to torch's.
    Tensor native = file->load(name, e.dtype);
    std::string hex;
    static const char* digits = "0123456789abcdef";
    for (size_t i = 0; i < native.nbytes(); ++i) {
      const auto b = static_cast<const unsigned char*>(native.data())[i];
      hex += digits[b >> 4];
      hex += digits[b & 15];
    }
    EXPECT_EQ(hex, info["hex"].get<std::string>()) << name;
    // Converted to F64 (exact for every type here) equals torch's values.
    Tensor as64 = file->load(name, DType::F64);
    const auto values = oracle_values(info["values"]);
    ASSERT_EQ(static_cast<size_t>(as64.numel()), values.size()) << name;
    for (size_t i = 0; i < values.size(); ++i)
      EXPECT_TRUE(same_value(as64.data_as<double>()[i], values[i])) << name << "[" << i << "]";
    // And the F32 conversion of half types (fast path) agrees.
    if (e.dtype == DType::F16 || e.dtype == DType::BF16) {
      Tensor as32 = file->load(name);
      for (size_t i = 0; i < values.size(); ++i)
        EXPECT_TRUE(same_value(as32.f32()[i], static_cast<float>(values[i]))) << name;
    }
  }
  // Re-saving what was read reproduces the oracle's file byte for byte (same layout rules).
  std::map<std::string, Tensor> tensors;
  for (const auto& name : file->names()) tensors[name] = file->load(name, file->entry(name).dtype);
  EXPECT_EQ(safetensors_bytes(tensors), read_file(file_path));
}

TEST(Safetensors, FileWrittenByAccentParsesInPythonOracle) {
  TempDir dir("py_write");
  std::mt19937 gen(11);
  std::map<std::string, Tensor> tensors;
  Tensor w(DType::F32, {4, 3});
  for (int i = 0; i < 12; ++i) w.f32()[i] = std::ldexp(static_cast<float>(static_cast<int>(gen() % 2001) - 1000), -7);
  tensors["encoder.w"] = w;
  tensors["encoder.w_bf16"] = w.to(DType::BF16);
  tensors["encoder.w_f16"] = w.to(DType::F16);
  tensors["ids"] = random_tensor(DType::I64, {2, 2}, gen);
  tensors["flags"] = random_tensor(DType::BOOL, {5}, gen);
  tensors["s"] = Tensor::from_vector({}, {-1.5f});
  const std::string path = dir / "accent.safetensors";
  save_safetensors(path, tensors, {{"format", "pt"}, {"note", "written by accent"}});
  const json parsed = json::parse(run_capture("/usr/bin/python3 " + kOracle + " read " + path));
  EXPECT_EQ(parsed["metadata"], (json{{"format", "pt"}, {"note", "written by accent"}}));
  EXPECT_EQ(parsed["header"].get<std::string>().rfind(R"({"__metadata__":{"format":"pt","note":"written by accent"},)", 0), 0u);
  ASSERT_EQ(parsed["tensors"].size(), tensors.size());
  for (const auto& [name, t] : tensors) {
    const json& info = parsed["tensors"][name];
    EXPECT_EQ(info["dtype"].get<std::string>(), std::string(dtype_name(t.dtype()))) << name;
    EXPECT_EQ(info["shape"].get<Shape>(), t.shape()) << name;
    Tensor t64 = t.to(DType::F64);
    const auto values = oracle_values(info["values"]);
    ASSERT_EQ(values.size(), static_cast<size_t>(t.numel())) << name;
    for (size_t i = 0; i < values.size(); ++i)
      EXPECT_TRUE(same_value(values[i], t64.data_as<double>()[i])) << name << "[" << i << "]";
  }
}

TEST(Safetensors, EveryCorruptionIsReportedWithItsCause) {
  TempDir dir("corrupt");
  auto write_case = [&](const std::string& name, const std::string& bytes) {
    const std::string path = dir / name;
    write_bytes(path, bytes);
    return path;
  };
  const std::string ok_header = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  // Sanity: the uncorrupted image opens.
  EXPECT_NO_THROW(SafetensorsFile::open(write_case("ok.safetensors", image(ok_header, 8))));

  expect_open_error(write_case("short.safetensors", std::string("\x10\x00\x00", 3)), "truncated");
  expect_open_error(write_case("past_end.safetensors", image(ok_header, 8, 4096)), "runs past the end");
  expect_open_error(write_case("huge.safetensors", image(ok_header, 8, 100'000'001ull)), "100,000,000");
  expect_open_error(write_case("not_brace.safetensors", image(R"(["a"])", 0)), "does not start with '{'");
  expect_open_error(write_case("bad_json.safetensors", image(R"({"a":{"dtype":"F32",)", 0)), "not valid JSON");
  expect_open_error(write_case("overlap.safetensors",
                               image(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                     R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8)),
                    "overlap");
  expect_open_error(write_case("gap.safetensors",
                               image(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                                     R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})", 12)),
                    "gap");
  expect_open_error(write_case("dtype.safetensors", image(R"({"a":{"dtype":"F33","shape":[2],"data_offsets":[0,8]}})", 8)),
                    "unknown dtype \"F33\"");
  expect_open_error(write_case("size.safetensors", image(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8)),
                    "needs 12 bytes");
  expect_open_error(write_case("dup.safetensors",
                               image(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                                     R"("a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8)),
                    "key \"a\" twice");
  expect_open_error(write_case("trailing.safetensors", image(ok_header, 12)), "data buffer holds 12");
  expect_open_error(write_case("short_data.safetensors", image(ok_header, 4)), "truncated");
  expect_open_error(write_case("meta.safetensors", image(R"({"__metadata__":{"format":1}})", 0)), "must be a string");
  expect_open_error(write_case("neg.safetensors", image(R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,0]}})", 0)),
                    "non-negative integer");
  expect_open_error(write_case("order.safetensors", image(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}})", 4)),
                    "end before begin");
  expect_open_error(dir / "missing.safetensors", "cannot open");
}

TEST(Safetensors, AcceptsPaddingAnyOrderAndF8) {
  TempDir dir("lenient");
  // Not 8-aligned header without padding, offsets listed out of order, F8 values decoded to f32.
  const std::string header =
      R"({"z":{"dtype":"F8_E4M3","shape":[4],"data_offsets":[4,8]},"y":{"dtype":"F8_E5M2","shape":[4],"data_offsets":[0,4]}})";
  std::string bytes = image(header, 0);
  // F8_E5M2: 1.0 = 0x3c, -2.0 = 0xc0, inf = 0x7c, 2^-16 (smallest subnormal) = 0x01
  // F8_E4M3: 1.0 = 0x38, 448 (max) = 0x7e, NaN = 0x7f, 2^-9 (smallest subnormal) = 0x01
  bytes += std::string("\x3c\xc0\x7c\x01\x38\x7e\x7f\x01", 8);
  const std::string path = dir / "f8.safetensors";
  write_bytes(path, bytes);
  auto file = SafetensorsFile::open(path);
  EXPECT_EQ(file->names(), (std::vector<std::string>{"y", "z"}));
  EXPECT_FALSE(file->entry("z").has_core_dtype);
  Tensor y = file->load("y"), z = file->load("z");
  EXPECT_EQ(y.f32()[0], 1.0f);
  EXPECT_EQ(y.f32()[1], -2.0f);
  EXPECT_TRUE(std::isinf(y.f32()[2]));
  EXPECT_EQ(y.f32()[3], std::ldexp(1.0f, -16));
  EXPECT_EQ(z.f32()[0], 1.0f);
  EXPECT_EQ(z.f32()[1], 448.0f);
  EXPECT_TRUE(std::isnan(z.f32()[2]));
  EXPECT_EQ(z.f32()[3], std::ldexp(1.0f, -9));
  // C64 is a known dtype (validated) that accent refuses to convert.
  const std::string c64 = dir / "c64.safetensors";
  write_bytes(c64, image(R"({"c":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}}   )", 8));
  auto cf = SafetensorsFile::open(c64);
  EXPECT_THROW(cf->load("c"), Error);
}

TEST(Safetensors, ParseShardSizeLikeTransformers) {
  EXPECT_EQ(parse_shard_size("5GB"), 5'000'000'000ull);
  EXPECT_EQ(parse_shard_size("10GB"), 10'000'000'000ull);
  EXPECT_EQ(parse_shard_size("200MB"), 200'000'000ull);
  EXPECT_EQ(parse_shard_size("1GiB"), 1ull << 30);
  EXPECT_EQ(parse_shard_size("3KiB"), 3ull << 10);
  EXPECT_EQ(parse_shard_size("8Mb"), 1'000'000ull);
  EXPECT_EQ(parse_shard_size("12345"), 12345ull);
  EXPECT_THROW(parse_shard_size("5 GB"), Error);
  EXPECT_THROW(parse_shard_size("lots"), Error);
}

TEST(Safetensors, ShardedCheckpointWriteAndRead) {
  TempDir dir("shards");
  // Sizes in bytes (F32 × 4): a 40, b 40, c 40, d 100, f 160, e 8 with max 100:
  // [a b] | c alone (c+d > 100) | [d] (d+e > 100) | [e]; f 160 > max gets its own shard immediately.
  NamedTensors tensors;
  std::mt19937 gen(3);
  auto add = [&](const std::string& name, int64_t n) { tensors.emplace_back(name, random_tensor(DType::F32, {n}, gen)); };
  add("a", 10);
  add("b", 10);
  add("c", 10);
  add("d", 25);
  add("f", 40);
  add("e", 2);
  // Leftovers of an earlier, bigger save that must disappear.
  write_bytes(dir / "model-00007-of-00009.safetensors", "stale");
  const auto files = save_safetensors_checkpoint(dir.path.string(), tensors, 100);
  const std::vector<std::string> expected_files = {"model-00001-of-00005.safetensors", "model-00002-of-00005.safetensors",
                                                   "model-00003-of-00005.safetensors", "model-00004-of-00005.safetensors",
                                                   "model-00005-of-00005.safetensors", "model.safetensors.index.json"};
  EXPECT_EQ(files, expected_files);
  EXPECT_FALSE(fs::exists(dir / "model-00007-of-00009.safetensors"));
  EXPECT_FALSE(fs::exists(dir / "model.safetensors"));
  const json index = json::parse(read_file(dir / "model.safetensors.index.json"));
  EXPECT_EQ(index["metadata"]["total_size"].get<uint64_t>(), 40u + 40 + 40 + 100 + 160 + 8);
  const json expected_map = {{"a", "model-00001-of-00005.safetensors"}, {"b", "model-00001-of-00005.safetensors"},
                             {"c", "model-00002-of-00005.safetensors"}, {"d", "model-00004-of-00005.safetensors"},
                             {"f", "model-00003-of-00005.safetensors"}, {"e", "model-00005-of-00005.safetensors"}};
  EXPECT_EQ(index["weight_map"], expected_map);
  // json.dumps(indent=2, sort_keys=True) + "\n" (checked through Python).
  const std::string python = run_capture("/usr/bin/python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1])), indent=2, sort_keys=True))' " +
                                         (dir / "model.safetensors.index.json"));
  EXPECT_EQ(read_file(dir / "model.safetensors.index.json"), python);

  auto ckpt = SafetensorsCheckpoint::open_dir(dir.path.string());
  EXPECT_EQ(ckpt.names().size(), tensors.size());
  for (const auto& [name, t] : tensors) {
    ASSERT_TRUE(ckpt.contains(name));
    Tensor back = ckpt.load(name);
    EXPECT_EQ(std::memcmp(back.data(), t.data(), t.nbytes()), 0) << name;
  }
  EXPECT_THROW(ckpt.load("nope"), Error);

  // Saving again small enough for one file replaces the shards and the index with model.safetensors.
  const auto single = save_safetensors_checkpoint(dir.path.string(), tensors, parse_shard_size("5GB"));
  EXPECT_EQ(single, std::vector<std::string>{"model.safetensors"});
  EXPECT_FALSE(fs::exists(dir / "model-00001-of-00005.safetensors"));
  EXPECT_FALSE(fs::exists(dir / "model.safetensors.index.json"));
  auto one = SafetensorsCheckpoint::open_dir(dir.path.string());
  EXPECT_EQ(one.names().size(), tensors.size());
}

TEST(Safetensors, CheckpointErrorsNameTheProblem) {
  TempDir dir("ckpt_err");
  try {
    SafetensorsCheckpoint::open_dir(dir.path.string());
    ADD_FAILURE() << "expected an error for an empty directory";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no model.safetensors"), std::string::npos) << e.what();
  }
  write_bytes(dir / "model.safetensors.index.json",
              R"({"metadata":{"total_size":8},"weight_map":{"w":"model-00001-of-00002.safetensors"}})");
  try {
    SafetensorsCheckpoint::open_dir(dir.path.string());
    ADD_FAILURE() << "expected an error for a missing shard";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("model-00001-of-00002.safetensors"), std::string::npos) << e.what();
  }
}

// Found by fuzz/safetensors_fuzz (fuzz/run.sh). The byte-span check multiplies numel by the dtype's width in bits;
// with 2^58 + 1 elements of F64 that product wrapped to 64 bits = 8 bytes, so a header promising 2^58 + 1 doubles
// backed by 8 bytes was accepted (and load() then asked for 2^61 bytes).
TEST(Safetensors, ElementCountTimesBitsMustNotWrap) {
  TempDir dir("st_wrap");
  const std::string header = R"({"t":{"dtype":"F64","shape":[288230376151711745],"data_offsets":[0,8]}})";
  write_bytes(dir / "wrap.safetensors", image(header, 8));
  expect_open_error(dir / "wrap.safetensors", "is too large");
  // Same with the count split over dimensions (2^29 · 2^29 · 1 = 2^58 elements of C64: 2^64 bits).
  const std::string split = R"({"t":{"dtype":"C64","shape":[536870912,536870912],"data_offsets":[0,0]}})";
  write_bytes(dir / "split.safetensors", image(split, 0));
  expect_open_error(dir / "split.safetensors", "is too large");
}

// Found by fuzzing with deep nesting: error messages dump() the offending JSON value, which recursed once per level
// and overflowed the stack for a header of a million nested arrays. Headers nesting deeper than serde_json's
// default recursion limit (128, the reference reader's parser) are now refused before anything is dumped.
TEST(Safetensors, DeeplyNestedHeaderIsRefusedNotAStackOverflow) {
  TempDir dir("st_deep");
  const size_t depth = 1'000'000;
  const std::string header =
      R"({"t":{"dtype":"F32","shape":)" + std::string(depth, '[') + std::string(depth, ']') + R"(,"data_offsets":[0,0]}})";
  write_bytes(dir / "deep.safetensors", image(header, 0));
  expect_open_error(dir / "deep.safetensors", "nests deeper than 128 levels");
  // 128 levels (header, __metadata__, 126 arrays) parse, and are refused for their content; 129 are too deep.
  auto nested_metadata = [](size_t arrays) {
    return R"({"__metadata__":{"k":)" + std::string(arrays, '[') + std::string(arrays, ']') + "}}";
  };
  write_bytes(dir / "128.safetensors", image(nested_metadata(126), 0));
  expect_open_error(dir / "128.safetensors", "must be a string");
  write_bytes(dir / "129.safetensors", image(nested_metadata(127), 0));
  expect_open_error(dir / "129.safetensors", "nests deeper than 128 levels");
}

TEST(Safetensors, FromBytesChecksLikeOpen) {
  TempDir dir("st_bytes");
  std::mt19937 gen(7);
  const std::map<std::string, Tensor> tensors = {{"a", random_tensor(DType::F16, {3, 2}, gen)},
                                                 {"b", random_tensor(DType::I64, {4}, gen)}};
  const std::string bytes = safetensors_bytes(tensors);
  const auto file = SafetensorsFile::from_bytes(bytes, "memory.safetensors");
  EXPECT_EQ(file->path(), "memory.safetensors");
  EXPECT_EQ(file->names().size(), 2u);
  for (const auto& [name, t] : tensors) {
    const Tensor got = file->load(name, t.dtype());
    ASSERT_EQ(got.nbytes(), t.nbytes());
    EXPECT_EQ(std::memcmp(got.data(), t.data(), t.nbytes()), 0) << name;
  }
  try {
    SafetensorsFile::from_bytes(bytes.substr(0, bytes.size() - 1), "cut.safetensors");
    ADD_FAILURE() << "truncated image accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cut.safetensors"), std::string::npos) << e.what();
  }
}
