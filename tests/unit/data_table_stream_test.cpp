// Table files read as they stream (data/table_stream.h): the rows do not depend on how the bytes were cut into
// pieces, limits stop inputs without line ends early with a message naming the line, and a named pipe yields its
// first row before the writer has finished (issue 19 item 10).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <random>
#include <thread>

#include "core/error.h"
#include "core/fs.h"
#include "data/table_stream.h"
#include "test_util.h"

namespace accent {
namespace {

struct Parsed {
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> cells;
  std::vector<int64_t> lines;
  int64_t blank = 0, padded = 0, replaced = 0, replaced_lines = 0;
  std::string error;  // the message when parsing failed
  bool operator==(const Parsed&) const = default;
};

// Feeds `bytes` in pieces that end at `cuts` (ascending offsets), then finishes.
Parsed parse_in_pieces(const std::string& bytes, const std::string& path, const TableOptions& opt,
                       const std::vector<size_t>& cuts) {
  Parsed p;
  try {
    TableParser parser(path, opt);
    std::vector<TableRow> rows;
    size_t at = 0;
    for (size_t cut : cuts) {
      parser.feed(std::string_view(bytes).substr(at, cut - at), rows);
      at = cut;
    }
    parser.feed(std::string_view(bytes).substr(at), rows);
    parser.finish(rows);
    p.columns = parser.columns();
    for (TableRow& r : rows) {
      r.cells.resize(p.columns.size());  // JSON rows read before a later key appeared (as read_table pads them)
      p.cells.push_back(r.cells);
      p.lines.push_back(r.line);
    }
    p.blank = parser.blank_lines_skipped();
    p.padded = parser.padded_rows();
    p.replaced = parser.invalid_utf8_replaced();
    p.replaced_lines = parser.invalid_utf8_lines();
  } catch (const Error& e) {
    p.error = e.what();
  }
  return p;
}

struct Input {
  std::string bytes, path;
  TableOptions options;
};

std::vector<Input> inputs() {
  TableOptions replace;
  replace.replace_invalid_utf8 = true;
  TableOptions no_header;
  no_header.has_header = false;
  TableOptions quote_none;
  quote_none.quoting = false;
  return {
      {"\xEF\xBB\xBFtext,label\n\"hello, \"\"world\"\"\",1\r\n\"multi\r\nline\",0\rcr only,1\n\n  \n  x,0\n", "a.csv", {}},
      {"a,b\r\r,x\r,y\n\t\n1\n", "quirks.csv", {}},
      {"na\xC3\xAFve caf\xC3\xA9,1\n\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E,0\n\xF0\x9F\x98\x80 emoji,1", "u.csv", no_header},
      {"text,label\nbad \xff\xfe byte,1\n\xE2\x82,0\n\xED\xA0\x80 \xF4\x90\x80\x80,1\n\xF0\x9F\x98", "r.csv", replace},
      {"text,label\n\"never closed,1\nnext,0\n", "open.csv", {}},
      {"text,label\n\"never closed,1\nnext,0\n", "open_none.csv", quote_none},
      {"a,b\n1,2\n3,4,5\n", "wide.csv", {}},
      {"text\tlabel\nit 's \"good\"\t1\n\"tab\tin\"\t0\n", "t.tsv", {}},
      {"a movie\t1\r\n\"quoted\t0\n\nlast\t1", "u.txt", {}},
      {"{\"text\": \"a\", \"label\": 1}\n\n{\"text\": \"b\\u00e9\", \"label\": [1, 2], \"extra\": null}\r\n{\"x\": 3}", "d.jsonl", {}},
      {" \n\t[{\"text\": \"a\"}, {\"text\": \"b\", \"label\": 0.5}]\n", "arr.json", {}},
      {"\n  {\"text\": \"lines in a .json\"}\n{\"text\": \"two\"}\n", "lines.json", {}},
      {"{\"text\": \"ok\"}\n{\"text\": }\n", "bad.jsonl", {}},
      {"text\nok\n  caf\xC3\xA9 \xff\n", "bad_utf8.csv", {}},
      {"", "empty.csv", {}},
  };
}

TEST(TableStream, EveryWayOfCuttingTheBytesGivesTheSameRows) {
  std::mt19937 gen(7);
  for (const Input& in : inputs()) {
    SCOPED_TRACE(in.path);
    const Parsed whole = parse_in_pieces(in.bytes, in.path, in.options, {});
    // Pieces of every fixed size from 1 byte, then random cuts.
    for (size_t size = 1; size <= in.bytes.size(); ++size) {
      std::vector<size_t> cuts;
      for (size_t at = size; at < in.bytes.size(); at += size) cuts.push_back(at);
      EXPECT_EQ(parse_in_pieces(in.bytes, in.path, in.options, cuts), whole) << "pieces of " << size << " bytes";
    }
    for (int trial = 0; trial < 50 && !in.bytes.empty(); ++trial) {
      std::vector<size_t> cuts;
      for (size_t at = 0; at < in.bytes.size(); ++at)
        if (gen() % 5 == 0) cuts.push_back(at);
      EXPECT_EQ(parse_in_pieces(in.bytes, in.path, in.options, cuts), whole) << "random cuts, trial " << trial;
    }
  }
  // Spot checks of the whole parse (the pandas comparison is data_table_test's).
  const Parsed a = parse_in_pieces(inputs()[0].bytes, "a.csv", {}, {});
  EXPECT_EQ(a.columns, (std::vector<std::string>{"text", "label"}));
  EXPECT_EQ(a.cells, (std::vector<std::vector<std::string>>{
                         {"hello, \"world\"", "1"}, {"multi\r\nline", "0"}, {"cr only", "1"}, {"  x", "0"}}));
  EXPECT_EQ(a.lines, (std::vector<int64_t>{2, 3, 5, 8}));
  EXPECT_EQ(a.blank, 2);
  const Parsed r = parse_in_pieces(inputs()[3].bytes, "r.csv", inputs()[3].options, {});
  EXPECT_EQ(r.replaced, 11);  // Python: bytes.decode("utf-8", "replace").count("\ufffd") == 11
  EXPECT_EQ(parse_in_pieces(inputs()[4].bytes, "open.csv", {}, {}).error.rfind("open.csv:2:1: unterminated", 0), 0u);
  EXPECT_EQ(parse_in_pieces(inputs()[13].bytes, "bad_utf8.csv", {}, {}).error.rfind("bad_utf8.csv:3:8: invalid UTF-8", 0),
            0u);
  const Parsed j = parse_in_pieces(inputs()[9].bytes, "d.jsonl", {}, {});
  EXPECT_EQ(j.columns, (std::vector<std::string>{"text", "label", "extra", "x"}));
  EXPECT_EQ(j.cells, (std::vector<std::vector<std::string>>{
                         {"a", "1", "", ""}, {"b\xC3\xA9", "[1,2]", "", ""}, {"", "", "", "3"}}));
  EXPECT_EQ(j.lines, (std::vector<int64_t>{1, 3, 4}));
}

// Feeds `total` bytes made by `make(offset, piece)` in 1 MiB pieces and returns the error message ("" if none).
template <class Make>
std::string error_after_feeding(const std::string& path, size_t total, Make make, size_t* fed = nullptr) {
  TableParser parser(path, {});
  std::vector<TableRow> rows;
  std::string piece;
  size_t at = 0;
  try {
    while (at < total) {
      const size_t n = std::min<size_t>(size_t{1} << 20, total - at);
      piece.assign(n, ' ');
      make(at, piece);
      parser.feed(piece, rows);
      rows.clear();  // a consumer takes the rows: only the parser's own memory stays
      at += n;
    }
    parser.finish(rows);
  } catch (const Error& e) {
    if (fed) *fed = at;
    return e.what();
  }
  return "";
}

TEST(TableStream, InputWithoutLineEndsStopsAtTheRowLimitNamingTheLine) {
  const size_t limit = TableParser::kMaxRowBytes;
  size_t fed = 0;
  // A CSV whose second row never ends (what /dev/zero or a binary file looks like): stopped after ~16 MiB.
  std::string e = error_after_feeding("z.csv", 4 * limit, [](size_t at, std::string& p) {
    std::fill(p.begin(), p.end(), 'z');
    if (at == 0) p.replace(0, 7, "text\nab");
  }, &fed);
  EXPECT_EQ(e.rfind("z.csv:2: row longer than 16777216 bytes", 0), 0u) << e;
  EXPECT_LE(fed, limit + (size_t{1} << 20));
  // Inside an unclosed quote the message says where the quote opened.
  e = error_after_feeding("q.csv", 4 * limit, [](size_t at, std::string& p) {
    if (at == 0) p.replace(0, 10, "a,b\n1,\"xyz");
  });
  EXPECT_NE(e.find("q.csv:2: row longer than"), std::string::npos) << e;
  EXPECT_NE(e.find("quoted field opened at line 2"), std::string::npos) << e;
  // JSON Lines and raw TSV: one line.
  e = error_after_feeding("l.jsonl", 4 * limit, [](size_t at, std::string& p) {
    if (at == 0) p.replace(0, 15, "{\"text\": \"a\"}\n[");
  });
  EXPECT_EQ(e.rfind("l.jsonl:2: line longer than 16777216 bytes", 0), 0u) << e;
  e = error_after_feeding("l.txt", 4 * limit, [](size_t, std::string& p) { std::fill(p.begin(), p.end(), 'x'); });
  EXPECT_EQ(e.rfind("l.txt:1: line longer than", 0), 0u) << e;
  // A row of a million delimiters after a 2-field header is an error that counts them without keeping them.
  e = error_after_feeding("d.csv", (size_t{1} << 20) + 8, [](size_t at, std::string& p) {
    std::fill(p.begin(), p.end(), ',');
    if (at == 0) p.replace(0, 4, "a,b\n");
    else p.back() = '\n';
  });
  EXPECT_EQ(e.rfind("d.csv:2: expected 2 fields (like the first row) but this row has 1048580", 0), 0u) << e;
  // ... and as the first row, the field limit.
  e = error_after_feeding("f.csv", (size_t{1} << 20), [](size_t, std::string& p) { std::fill(p.begin(), p.end(), ','); });
  EXPECT_EQ(e.rfind("f.csv:1: more than 65536 fields in one row", 0), 0u) << e;
}

TEST(TableStream, AJsonArrayIsCappedAndJsonLinesAreNot) {
  size_t fed = 0;
  const std::string e = error_after_feeding("big.json", TableParser::kMaxJsonArrayBytes + (size_t{2} << 20),
                                            [](size_t at, std::string& p) {
                                              if (at == 0) p[0] = '[';
                                            },
                                            &fed);
  EXPECT_EQ(e.rfind("big.json: a JSON array larger than 256 MiB; write the records as JSON Lines", 0), 0u) << e;
  EXPECT_LE(fed, TableParser::kMaxJsonArrayBytes + (size_t{1} << 20));
}

// A named pipe whose writer sends one row and then waits: the reader gets that row before the writer goes on.
TEST(TableStream, ANamedPipeYieldsRowsBeforeTheWriterFinishes) {
  for (const std::string name : {"rows.csv", "rows.jsonl"}) {
    SCOPED_TRACE(name);
    testing::TempDir dir("table_stream_fifo");
    const std::string path = dir.file(name);
    ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
    const bool csv = name.ends_with(".csv");
    std::atomic<bool> first_row_read{false}, writer_saw_first_read{false};
    std::thread writer([&] {
      const int fd = ::open(path.c_str(), O_WRONLY);
      const std::string first = csv ? "text,label\nhello,1\n" : "{\"text\": \"hello\"}\n";
      (void)!::write(fd, first.data(), first.size());
      for (int i = 0; i < 500 && !first_row_read; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
      writer_saw_first_read = first_row_read.load();
      const std::string second = csv ? "bye,0\n" : "{\"text\": \"bye\"}\n";
      (void)!::write(fd, second.data(), second.size());
      ::close(fd);
    });
    TableStream stream(path, {});
    TableRow row;
    ASSERT_TRUE(stream.next(row));
    EXPECT_EQ(stream.parser().cell(row, "text", "text"), "hello");
    EXPECT_FALSE(stream.ready()) << "nothing more has been written yet";
    first_row_read = true;
    ASSERT_TRUE(stream.next(row));
    EXPECT_EQ(stream.parser().cell(row, "text", "text"), "bye");
    EXPECT_FALSE(stream.next(row));
    writer.join();
    EXPECT_TRUE(writer_saw_first_read) << "the first row was only read after the writer closed the pipe";
  }
}

TEST(TableStream, ErrorsNameTheFileAndRow) {
  testing::TempDir dir("table_stream_errors");
  try {
    TableStream s(dir.str(), TableOptions{.format = "csv"});
    ADD_FAILURE() << "a directory was opened";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), dir.str() + ": is a directory, expected a file");
  }
  write_file_atomic(dir.file("r.jsonl"), "{\"text\": \"a\"}\n{\"label\": 1}\n");
  TableStream s(dir.file("r.jsonl"), {});
  TableRow row;
  ASSERT_TRUE(s.next(row));
  EXPECT_EQ(s.parser().cell(row, "text", "text"), "a");
  ASSERT_TRUE(s.next(row));
  try {
    s.parser().cell(row, "text", "text");
    ADD_FAILURE() << "a record without the key gave a cell";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), dir.file("r.jsonl") + ":2: this record has no 'text' key (the text column)");
  }
  write_file_atomic(dir.file("h.csv"), "a,b\n");
  TableStream h(dir.file("h.csv"), {});
  EXPECT_FALSE(h.next(row));
  try {
    h.parser().check_column("text", "text");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), dir.file("h.csv") + ":1: no text column 'text'; columns found: 'a', 'b'");
  }
}

}  // namespace
}  // namespace accent
