#include "train/tensorboard_writer.h"

#include <unistd.h>

#include <array>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>

#include "core/error.h"

namespace accent {

namespace {

// ---- protocol-buffer wire format: varints, fixed-width fields, length-delimited fields ----
enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void put_key(std::string& out, uint32_t field, WireType type) { put_varint(out, (uint64_t{field} << 3) | type); }

template <typename T>
void put_little_endian(std::string& out, T v) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &v, sizeof(T));  // x86-64 and every TensorBoard host are little-endian
  out.append(bytes, sizeof(T));
}

void put_double(std::string& out, uint32_t field, double v) {
  put_key(out, field, kFixed64);
  put_little_endian(out, v);
}
void put_float(std::string& out, uint32_t field, float v) {
  put_key(out, field, kFixed32);
  put_little_endian(out, v);
}
void put_int64(std::string& out, uint32_t field, int64_t v) {
  put_key(out, field, kVarint);
  put_varint(out, static_cast<uint64_t>(v));
}
void put_bytes(std::string& out, uint32_t field, const std::string& bytes) {
  put_key(out, field, kLengthDelimited);
  put_varint(out, bytes.size());
  out += bytes;
}

double unix_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string hostname() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0) return "localhost";
  return name;
}

// Event{wall_time, step, summary: Summary{value: [value]}}.
std::string summary_event(int64_t step, const std::string& value) {
  std::string summary, event;
  put_bytes(summary, 1, value);
  put_double(event, 1, unix_seconds());
  put_int64(event, 2, step);
  put_bytes(event, 5, summary);
  return event;
}

// rewrite_logs: eval_x → eval/x, test_x → test/x, else train/x.
std::string tensorboard_tag(const std::string& key) {
  if (key.rfind("eval_", 0) == 0) return "eval/" + key.substr(5);
  if (key.rfind("test_", 0) == 0) return "test/" + key.substr(5);
  return "train/" + key;
}

}  // namespace

uint32_t crc32c(const void* data, size_t size) {
  // Table of the reflected polynomial: table[b] = CRC of the byte b alone (8 shift/xor steps).
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t b = 0; b < 256; ++b) {
      uint32_t c = b;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
      t[b] = c;
    }
    return t;
  }();
  uint32_t c = 0xFFFFFFFFu;
  const auto* p = static_cast<const uint8_t*>(data);
  for (size_t i = 0; i < size; ++i) c = table[(c ^ p[i]) & 0xff] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

uint32_t masked_crc32c(const void* data, size_t size) {
  const uint32_t c = crc32c(data, size);
  return ((c >> 15) | (c << 17)) + 0xa282ead8u;
}

std::string default_logging_dir(const std::string& output_dir) {
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%b%d_%H-%M-%S", &local);
  return (std::filesystem::path(output_dir) / "runs" / (std::string(stamp) + "_" + hostname())).string();
}

TensorBoardWriter::TensorBoardWriter(const std::string& log_dir) {
  std::error_code ec;
  std::filesystem::create_directories(log_dir, ec);
  ACCENT_CHECK(!ec, log_dir, ": cannot create the TensorBoard log directory (", ec.message(), ")");
  char stamp[24];
  std::snprintf(stamp, sizeof stamp, "%010lld", static_cast<long long>(unix_seconds()));
  path_ = (std::filesystem::path(log_dir) /
           ("events.out.tfevents." + std::string(stamp) + "." + hostname() + "." + std::to_string(getpid()) + ".0"))
              .string();
  file_ = std::fopen(path_.c_str(), "wb");
  ACCENT_CHECK(file_ != nullptr, path_, ": cannot create the TensorBoard event file (", std::strerror(errno), ")");
  std::string first;
  put_double(first, 1, unix_seconds());
  put_bytes(first, 3, "brain.Event:2");
  write_event(first);
  flush();
}

TensorBoardWriter::~TensorBoardWriter() {
  if (file_) std::fclose(file_);
}

void TensorBoardWriter::write_event(const std::string& event) {
  std::string record;
  put_little_endian(record, static_cast<uint64_t>(event.size()));
  put_little_endian(record, masked_crc32c(record.data(), 8));
  record += event;
  put_little_endian(record, masked_crc32c(event.data(), event.size()));
  ACCENT_CHECK(std::fwrite(record.data(), 1, record.size(), file_) == record.size(), path_,
               ": cannot write the TensorBoard event file (", std::strerror(errno), ")");
}

void TensorBoardWriter::flush() {
  ACCENT_CHECK(std::fflush(file_) == 0, path_, ": cannot write the TensorBoard event file (", std::strerror(errno), ")");
}

void TensorBoardWriter::add_scalar(const std::string& tag, double value, int64_t step) {
  std::string v;
  put_bytes(v, 1, tag);
  put_float(v, 2, static_cast<float>(value));
  write_event(summary_event(step, v));
}

void TensorBoardWriter::add_text(const std::string& tag, const std::string& text, int64_t step) {
  std::string plugin, metadata, dim, shape, tensor, v;
  put_bytes(plugin, 1, "text");
  put_bytes(metadata, 1, plugin);
  put_int64(dim, 1, 1);
  put_bytes(shape, 2, dim);
  put_int64(tensor, 1, 7);  // DT_STRING
  put_bytes(tensor, 2, shape);
  put_bytes(tensor, 8, text);
  put_bytes(v, 1, tag + "/text_summary");
  put_bytes(v, 8, tensor);
  put_bytes(v, 9, metadata);
  write_event(summary_event(step, v));
}

void TensorBoardWriter::add_log(const nlohmann::json& entry, int64_t step) {
  for (const auto& [key, value] : entry.items()) {
    if (key == "step") continue;
    if (value.is_number()) add_scalar(tensorboard_tag(key), value.get<double>(), step);
    else if (value.is_string()) add_text(tensorboard_tag(key), value.get<std::string>(), step);
  }
  flush();
}

}  // namespace accent
