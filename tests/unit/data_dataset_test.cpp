// Datasets: column choice, label typing and label maps as a Hugging Face script gets them through pandas,
// sklearn-identical splits of real files, and every bad-input error naming file:line.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/fs.h"
#include "data/dataset.h"
#include "data/label_map.h"
#include "data_test_util.h"
#include "error_text.h"

namespace accent {
namespace {

using testing::error_of;

using nlohmann::json;

const std::string kData = std::string(ACCENT_TEST_DATA_DIR) + "/";

struct LabelCase {
  std::string path;
  ReadOptions options;
  char sep;
  bool header;
  bool quoting;
  std::string label;  // column for pandas
};

// Compares label kind, label map, class ids and sklearn splits (plain and stratified) with the pandas/sklearn
// oracle for each case.
void compare_labels_with_oracle(const std::vector<LabelCase>& cases) {
  testing::TempDir dir("labels");
  json spec = json::array();
  for (const auto& c : cases)
    spec.push_back({{"path", c.path}, {"sep", std::string(1, c.sep)}, {"header", c.header}, {"quoting", c.quoting},
                    {"label", c.label}, {"seed", 42}, {"test_size", 0.1}});
  write_file_atomic(dir.file("cases.json"), spec.dump());
  testing::run_python_oracle("labels_oracle.py", dir.file("cases.json") + " " + dir.file("out.json"));
  const json out = json::parse(read_file(dir.file("out.json")));
  for (size_t k = 0; k < cases.size(); ++k) {
    SCOPED_TRACE(cases[k].path);
    const json& want = out[k];
    const Dataset d = read_dataset(cases[k].path, cases[k].options);
    if (want["dtype"] == "float64") {
      EXPECT_EQ(d.label_kind, LabelKind::Float);
      continue;
    }
    EXPECT_EQ(d.label_kind, want["dtype"] == "int64" ? LabelKind::Integer : LabelKind::String);
    const LabelMap map = build_label_map(d);
    EXPECT_EQ(map.id2label, want["label_list"].get<std::vector<std::string>>());
    EXPECT_EQ(encode_class_labels(d, map), want["ids"].get<std::vector<int64_t>>());
    // Splits: compare the rows chosen (as file lines -> row numbers) with sklearn's indices.
    auto rows_of = [&](const Dataset& part) {
      std::vector<int64_t> rows;
      std::map<int64_t, int64_t> row_of_line;
      for (size_t r = 0; r < d.rows.size(); ++r) row_of_line[d.rows[r].line] = static_cast<int64_t>(r);
      for (const Example& ex : part.rows) rows.push_back(row_of_line.at(ex.line));
      return rows;
    };
    const auto [train, val] = split_dataset(d, 0.1, 42);
    EXPECT_EQ(rows_of(train), want["split"][0].get<std::vector<int64_t>>());
    EXPECT_EQ(rows_of(val), want["split"][1].get<std::vector<int64_t>>());
    if (want["stratified"].is_object()) {
      EXPECT_THROW(split_dataset(d, 0.1, 42, &map), Error) << "sklearn: " << want["stratified"]["error"];
      continue;
    }
    const auto [strain, sval] = split_dataset(d, 0.1, 42, &map);
    EXPECT_EQ(rows_of(strain), want["stratified"][0].get<std::vector<int64_t>>());
    EXPECT_EQ(rows_of(sval), want["stratified"][1].get<std::vector<int64_t>>());
  }
}

TEST(DatasetOracle, RealFilesLabelsAndSplitsMatchPandasAndSklearn) {
  std::vector<LabelCase> cases;
  ReadOptions ag;  // AG News: no header; class index, title, description
  ag.has_header = false;
  ag.label_column = "0";
  ag.text_column = "1";
  ag.text_pair_column = "2";
  cases.push_back({kData + "topic/ag_news/test.csv", ag, ',', false, true, "0"});
  ReadOptions sst;
  sst.text_column = "sentence";
  cases.push_back({kData + "sentiment/sst2/dev.tsv", sst, '\t', true, true, "label"});
  cases.push_back({kData + "sentiment/sst2/train.tsv", sst, '\t', true, true, "label"});
  cases.push_back({kData + "sentiment/uci/yelp_labelled.txt", ReadOptions{}, '\t', false, false, "1"});
  compare_labels_with_oracle(cases);

  const Dataset agd = read_dataset(kData + "topic/ag_news/test.csv", ag);
  EXPECT_EQ(agd.rows.size(), 2000u);  // the first 2,000 of AG News test's 7,600 rows (tests/data/SOURCES.md)
  EXPECT_EQ(agd.rows[4].text_pair.has_value(), true);
  EXPECT_NE(agd.rows[4].text_pair->find("smog-fighting"), std::string::npos);
  EXPECT_EQ(agd.summary.to_string(), kData + "topic/ag_news/test.csv: 2000 rows read, 2000 kept");
}

TEST(DatasetOracle, GeneratedLabelTypesMatchPandasTyping) {
  testing::TempDir dir("labeltypes");
  const std::vector<std::string> files = {
      "text,label\na,10\nb,9\nc,1\nd,2\ne,10\nf,9\ng,1\nh,2\n",                 // ints sort numerically
      "text,label\na, 1\nb,+1\nc,01\nd,2 \ne,2\nf,3\ng,3\nh,-1\ni,-1\n",        // pandas int syntax
      "text,label\na,b\nb,a\nc,B\nd,é\ne,b\nf,a\ng,B\nh,é\ni,Z\nj,Z\n",         // code point order
      "text,label\na,1\nb,x\nc,1\nd,x\ne,10\nf,10\ng,9\nh,9\n",                 // mixed -> strings
      "text,label\na,0.5\nb,1\nc,2.25\nd,1e3\n",                                // floats -> regression
      "text,label\na,x\nb,y\nc,z\nd,x\n",                                       // too few rows to stratify
  };
  std::vector<LabelCase> cases;
  for (size_t i = 0; i < files.size(); ++i) {
    const std::string path = dir.file("labels" + std::to_string(i) + ".csv");
    write_file_atomic(path, files[i]);
    cases.push_back({path, ReadOptions{}, ',', true, true, "label"});
  }
  compare_labels_with_oracle(cases);
}


class DatasetFiles : public ::testing::Test {
 protected:
  testing::TempDir dir{"dataset"};
  std::string write(const std::string& name, const std::string& bytes) {
    write_file_atomic(dir.file(name), bytes);
    return dir.file(name);
  }
};

TEST_F(DatasetFiles, EmptyTextIsAnErrorOrCountedDrop) {
  const std::string p = write("e.csv", "text,label\nok,1\n,0\n\"\",1\nfine,0\n");
  EXPECT_EQ(error_of([&] { read_dataset(p, {}); }),
            p + ":3: empty text in column 'text' (--drop-empty-text skips such rows; they are counted)");
  ReadOptions o;
  o.drop_empty_text = true;
  const Dataset d = read_dataset(p, o);
  EXPECT_EQ(d.rows.size(), 2u);
  EXPECT_EQ(d.rows[1].line, 5);
  EXPECT_EQ(d.summary.dropped_empty_text, 2);
  EXPECT_EQ(d.summary.to_string(), p + ": 4 rows read, 2 kept; dropped 2 (empty text)");
}

TEST_F(DatasetFiles, MissingColumnListsTheColumnsFound) {
  const std::string p = write("m.csv", "sentence,y\nhi,1\n");
  EXPECT_EQ(error_of([&] { read_dataset(p, {}); }), p + ":1: no text column 'text'; columns found: 'sentence', 'y'");
  ReadOptions o;
  o.text_column = "sentence";
  EXPECT_EQ(error_of([&] { read_dataset(p, o); }), p + ":1: no label column 'label'; columns found: 'sentence', 'y'");
  ReadOptions nh;
  nh.has_header = false;
  EXPECT_EQ(error_of([&] { read_dataset(p, nh); }),
            p + ":1: no text column 'text'; columns found: '0', '1' (the file is read without a header row, so "
                "columns are numbered from 0)");
}

TEST_F(DatasetFiles, MissingLabelAndUnseenValidationLabel) {
  const std::string p = write("l.csv", "text,label\na,pos\nb,\nc,neg\n");
  EXPECT_EQ(error_of([&] { read_dataset(p, {}); }),
            p + ":3: empty label in column 'label' (--drop-missing-labels skips such rows; they are counted)");
  ReadOptions o;
  o.drop_missing_labels = true;
  const Dataset train = read_dataset(p, o);
  EXPECT_EQ(train.summary.dropped_missing_label, 1);
  const LabelMap map = build_label_map(train);
  EXPECT_EQ(map.id2label, (std::vector<std::string>{"neg", "pos"}));
  const std::string v = write("v.csv", "text,label\nx,pos\n\ny,neutral\n");
  const Dataset val = read_dataset(v, {});
  EXPECT_EQ(error_of([&] { encode_class_labels(val, map); }),
            v + ":4: label 'neutral' was not seen in the training data (known labels: 'neg', 'pos')");
}

TEST_F(DatasetFiles, InvalidUtf8IsAnErrorOrReplacedAndCounted) {
  const std::string p = write("u.csv", "text,label\nok,1\nbad \xff\xfe,0\n");
  const std::string want = p + ":3:5: invalid UTF-8 (byte 0xff); convert the file to UTF-8";
  EXPECT_EQ(error_of([&] { read_dataset(p, {}); }).substr(0, want.size()), want);
  ReadOptions o;
  o.replace_invalid_utf8 = true;
  const Dataset d = read_dataset(p, o);
  EXPECT_EQ(d.rows[1].text, "bad \xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(d.summary.to_string(), p + ": 2 rows read, 2 kept; replaced 2 invalid UTF-8 sequences with U+FFFD on 1 line");
}

TEST_F(DatasetFiles, JsonLinesLabelTypes) {
  const std::string ints = write("i.jsonl", "{\"text\": \"a\", \"label\": 2}\n{\"text\": \"b\", \"label\": 0}\n");
  EXPECT_EQ(read_dataset(ints, {}).label_kind, LabelKind::Integer);
  const std::string strs = write("s.jsonl", "{\"text\": \"a\", \"label\": \"2\"}\n{\"text\": \"b\", \"label\": \"10\"}\n");
  const Dataset s = read_dataset(strs, {});
  EXPECT_EQ(s.label_kind, LabelKind::String);  // JSON strings stay strings: sorted as text
  EXPECT_EQ(build_label_map(s).id2label, (std::vector<std::string>{"10", "2"}));
  const std::string floats = write("f.jsonl", "{\"text\": \"a\", \"label\": 1}\n{\"text\": \"b\", \"label\": 0.25}\n");
  const Dataset f = read_dataset(floats, {});
  EXPECT_EQ(f.label_kind, LabelKind::Float);
  EXPECT_EQ(regression_targets(f), (std::vector<float>{1.0f, 0.25f}));
  const std::string lists =
      write("l.jsonl", "{\"text\": \"a\", \"label\": [\"x\", \"y\"]}\n{\"text\": \"b\", \"label\": []}\n"
                       "{\"text\": \"c\", \"label\": [\"z\", \"x\"]}\n");
  const Dataset l = read_dataset(lists, {});
  EXPECT_EQ(l.label_kind, LabelKind::MultiLabel);
  const LabelMap lm = build_label_map(l);
  EXPECT_EQ(lm.id2label, (std::vector<std::string>{"x", "y", "z"}));
  EXPECT_EQ(encode_multi_labels(l, lm), (std::vector<float>{1, 1, 0, 0, 0, 0, 1, 0, 1}));
  const std::string mixed = write("x.jsonl", "{\"text\": \"a\", \"label\": 1}\n{\"text\": \"b\", \"label\": \"one\"}\n");
  EXPECT_EQ(error_of([&] { read_dataset(mixed, {}); }),
            mixed + ":2: label is a string but the label at " + mixed + ":1 is an integer; all labels must have one type");
  const std::string nontext = write("n.jsonl", "{\"text\": 5, \"label\": 1}\n");
  EXPECT_EQ(error_of([&] { read_dataset(nontext, {}); }), nontext + ":1: column 'text' must be a string, got number 5");
  const std::string pairs = write("p.json", "[{\"q\": \"a\", \"p\": \"b\", \"label\": 1}, {\"q\": \"c\", \"label\": 0}]");
  ReadOptions po;
  po.text_column = "q";
  po.text_pair_column = "p";
  const Dataset pd = read_dataset(pairs, po);
  EXPECT_EQ(pd.rows[0].text_pair.value(), "b");
  EXPECT_EQ(pd.rows[1].text_pair.value(), "");
  EXPECT_EQ(pd.where(1), pairs + ": record 2");
}

TEST_F(DatasetFiles, MultiLabelSeparatorAndForcedTypes) {
  const std::string p = write("ml.csv", "text,label\na,sports|news\nb,\nc, news | tech |\n");
  ReadOptions o;
  o.label_separator = "|";
  const Dataset d = read_dataset(p, o);
  EXPECT_EQ(d.label_kind, LabelKind::MultiLabel);
  EXPECT_EQ(d.rows[0].label.names, (std::vector<std::string>{"news", "sports"}));
  EXPECT_TRUE(d.rows[1].label.names.empty());
  EXPECT_EQ(d.rows[2].label.names, (std::vector<std::string>{"news", "tech"}));
  const std::string f = write("f.csv", "text,label\na,1\nb,oops\n");
  ReadOptions fo;
  fo.label_type = "float";
  EXPECT_EQ(error_of([&] { read_dataset(f, fo); }),
            f + ":3: label 'oops' is not a number (regression labels must be numbers)");
  const std::string c = write("c.csv", "text,label\na,0.5\nb,1.5\n");
  ReadOptions co;
  co.label_type = "class";
  EXPECT_EQ(read_dataset(c, co).label_kind, LabelKind::String);
  EXPECT_EQ(read_dataset(c, {}).label_kind, LabelKind::Float);
  ReadOptions none;
  none.label_column = "";
  EXPECT_EQ(read_dataset(c, none).label_kind, LabelKind::None);
}

// Issue 19 item 1: a CSV multi-label cell "[[[[…" is parsed as a JSON list — through the shared depth limit.
TEST_F(DatasetFiles, DeepJsonLabelCellIsAnErrorNamingTheLine) {
  const std::string p = write("deep.csv", "text,label\na,\"[\"\"x\"\"]\"\nb," + std::string(100000, '[') + "\n");
  ReadOptions o;
  o.label_type = "multi";
  EXPECT_EQ(error_of([&] { read_dataset(p, o); }),
            p + ":3: label cell starting with '[': JSON nests deeper than 128 levels");
}

}  // namespace
}  // namespace accent
