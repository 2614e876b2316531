// Headless Chromium (Debian's chromium, installed by scripts/setup.sh --tests) for the tests that check HTML pages
// the way people see them: the DOM the browser built, its console, and screenshots.
#pragma once
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>

#include "core/fs.h"
#include "test_util.h"

namespace accent::testing {

inline std::string chromium_binary() {
  for (const char* p : {"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"})
    if (std::filesystem::exists(p)) return p;
  return "";
}

// A command line for headless chromium on a local file: no sandbox (tests run as root in CI), no GPU, console
// messages on stderr (as ":CONSOLE" lines), then `args` (--dump-dom, --screenshot=… ).
inline std::string chromium(const std::string& binary, const std::string& args, const std::string& page) {
  return "timeout 120 " + binary + " --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run " +
         "--disable-extensions --enable-logging=stderr --v=0 " + args + " file://" + page;
}

// Width and height from a PNG's IHDR chunk (bytes 16..23, big-endian).
inline std::pair<uint32_t, uint32_t> png_size(const std::string& bytes) {
  auto be32 = [&](size_t at) {
    return (uint32_t(uint8_t(bytes[at])) << 24) | (uint32_t(uint8_t(bytes[at + 1])) << 16) |
           (uint32_t(uint8_t(bytes[at + 2])) << 8) | uint32_t(uint8_t(bytes[at + 3]));
  };
  if (bytes.size() < 24 || bytes.compare(1, 3, "PNG") != 0) return {0, 0};
  return {be32(16), be32(20)};
}

// A screenshot of `page` for people, kept as build/screenshots/<name>.png; checks that the browser wrote a PNG of
// the asked size that is not near-empty (a page that did not render compresses to almost nothing).
inline void expect_screenshot(const std::string& browser, const std::string& page, const std::string& name,
                              uint32_t width, uint32_t height) {
  const std::filesystem::path shots = std::filesystem::path(ACCENT_CLI_PATH).parent_path() / "screenshots";
  std::filesystem::create_directories(shots);
  const std::string png = (shots / (name + ".png")).string();
  std::filesystem::remove(png);
  const CmdResult shot = run_command(chromium(browser, "--hide-scrollbars --window-size=" + std::to_string(width) + "," +
                                                           std::to_string(height) + " --screenshot=" + png, page));
  ASSERT_EQ(shot.rc, 0) << shot.out;
  const std::string bytes = read_file(png);
  EXPECT_EQ(png_size(bytes), (std::pair<uint32_t, uint32_t>{width, height}));
  EXPECT_GT(bytes.size(), 40000u) << "a near-empty screenshot: the page did not render";
}

}  // namespace accent::testing
