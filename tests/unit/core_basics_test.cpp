// Tests for core/: dtype conversions, tensors, atomic file writes.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "core/base64.h"
#include "core/dtype.h"
#include "core/fs.h"
#include "core/tensor.h"

using namespace accent;

TEST(DType, Bf16RoundTripAndRounding) {
  EXPECT_EQ(bf16_to_f32(f32_to_bf16(1.0f)), 1.0f);
  EXPECT_EQ(bf16_to_f32(f32_to_bf16(-2.5f)), -2.5f);
  // 1 + 2^-8 is halfway between two bf16 values (1 and 1+2^-7): ties to even → 1.
  EXPECT_EQ(bf16_to_f32(f32_to_bf16(1.0f + std::ldexp(1.0f, -8))), 1.0f);
  EXPECT_TRUE(std::isnan(bf16_to_f32(f32_to_bf16(NAN))));
}

TEST(DType, F16RoundTripExhaustive) {
  // Every finite f16 bit pattern survives f16 → f32 → f16 exactly.
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float f = f16_to_f32(static_cast<uint16_t>(h));
    if (std::isnan(f)) continue;
    ASSERT_EQ(f32_to_f16(f), h) << "pattern " << h;
  }
  EXPECT_EQ(f16_to_f32(0x3c00), 1.0f);
  EXPECT_EQ(f16_to_f32(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(f32_to_f16(70000.0f), 0x7c00);
}

TEST(Tensor, ShapeAndConversion) {
  Tensor t = Tensor::from_vector({2, 3}, {1, 2, 3, 4, 5, 6});
  EXPECT_EQ(t.numel(), 6);
  EXPECT_EQ(shape_str(t.shape()), "[2, 3]");
  Tensor b = t.to(DType::BF16).to(DType::F32);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(b.f32()[i], t.f32()[i]);
  Tensor c = t.clone();
  c.f32()[0] = 42;
  EXPECT_EQ(t.f32()[0], 1);
  EXPECT_THROW(t.reshape({4}), Error);
  EXPECT_THROW(t.to(DType::I64).f32(), Error);
}

TEST(Base64, RoundTripPaddingAndCanonicalForm) {
  // RFC 4648 test vectors.
  const std::pair<const char*, const char*> vectors[] = {{"", ""},          {"f", "Zg=="},         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"},   {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(base64_encode(plain), encoded);
    EXPECT_EQ(base64_decode(encoded), std::optional<std::string>(plain));
  }
  const std::string bytes("\x00\xff\x10\x80", 4);
  EXPECT_EQ(base64_decode(base64_encode(bytes)), std::optional<std::string>(bytes));
  EXPECT_EQ(base64_decode("Zm9"), std::nullopt);    // not a multiple of 4
  EXPECT_EQ(base64_decode("Zm9-"), std::nullopt);   // outside the alphabet
  EXPECT_EQ(base64_decode("Zh=="), std::nullopt);   // unused bits set (only "Zg==" is canonical)
}

TEST(Fs, AtomicWriteReplacesWholeFile) {
  auto dir = std::filesystem::temp_directory_path() / "accent_core_test";
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "x.txt").string();
  write_file_atomic(path, "first");
  write_file_atomic(path, "second");
  EXPECT_EQ(read_file(path), "second");
  // A writer that fails leaves the old file and no temp files behind.
  EXPECT_THROW(write_file_atomic(path, [](std::ostream&) { fail("simulated failure"); }), Error);
  EXPECT_EQ(read_file(path), "second");
  int files = 0;
  for (auto& e : std::filesystem::directory_iterator(dir)) files += e.is_regular_file();
  EXPECT_EQ(files, 1);
  EXPECT_THROW(read_file((dir / "missing").string()), Error);
  std::filesystem::remove_all(dir);
}
