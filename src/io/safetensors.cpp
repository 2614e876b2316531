// io/safetensors.cpp — safetensors reader (mmap + full validation) and writer (reference byte layout).
//
// Validation follows the reference Rust reader (safetensors/src/tensor.rs, `SafeTensors::read_metadata` and
// `Metadata::validate`): N ≤ 100,000,000; 8 + N ≤ file size; header starts with '{' and is a JSON object;
// sorted by data_offsets the tensors tile the data buffer exactly; each tensor's byte span equals
// numel × dtype bits / 8. In addition accent rejects duplicate keys (the Rust map would keep one silently).
#include "io/safetensors.h"
#include "io/shard_index.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <limits>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "core/error.h"
#include "core/fs.h"
#include "core/json_parse.h"
#include "io/python_json.h"
#include "io/safetensors_dtype.h"

namespace accent {

namespace {
using json = nlohmann::json;
constexpr uint64_t kMaxHeaderBytes = 100'000'000;  // the reference reader's limit (HeaderTooLarge)

uint64_t read_u64_le(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

void put_u64_le(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// Nesting limit of the header (levels of objects/arrays): the reference reader parses it with serde_json, whose
// default recursion limit (128) refuses deeper headers. It also keeps dump() (error messages) from recursing a
// million levels deep.
constexpr int kMaxHeaderDepth = 128;

// Parses the header, rejecting duplicate keys in any object (nlohmann would silently keep the last) and nesting
// deeper than kMaxHeaderDepth.
json parse_header_json(const std::string& text, const std::string& path) {
  JsonParseOptions limits;
  limits.max_depth = kMaxHeaderDepth;
  limits.reject_duplicate_keys = true;
  const json header = parse_json(text, path + ": safetensors header", limits);
  if (!header.is_object()) fail(path, ": safetensors header is not a JSON object");
  return header;
}

uint64_t json_u64(const json& v, const std::string& path, const std::string& what) {
  if (!v.is_number_unsigned()) fail(path, ": ", what, " must be a non-negative integer, got ", v.dump());
  return v.get<uint64_t>();
}
}  // namespace

// ---------------------------------------------------------------------------------------------------- reading

std::shared_ptr<SafetensorsFile> SafetensorsFile::open(const std::string& path) {
  std::shared_ptr<SafetensorsFile> file(new SafetensorsFile());
  file->path_ = path;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(path, ": cannot open safetensors file (", std::strerror(errno), ")");
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    fail(path, ": cannot stat (", std::strerror(err), ")");
  }
  const size_t size = static_cast<size_t>(st.st_size);
  if (size < 8) {
    ::close(fd);
    fail(path, ": truncated safetensors file (", size, " bytes; the 8-byte header length alone needs 8)");
  }
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  const int map_errno = errno;
  ::close(fd);
  if (map == MAP_FAILED) fail(path, ": mmap failed (", std::strerror(map_errno), ")");
  file->map_ = map;
  file->map_size_ = size;
  file->parse(static_cast<const char*>(map), size);  // on throw, the shared_ptr unmaps
  return file;
}

std::shared_ptr<SafetensorsFile> SafetensorsFile::from_bytes(std::string_view bytes, const std::string& origin) {
  std::shared_ptr<SafetensorsFile> file(new SafetensorsFile());
  file->path_ = origin;
  if (bytes.size() < 8)
    fail(origin, ": truncated safetensors file (", bytes.size(), " bytes; the 8-byte header length alone needs 8)");
  file->owned_.reset(new char[bytes.size()]);
  std::memcpy(file->owned_.get(), bytes.data(), bytes.size());
  file->parse(file->owned_.get(), bytes.size());
  return file;
}

SafetensorsFile::~SafetensorsFile() {
  if (map_) ::munmap(map_, map_size_);
}

void SafetensorsFile::parse(const char* bytes, size_t size) {
  const std::string& path = path_;
  const uint64_t n = read_u64_le(bytes);
  if (n > kMaxHeaderBytes)
    fail(path, ": safetensors header length ", n, " exceeds the 100,000,000-byte limit (corrupt or not safetensors)");
  if (n + 8 > size)
    fail(path, ": safetensors header length ", n, " runs past the end of the file (", size,
         " bytes): truncated or not a safetensors file");
  const std::string header_text(bytes + 8, n);
  if (header_text.empty() || header_text[0] != '{')
    fail(path, ": safetensors header does not start with '{' (not a safetensors file?)");
  const json header = parse_header_json(header_text, path);

  const char* data = bytes + 8 + n;
  const uint64_t buffer_size = size - 8 - n;
  struct Span {
    uint64_t begin, end;
    std::string name;
  };
  std::vector<Span> spans;
  for (const auto& [name, value] : header.items()) {
    if (name == "__metadata__") {
      if (!value.is_object()) fail(path, ": __metadata__ must be an object of strings");
      for (const auto& [k, v] : value.items()) {
        if (!v.is_string()) fail(path, ": __metadata__ value of \"", k, "\" must be a string, got ", v.dump());
        metadata_[k] = v.get<std::string>();
      }
      continue;
    }
    const std::string where = "tensor \"" + name + "\"";
    if (!value.is_object()) fail(path, ": ", where, ": entry must be an object");
    if (!value.contains("dtype") || !value.contains("shape") || !value.contains("data_offsets"))
      fail(path, ": ", where, ": entry needs dtype, shape and data_offsets");
    const json& jdtype = value["dtype"];
    if (!jdtype.is_string()) fail(path, ": ", where, ": dtype must be a string");
    const std::string dtype_string = jdtype.get<std::string>();
    const SafetensorsDTypeInfo* info = safetensors_dtype_info(dtype_string);
    if (!info) fail(path, ": ", where, ": unknown dtype \"", dtype_string, "\"");
    const json& jshape = value["shape"];
    if (!jshape.is_array()) fail(path, ": ", where, ": shape must be an array");
    Shape shape;
    uint64_t numel = 1;
    bool overflow = false;
    for (const auto& d : jshape) {
      const uint64_t dim = json_u64(d, path, where + " shape dimension");
      if (dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) overflow = true;
      shape.push_back(static_cast<int64_t>(dim));
      // numel × 64 (the widest dtype, in bits) must not wrap, or the byte-span check below could be fooled.
      if (dim != 0 && numel > std::numeric_limits<uint64_t>::max() / 64 / dim) overflow = true;
      numel *= dim;
    }
    if (overflow) fail(path, ": ", where, ": shape ", jshape.dump(), " is too large");
    const json& joff = value["data_offsets"];
    if (!joff.is_array() || joff.size() != 2) fail(path, ": ", where, ": data_offsets must be [begin, end]");
    const uint64_t begin = json_u64(joff[0], path, where + " data_offsets"),
                   end = json_u64(joff[1], path, where + " data_offsets");
    if (end < begin) fail(path, ": ", where, ": data_offsets [", begin, ", ", end, "] end before begin");
    const uint64_t bits = numel * static_cast<uint64_t>(info->bits);
    if (bits % 8 != 0)
      fail(path, ": ", where, ": ", numel, " elements of ", dtype_string, " do not fill whole bytes");
    if (end - begin != bits / 8)
      fail(path, ": ", where, ": shape ", shape_str(shape), " of ", dtype_string, " needs ", bits / 8,
           " bytes but data_offsets [", begin, ", ", end, "] span ", end - begin);
    SafetensorsEntry entry;
    entry.name = name;
    entry.dtype_string = dtype_string;
    entry.has_core_dtype = info->accent.has_value();
    entry.dtype = info->accent.value_or(DType::U8);
    entry.shape = std::move(shape);
    entry.nbytes = end - begin;
    entry.data = nullptr;
    entries_.emplace(name, std::move(entry));
    spans.push_back({begin, end, name});
  }

  // Sorted by offsets the tensors must tile [0, buffer_size) exactly.
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t expected = 0;
  std::string previous;
  for (const Span& s : spans) {
    if (s.begin < expected)
      fail(path, ": tensor \"", s.name, "\" data_offsets [", s.begin, ", ", s.end, "] overlap tensor \"", previous,
           "\" (which ends at ", expected, ")");
    if (s.begin > expected)
      fail(path, ": gap in the data buffer: bytes [", expected, ", ", s.begin, ") before tensor \"", s.name,
           "\" belong to no tensor");
    expected = s.end;
    previous = s.name;
    if (s.end > buffer_size)
      fail(path, ": tensor \"", s.name, "\" data_offsets end ", s.end, " past the data buffer (", buffer_size,
           " bytes): truncated file");
    entries_.at(s.name).data = data + s.begin;
    names_.push_back(s.name);
  }
  if (expected != buffer_size)
    fail(path, ": tensors cover ", expected, " bytes but the data buffer holds ", buffer_size,
         " (trailing bytes or missing tensors)");
  data_bytes_ = buffer_size;
}

const SafetensorsEntry& SafetensorsFile::entry(const std::string& name) const {
  auto it = entries_.find(name);
  if (it == entries_.end()) fail(path_, ": no tensor named \"", name, "\"");
  return it->second;
}

namespace {
Tensor convert_entry(const SafetensorsEntry& e, DType dtype, const std::string& path) {
  const int64_t numel = shape_numel(e.shape);
  if (!e.has_core_dtype) {
    if (!f8_decoder_exists(e.dtype_string))
      fail(path, ": tensor \"", e.name, "\" has dtype ", e.dtype_string, ", which accent cannot convert");
    Tensor out(DType::F32, e.shape);
    const auto* src = static_cast<const uint8_t*>(e.data);
    float* dst = out.f32();
    for (int64_t i = 0; i < numel; ++i) dst[i] = f8_to_f32(e.dtype_string, src[i]);
    return out.to(dtype);
  }
  if (e.dtype == dtype) return Tensor::from_bytes(dtype, e.shape, e.data);
  if (dtype == DType::F32 && (e.dtype == DType::F16 || e.dtype == DType::BF16)) {
    // Direct widening from the mapping (memcpy per element: the data may be only 2-byte aligned).
    Tensor out(DType::F32, e.shape);
    const auto* src = static_cast<const unsigned char*>(e.data);
    float* dst = out.f32();
    for (int64_t i = 0; i < numel; ++i) {
      uint16_t h;
      std::memcpy(&h, src + 2 * i, 2);
      dst[i] = e.dtype == DType::F16 ? f16_to_f32(h) : bf16_to_f32(h);
    }
    return out;
  }
  return Tensor::from_bytes(e.dtype, e.shape, e.data).to(dtype);
}
}  // namespace

Tensor SafetensorsFile::load(const std::string& name, DType dtype) const {
  return convert_entry(entry(name), dtype, path_);
}

// ---------------------------------------------------------------------------------------------------- writing

namespace {
// Order of the reference writer: dtype rank descending, then name ascending (byte order).
std::vector<std::pair<const std::string*, const Tensor*>> writer_order(const std::map<std::string, Tensor>& tensors) {
  std::vector<std::pair<const std::string*, const Tensor*>> order;
  for (const auto& [name, t] : tensors) order.emplace_back(&name, &t);
  std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
    const int ra = safetensors_dtype_info(a.second->dtype()).rank, rb = safetensors_dtype_info(b.second->dtype()).rank;
    if (ra != rb) return ra > rb;
    return *a.first < *b.first;
  });
  return order;
}

// `{"__metadata__":{...},"name":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},...}` (serde_json compact),
// padded with spaces to a multiple of 8, preceded by its u64 length.
std::string header_bytes(const std::vector<std::pair<const std::string*, const Tensor*>>& order,
                         const std::map<std::string, std::string>& metadata) {
  std::string h = "{";
  bool first = true;
  if (!metadata.empty()) {
    h += "\"__metadata__\":" + json(metadata).dump();
    first = false;
  }
  uint64_t offset = 0;
  for (const auto& [name, t] : order) {
    ACCENT_CHECK(*name != "__metadata__", "safetensors: a tensor cannot be named __metadata__");
    if (!first) h += ",";
    first = false;
    json shape = json::array();
    for (int64_t d : t->shape()) shape.push_back(d);
    const uint64_t end = offset + t->nbytes();
    h += json(*name).dump() + ":{\"dtype\":\"" + std::string(dtype_name(t->dtype())) + "\",\"shape\":" +
         shape.dump() + ",\"data_offsets\":[" + std::to_string(offset) + "," + std::to_string(end) + "]}";
    offset = end;
  }
  h += "}";
  h.append((8 - h.size() % 8) % 8, ' ');
  std::string out;
  put_u64_le(out, h.size());
  return out + h;
}

void write_safetensors(std::ostream& out, const std::map<std::string, Tensor>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  const auto order = writer_order(tensors);
  const std::string header = header_bytes(order, metadata);
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  for (const auto& [name, t] : order) {
    const Tensor host = t->to_host();  // a tensor in GPU memory is copied down one at a time
    if (host.nbytes()) out.write(static_cast<const char*>(host.data()), static_cast<std::streamsize>(host.nbytes()));
  }
}
}  // namespace

std::string safetensors_bytes(const std::map<std::string, Tensor>& tensors,
                              const std::map<std::string, std::string>& metadata) {
  std::ostringstream os;
  write_safetensors(os, tensors, metadata);
  return os.str();
}

void save_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  write_file_atomic(path, [&](std::ostream& out) { write_safetensors(out, tensors, metadata); });
}

uint64_t parse_shard_size(const std::string& text) {
  // transformers.utils.hub.convert_file_size_to_int
  auto number = [&](size_t suffix_len) -> uint64_t {
    const std::string digits = text.substr(0, text.size() - suffix_len);
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos)
      fail("max_shard_size \"", text, "\": expected an integer followed by GB, MB, KB, GiB, MiB or KiB");
    return std::stoull(digits);
  };
  std::string upper = text;
  std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
  auto ends_with = [&](const char* s) { return upper.size() >= std::strlen(s) && upper.ends_with(s); };
  if (!upper.empty() && upper.find_first_not_of("0123456789") == std::string::npos) return std::stoull(upper);
  if (ends_with("GIB")) return number(3) << 30;
  if (ends_with("MIB")) return number(3) << 20;
  if (ends_with("KIB")) return number(3) << 10;
  const bool bits = !text.empty() && text.back() == 'b';  // "5Gb" = gigabits
  uint64_t scale = 0;
  if (ends_with("GB")) scale = 1'000'000'000ull;
  else if (ends_with("MB")) scale = 1'000'000ull;
  else if (ends_with("KB")) scale = 1'000ull;
  else fail("max_shard_size \"", text, "\": expected an integer followed by GB, MB, KB, GiB, MiB or KiB");
  const uint64_t bytes = number(2) * scale;
  return bits ? bytes / 8 : bytes;
}

std::vector<std::string> save_safetensors_checkpoint(const std::string& dir, const NamedTensors& tensors,
                                                     uint64_t max_shard_size,
                                                     const std::map<std::string, std::string>& metadata) {
  namespace fs = std::filesystem;
  std::set<std::string> seen;
  for (const auto& [name, t] : tensors)
    ACCENT_CHECK(seen.insert(name).second, dir, ": tensor \"", name, "\" given twice");
  fs::create_directories(dir);

  // huggingface_hub.split_state_dict_into_shards_factory
  std::vector<std::map<std::string, Tensor>> shards;
  std::map<std::string, Tensor> current;
  uint64_t current_size = 0, total_size = 0;
  for (const auto& [name, t] : tensors) {
    const uint64_t size = t.nbytes();
    total_size += size;
    if (size > max_shard_size) {
      shards.push_back({{name, t}});
      continue;
    }
    if (current_size + size > max_shard_size) {
      shards.push_back(std::move(current));
      current.clear();
      current_size = 0;
    }
    current.emplace(name, t);
    current_size += size;
  }
  if (!current.empty() || shards.empty()) shards.push_back(std::move(current));

  std::vector<std::string> written;
  const fs::path index_path = fs::path(dir) / "model.safetensors.index.json";
  if (shards.size() == 1) {
    save_safetensors((fs::path(dir) / "model.safetensors").string(), shards[0], metadata);
    written.push_back("model.safetensors");
  } else {
    json weight_map = json::object();
    const size_t n = shards.size();
    for (size_t k = 0; k < n; ++k) {
      char file[64];
      std::snprintf(file, sizeof file, "model-%05zu-of-%05zu.safetensors", k + 1, n);
      save_safetensors((fs::path(dir) / file).string(), shards[k], metadata);
      for (const auto& [name, t] : shards[k]) weight_map[name] = file;
      written.push_back(file);
    }
    json index = {{"metadata", {{"total_size", total_size}}}, {"weight_map", weight_map}};
    write_file_atomic(index_path.string(), python_json_dumps(index, 2) + "\n");
    written.push_back(index_path.filename().string());
  }

  // Clean shards of an earlier save (transformers' save_pretrained does the same), and a stale index.
  const std::set<std::string> keep(written.begin(), written.end());
  static const std::regex shard_stem(R"(.*?-\d{5}-of-\d{5})");
  for (const auto& de : fs::directory_iterator(dir)) {
    const std::string file = de.path().filename().string();
    if (!de.is_regular_file() || keep.count(file) || !file.starts_with("model")) continue;
    std::string stem = std::regex_replace(file, std::regex(R"(\.safetensors|\.bin)"), "");
    if (std::regex_match(stem, shard_stem)) fs::remove(de.path());
  }
  if (shards.size() == 1 && fs::exists(index_path)) fs::remove(index_path);
  return written;
}

// ---------------------------------------------------------------------------------------------------- checkpoint

SafetensorsCheckpoint SafetensorsCheckpoint::open_dir(const std::string& dir) {
  namespace fs = std::filesystem;
  SafetensorsCheckpoint ckpt;
  const fs::path single = fs::path(dir) / "model.safetensors";
  const fs::path index_path = fs::path(dir) / "model.safetensors.index.json";
  if (fs::exists(single)) {
    ckpt.files_.push_back(SafetensorsFile::open(single.string()));
    for (const auto& name : ckpt.files_[0]->names()) ckpt.where_[name] = 0;
    return ckpt;
  }
  if (!fs::exists(index_path))
    fail(dir, ": no model.safetensors or model.safetensors.index.json (is this a model directory?)");
  const ShardIndex index = read_shard_index(index_path.string());
  std::map<std::string, size_t> file_index;
  for (const auto& [name, file] : index.weight_map) {
    auto it = file_index.find(file);
    if (it == file_index.end()) {
      const fs::path shard_path = fs::path(dir) / file;
      if (!fs::exists(shard_path))
        fail(index_path.string(), ": shard ", file, " (holding \"", name, "\") is missing");
      it = file_index.emplace(file, ckpt.files_.size()).first;
      ckpt.files_.push_back(SafetensorsFile::open(shard_path.string()));
    }
    if (!ckpt.files_[it->second]->contains(name))
      fail(index_path.string(), ": tensor \"", name, "\" is mapped to ", file, " but that shard does not hold it");
    ckpt.where_[name] = it->second;
  }
  return ckpt;
}

std::vector<std::string> SafetensorsCheckpoint::names() const {
  std::vector<std::string> out;
  for (const auto& f : files_)
    for (const auto& n : f->names())
      if (auto it = where_.find(n); it != where_.end() && files_[it->second] == f) out.push_back(n);
  return out;
}

bool SafetensorsCheckpoint::contains(const std::string& name) const { return where_.count(name) != 0; }

const SafetensorsEntry& SafetensorsCheckpoint::entry(const std::string& name) const {
  auto it = where_.find(name);
  if (it == where_.end()) {
    const std::string dir = files_.empty() ? std::string("checkpoint")
                                           : std::filesystem::path(files_[0]->path()).parent_path().string();
    fail(dir, ": checkpoint has no tensor named \"", name, "\"");
  }
  return files_[it->second]->entry(name);
}

Tensor SafetensorsCheckpoint::load(const std::string& name, DType dtype) const {
  entry(name);  // error if missing
  return files_[where_.at(name)]->load(name, dtype);
}

}  // namespace accent
