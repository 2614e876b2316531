// data/table_stream.cpp — see table_stream.h.
#include "data/table_stream.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "core/error.h"
#include "core/json_parse.h"
#include "data/delimited.h"
#include "data/utf8_stream.h"

namespace accent {

// '\n'-terminated lines (tsv-raw, JSON Lines) from text in pieces; a line over the limit is an error naming it.
class TableParser::LineSplitter {
 public:
  LineSplitter(const std::string& path, size_t max_bytes) : path_(path), max_(max_bytes) {}

  template <class OnLine>
  void feed(std::string_view text, OnLine&& on_line) {
    while (!text.empty()) {
      const size_t nl = text.find('\n');
      const size_t take = nl == std::string_view::npos ? text.size() : nl;
      ACCENT_CHECK(partial_.size() + take <= max_, path_, ":", line_ + 1, ": line longer than ", max_,
                   " bytes, the limit for one row (is this a file with one record per line?)");
      if (nl == std::string_view::npos) {
        partial_.append(text);
        return;
      }
      ++line_;
      if (partial_.empty()) {
        on_line(text.substr(0, nl), line_);
      } else {
        partial_.append(text.substr(0, nl));
        on_line(std::string_view(partial_), line_);
        partial_.clear();
      }
      text.remove_prefix(nl + 1);
    }
  }
  template <class OnLine>
  void finish(OnLine&& on_line) {
    if (partial_.empty()) return;
    ++line_;
    const std::string last = std::move(partial_);
    partial_.clear();
    on_line(std::string_view(last), line_);
  }

 private:
  std::string path_;
  size_t max_;
  std::string partial_;  // the current line's bytes so far
  int64_t line_ = 0;
};

struct TableParser::Stages {
  Utf8Stream utf8;
  std::optional<DelimitedReader> delimited;   // csv, tsv
  std::optional<LineSplitter> lines;          // tsv-raw, jsonl, json as lines
  std::vector<DelimitedRow> delimited_rows;   // scratch
};

TableParser::TableParser(std::string path, const TableOptions& options)
    : path_(std::move(path)), options_(options) {
  format_ = resolve_table_format(path_, options.format);
  s_ = std::make_unique<Stages>(Stages{
      Utf8Stream(path_, options.replace_invalid_utf8,
                 "; convert the file to UTF-8, or pass --replace-invalid-utf8 to replace bad bytes with U+FFFD "
                 "(counted)"),
      std::nullopt, std::nullopt, {}});
  if (format_ == "csv" || format_ == "tsv") {
    has_header_ = options.has_header.value_or(true);
    DelimitedOptions d;
    d.delimiter = format_ == "csv" ? ',' : '\t';
    d.quoting = options.quoting;
    d.max_row_bytes = kMaxRowBytes;
    d.max_fields = kMaxColumns;
    s_->delimited.emplace(d, path_);
  } else {
    has_header_ = format_ == "tsv-raw" ? options.has_header.value_or(false) : true;
    s_->lines.emplace(path_, kMaxRowBytes);
    if (format_ == "tsv-raw") columns_ = {"text", "label"};
  }
  header_pending_ = has_header_ && format_ != "jsonl" && format_ != "json";
}

TableParser::~TableParser() = default;

int64_t TableParser::column_index(const std::string& name) const {
  if (format_ == "jsonl" || format_ == "json") {
    const auto it = column_of_.find(name);
    return it == column_of_.end() ? -1 : static_cast<int64_t>(it->second);
  }
  for (size_t i = 0; i < columns_.size(); ++i)
    if (columns_[i] == name) return static_cast<int64_t>(i);
  return -1;
}

const std::string& TableParser::cell(const TableRow& row, const std::string& name, const std::string& role) const {
  check_column(name, role);
  const int64_t i = column_index(name);
  if (format_ == "jsonl" || format_ == "json")
    ACCENT_CHECK(i >= 0 && row.record.contains(name), where(row), ": this record has no '", name, "' key (the ",
                 role, " column)");
  return row.cells[static_cast<size_t>(i)];
}

void TableParser::check_column(const std::string& name, const std::string& role) const {
  if (format_ == "jsonl" || format_ == "json" || column_index(name) >= 0) return;
  fail_missing_column(path_, columns_, name, role, !has_header_ && format_ != "tsv-raw", false);
}

std::string TableParser::where(const TableRow& row) const {
  return json_array_ ? path_ + ": record " + std::to_string(row.line) : path_ + ":" + std::to_string(row.line);
}

int64_t TableParser::blank_lines_skipped() const {
  return s_->delimited ? s_->delimited->blank_lines_skipped() : raw_blank_lines_;
}
int64_t TableParser::padded_rows() const { return s_->delimited ? s_->delimited->padded_rows() : 0; }
int64_t TableParser::invalid_utf8_replaced() const { return s_->utf8.replaced(); }
int64_t TableParser::invalid_utf8_lines() const { return s_->utf8.lines_with_replacements(); }

void TableParser::feed(std::string_view bytes, std::vector<TableRow>& rows) {
  if (!bom_checked_) {  // hold the first 3 bytes until it is known whether they are a UTF-8 BOM
    const size_t take = std::min(bytes.size(), 3 - head_.size());
    head_.append(bytes.substr(0, take));
    bytes.remove_prefix(take);
    if (head_.size() < 3) return;
    bom_checked_ = true;
    decode(head_ == "\xEF\xBB\xBF" ? std::string_view() : std::string_view(head_), rows);
  }
  decode(bytes, rows);
}

void TableParser::decode(std::string_view bytes, std::vector<TableRow>& rows) {
  if (bytes.empty()) return;
  text_.clear();
  s_->utf8.feed(bytes, text_);
  parse_text(text_, rows);
}

void TableParser::parse_text(std::string_view text, std::vector<TableRow>& rows) {
  if (text.empty()) return;
  if (s_->delimited) {
    s_->delimited->feed(text, s_->delimited_rows);
    add_delimited_rows(rows);
    return;
  }
  if (format_ == "json" && !json_decided_) {
    // Undecided: keep the blank prefix; the first other character says array ('[') or JSON Lines.
    const size_t first = text.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) {
      ACCENT_CHECK(json_text_.size() + text.size() <= kMaxRowBytes, path_,
                   ": more than ", kMaxRowBytes, " bytes of blank space before the first JSON value");
      json_text_.append(text);
      return;
    }
    json_decided_ = true;
    json_array_ = text[first] == '[';
    std::string prefix = std::move(json_text_);
    json_text_.clear();
    prefix.append(text);
    if (json_array_) {
      json_text_ = std::move(prefix);
      return;
    }
    parse_text(prefix, rows);
    return;
  }
  if (json_array_) {
    ACCENT_CHECK(json_text_.size() + text.size() <= kMaxJsonArrayBytes, path_, ": a JSON array larger than ",
                 kMaxJsonArrayBytes >> 20, " MiB; write the records as JSON Lines instead (.jsonl, one object per "
                 "line), which is read as it streams");
    json_text_.append(text);
    return;
  }
  s_->lines->feed(text, [&](std::string_view line, int64_t no) { on_line(line, no, rows); });
}

void TableParser::finish(std::vector<TableRow>& rows) {
  if (!bom_checked_) {  // fewer than 3 bytes in all: no BOM
    bom_checked_ = true;
    decode(head_, rows);
  }
  text_.clear();
  s_->utf8.finish(text_);
  parse_text(text_, rows);
  if (s_->delimited) {
    s_->delimited->finish(s_->delimited_rows);
    add_delimited_rows(rows);
    ACCENT_CHECK(any_row_, path_, ": no rows: the file is empty (pandas: 'No columns to parse from file')");
    return;
  }
  if (json_array_) {
    // One level more than a JSON Lines row: the array around the records.
    JsonParseOptions limits;
    limits.max_depth = kMaxJsonDepth + 1;
    nlohmann::ordered_json arr = parse_ordered_json(json_text_, path_, limits);
    json_text_.clear();
    json_text_.shrink_to_fit();
    ACCENT_CHECK(arr.is_array(), path_, ": expected a JSON array of objects");
    int64_t k = 0;
    for (auto& obj : arr) add_record(std::move(obj), ++k, ": record ", rows);
    return;
  }
  s_->lines->finish([&](std::string_view line, int64_t no) { on_line(line, no, rows); });
}

void TableParser::add_delimited_rows(std::vector<TableRow>& rows) {
  for (DelimitedRow& r : s_->delimited_rows) {
    if (!any_row_) {
      any_row_ = true;
      if (header_pending_) {
        header_pending_ = false;
        columns_ = pandas_header_names(std::move(r.fields));
        continue;
      }
      for (size_t i = 0; i < r.fields.size(); ++i) columns_.push_back(std::to_string(i));
    }
    rows.push_back(TableRow{std::move(r.fields), nullptr, r.line});
    ++rows_out_;
  }
  s_->delimited_rows.clear();
}

namespace {
std::string json_cell(const nlohmann::ordered_json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  return v.dump();
}
}  // namespace

void TableParser::on_line(std::string_view line, int64_t line_no, std::vector<TableRow>& rows) {
  if (format_ == "tsv-raw") {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) {
      ++raw_blank_lines_;
      return;
    }
    const size_t tab = line.rfind('\t');
    ACCENT_CHECK(tab != std::string_view::npos, path_, ":", line_no,
                 ": no tab in this line (format tsv-raw expects '<text>\\t<label>' on every line)");
    std::vector<std::string> cells = {std::string(line.substr(0, tab)), std::string(line.substr(tab + 1))};
    if (header_pending_) {
      columns_ = pandas_header_names(std::move(cells));
      header_pending_ = false;
      return;
    }
    rows.push_back(TableRow{std::move(cells), nullptr, line_no});
    ++rows_out_;
    return;
  }
  // JSON Lines.
  if (line.find_first_not_of(" \t\r") == std::string_view::npos) {
    ++raw_blank_lines_;
    return;
  }
  add_record(parse_ordered_json(line, path_ + ":" + std::to_string(line_no)), line_no, ":", rows);
}

// One JSON object as a row; new keys become new columns.
void TableParser::add_record(nlohmann::ordered_json obj, int64_t where, const std::string& what,
                             std::vector<TableRow>& rows) {
  ACCENT_CHECK(obj.is_object(), path_, what, where, ": expected a JSON object, got ", obj.type_name());
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (column_of_.count(it.key())) continue;
    ACCENT_CHECK(columns_.size() < kMaxColumns, path_, what, where, ": more than ", kMaxColumns,
                 " distinct keys in the records (are these records of one table?)");
    column_of_.emplace(it.key(), columns_.size());
    columns_.push_back(it.key());
  }
  std::vector<std::string> cells(columns_.size());
  for (auto it = obj.begin(); it != obj.end(); ++it) cells[column_of_.at(it.key())] = json_cell(*it);
  rows.push_back(TableRow{std::move(cells), std::move(obj), where});
  ++rows_out_;
}

// ---- TableStream ----

namespace {
constexpr size_t kReadBytes = size_t{1} << 20;
}

namespace {
// `path`, once it is known not to be a directory: that is the first thing to say about it, before its extension.
const std::string& not_a_directory(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) fail(path, ": is a directory, expected a file");
  return path;
}
}  // namespace

TableStream::TableStream(const std::string& path, const TableOptions& options)
    : parser_(not_a_directory(path), options) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) fail(path, ": cannot open for reading (", std::strerror(errno), ")");
}

TableStream::~TableStream() {
  if (fd_ >= 0) ::close(fd_);
}

bool TableStream::read_more() {
  if (ended_) return false;
  rows_.clear();
  next_row_ = 0;
  buf_.resize(kReadBytes);
  ssize_t n;
  do {
    n = ::read(fd_, buf_.data(), buf_.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) fail(parser_.path(), ": read error (", std::strerror(errno), ")");
  if (n == 0) {
    ended_ = true;
    parser_.finish(rows_);
  } else {
    parser_.feed(std::string_view(buf_.data(), static_cast<size_t>(n)), rows_);
  }
  return true;
}

bool TableStream::next(TableRow& row) {
  while (next_row_ >= rows_.size()) {
    if (!read_more()) return false;
  }
  row = std::move(rows_[next_row_++]);
  return true;
}

bool TableStream::ready() {
  if (next_row_ < rows_.size() || ended_) return true;
  pollfd p{fd_, POLLIN, 0};
  return ::poll(&p, 1, 0) > 0;
}

}  // namespace accent
