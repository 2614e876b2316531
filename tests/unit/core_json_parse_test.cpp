// core/json_parse: the one JSON parse path of accent — nesting-depth limit (issue 19 item 1: 100,000 `[` used to
// overflow the stack), duplicate keys on request, and errors that name the origin.
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "core/error.h"
#include "core/json_parse.h"
#include "error_text.h"

namespace accent {
namespace {

using testing::error_of;

std::string nested(int levels) { return std::string(levels, '[') + std::string(levels, ']'); }


TEST(JsonParse, DeepNestingIsAClearErrorNotACrash) {
  // 100,000 levels: the sweep's crashing input, in both flavours, closed and unclosed.
  for (const std::string& text : {nested(100000), std::string(100000, '['), "{\"a\":" + nested(100000) + "}"}) {
    EXPECT_EQ(error_of([&] { parse_json(text, "f.json"); }), "f.json: JSON nests deeper than 128 levels");
    EXPECT_EQ(error_of([&] { parse_ordered_json(text, "f.jsonl:7"); }), "f.jsonl:7: JSON nests deeper than 128 levels");
  }
}

TEST(JsonParse, LimitIsExactlyMaxDepthLevels) {
  EXPECT_EQ(parse_json(nested(kMaxJsonDepth), "ok.json").dump().size(), 2u * kMaxJsonDepth);
  EXPECT_EQ(error_of([&] { parse_json(nested(kMaxJsonDepth + 1), "f.json"); }),
            "f.json: JSON nests deeper than 128 levels");
  JsonParseOptions o;
  o.max_depth = 3;
  EXPECT_NO_THROW(parse_json(R"({"a":{"b":[1]}})", "f.json", o));
  EXPECT_EQ(error_of([&] { parse_json(R"({"a":{"b":[[1]]}})", "f.json", o); }), "f.json: JSON nests deeper than 3 levels");
}

TEST(JsonParse, InvalidJsonNamesTheOrigin) {
  const std::string m = error_of([] { parse_json("{\"a\": }", "dir/config.json"); });
  EXPECT_EQ(m.rfind("dir/config.json: not valid JSON (", 0), 0u) << m;
  EXPECT_EQ(error_of([] { parse_json("", "empty.json"); }).rfind("empty.json: not valid JSON (", 0), 0u);
  EXPECT_NE(error_of([] { read_json_file("/nonexistent/x.json"); }).find("/nonexistent/x.json"), std::string::npos);
}

TEST(JsonParse, DuplicateKeysOnlyWhenAsked) {
  const std::string text = R"({"a": 1, "b": {"a": 2, "a": 3}})";
  EXPECT_EQ(parse_json(text, "f.json")["b"]["a"], 3);  // nlohmann's default: the last one wins
  JsonParseOptions o;
  o.reject_duplicate_keys = true;
  EXPECT_EQ(error_of([&] { parse_json(text, "f.json", o); }), "f.json: a JSON object has the key \"a\" twice");
  EXPECT_NO_THROW(parse_json(R"({"a": {"a": 1}, "b": [{"a": 1}, {"a": 2}]})", "f.json", o));
}

TEST(JsonParse, OrderedKeepsFileOrder) {
  const auto j = parse_ordered_json(R"({"z": 1, "a": 2})", "f.json");
  EXPECT_EQ(j.begin().key(), "z");
}

}  // namespace
}  // namespace accent
