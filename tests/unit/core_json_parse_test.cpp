// core/json_parse: the one JSON parse path of accent — nesting-depth limit (issue 19 item 1: 100,000 `[` used to
// overflow the stack), duplicate keys on request, and errors that name the origin.
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "core/error.h"
#include "core/json_number.h"
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

// nlohmann's get<int64_t>() casts whatever it holds: 1e300 is undefined behaviour, 2^64-1 wraps to -1, 2.5 becomes 2.
TEST(JsonNumber, IntegersAreCheckedBeforeConversion) {
  auto j = [](const char* text) { return parse_json(text, "f.json"); };
  EXPECT_EQ(json_integer(j("42"), "f.json: key \"r\""), 42);
  EXPECT_EQ(json_integer(j("3.0"), "k"), 3);  // Python's json may write an integral float
  EXPECT_EQ(json_integer(j("-9223372036854775808"), "k"), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(error_of([&] { json_integer(j("1e300"), "f.json: key \"r\""); }),
            "f.json: key \"r\": expected an integer in [-9223372036854775808, 9223372036854775807], got 1e+300");
  EXPECT_EQ(error_of([&] { json_integer(j("18446744073709551615"), "k", 0, 10); }),
            "k: expected an integer in [0, 10], got 18446744073709551615");
  EXPECT_EQ(error_of([&] { json_integer(j("2.5"), "k", 0, 10); }), "k: expected an integer in [0, 10], got 2.5");
  EXPECT_EQ(error_of([&] { json_integer(j("11"), "k", 0, 10); }), "k: expected an integer in [0, 10], got 11");
  EXPECT_EQ(error_of([&] { json_integer(j("\"7\""), "k", 0, 10); }), "k: expected an integer in [0, 10], got \"7\"");
  EXPECT_EQ(json_unsigned(j("18446744073709551615"), "k"), std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(error_of([&] { json_unsigned(j("-1"), "seed"); }), "seed: expected an unsigned integer, got -1");
  EXPECT_EQ(json_number(j("0.5"), "k"), 0.5);
  EXPECT_EQ(error_of([&] { json_number(j("null"), "k"); }), "k: expected a number, got null");
}

}  // namespace
}  // namespace accent
