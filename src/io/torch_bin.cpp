// io/torch_bin.cpp — the restricted pickle machine and tensor rebuild for torch.save archives (see torch_bin.h).
//
// Tensor record (torch/_utils.py _rebuild_tensor_v2): element (i0..ik) = storage[offset + Σ ij·stridej].
// Storage = BINPERSID of ("storage", torch.XStorage, key, location, numel) → bytes of record <prefix>/data/<key>.
#include "io/torch_bin.h"
#include "io/shard_index.h"

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <variant>

#include "core/error.h"
#include "core/fs.h"
#include "io/zip_archive.h"

namespace accent {

namespace {

struct Value;
// Values are owned by the Unpickler that made them (an arena), never by each other: a pickle can memoize a list
// and append it to itself, or nest containers a million deep, which shared ownership would leak (a cycle) or
// destroy recursively (a stack overflow).
using ValuePtr = Value*;

struct StorageRef {
  std::string key;
  DType dtype;
  int64_t numel;
};

struct TensorRef {
  std::shared_ptr<StorageRef> storage;
  int64_t offset = 0;
  Shape size, stride;
};

// A pickled value. Only what a state dict contains can be represented.
struct Value {
  enum class Kind { None, Bool, Int, Float, String, Tuple, List, Dict, Global, Storage, Tensor, Mark } kind = Kind::None;
  bool b = false;
  int64_t i = 0;
  double f = 0;
  std::string s, module;                              // String / Global (module, s = name)
  std::vector<ValuePtr> items;                        // Tuple / List
  std::vector<std::pair<ValuePtr, ValuePtr>> dict;    // Dict (insertion order)
  std::shared_ptr<StorageRef> storage;
  std::shared_ptr<TensorRef> tensor;
};


// torch.XStorage class → dtype (torch/storage.py _LegacyStorage subclasses).
bool storage_dtype(const std::string& name, DType* out) {
  static const std::map<std::string, DType> types = {
      {"FloatStorage", DType::F32}, {"HalfStorage", DType::F16},  {"BFloat16Storage", DType::BF16},
      {"DoubleStorage", DType::F64}, {"LongStorage", DType::I64}, {"IntStorage", DType::I32},
      {"ShortStorage", DType::I16}, {"CharStorage", DType::I8},   {"ByteStorage", DType::U8},
      {"BoolStorage", DType::BOOL}};
  auto it = types.find(name);
  if (it == types.end()) return false;
  *out = it->second;
  return true;
}

// RFC 3629 UTF-8: shortest forms only, no surrogates, nothing above U+10FFFF.
bool valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<uint8_t>(s[i]);
    size_t n;
    uint32_t cp;
    if (c < 0x80) { ++i; continue; }
    if (c >= 0xc2 && c <= 0xdf) { n = 1; cp = c & 0x1f; }
    else if (c >= 0xe0 && c <= 0xef) { n = 2; cp = c & 0x0f; }
    else if (c >= 0xf0 && c <= 0xf4) { n = 3; cp = c & 0x07; }
    else return false;
    if (n > s.size() - i - 1) return false;
    for (size_t k = 1; k <= n; ++k) {
      const auto cc = static_cast<uint8_t>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    i += n + 1;
  }
  return true;
}

bool allowed_global(const std::string& module, const std::string& name) {
  DType unused;
  if (module == "collections" && name == "OrderedDict") return true;
  if (module == "torch._utils" && (name == "_rebuild_tensor_v2" || name == "_rebuild_parameter")) return true;
  if (module == "torch" && storage_dtype(name, &unused)) return true;
  return false;
}

class Unpickler {
 public:
  Unpickler(std::string_view data, std::string origin) : data_(data), origin_(std::move(origin)) {}

  ValuePtr run() {
    while (true) {
      const uint8_t op = byte();
      switch (op) {
        case 0x80: byte(); break;            // PROTO
        case 0x95: bytes(8); break;          // FRAME (protocol 4): length, ignored
        case '}': push(make(Value::Kind::Dict)); break;
        case ']': push(make(Value::Kind::List)); break;
        case ')': push(make(Value::Kind::Tuple)); break;
        case '(': push(make(Value::Kind::Mark)); break;
        case 't': { auto t = make(Value::Kind::Tuple); t->items = pop_to_mark(); push(t); break; }
        case 0x85: case 0x86: case 0x87: {   // TUPLE1..3
          auto t = make(Value::Kind::Tuple);
          t->items.resize(op - 0x84);
          for (size_t k = t->items.size(); k-- > 0;) t->items[k] = pop();
          push(t);
          break;
        }
        case 'X': { const uint32_t n = static_cast<uint32_t>(uint_le(4)); push(string(bytes(n))); break; }
        case 0x8c: { const uint8_t n = byte(); push(string(bytes(n))); break; }   // SHORT_BINUNICODE
        case 0x8d: { const uint64_t n = uint_le(8); push(string(bytes(n))); break; }  // BINUNICODE8
        case 'J': push(integer(static_cast<int32_t>(uint_le(4)))); break;
        case 'K': push(integer(byte())); break;
        case 'M': push(integer(static_cast<int64_t>(uint_le(2)))); break;
        case 0x8a: {                         // LONG1: n bytes little-endian two's complement
          const uint8_t n = byte();
          if (n > 8) bad("LONG1 integer wider than 64 bits");
          std::string_view b = bytes(n);
          uint64_t v = 0;
          for (int k = n - 1; k >= 0; --k) v = (v << 8) | static_cast<uint8_t>(b[k]);
          if (n > 0 && n < 8 && (static_cast<uint8_t>(b[n - 1]) & 0x80)) v |= ~uint64_t{0} << (8 * n);  // sign-extend
          push(integer(static_cast<int64_t>(v)));
          break;
        }
        case 0x88: case 0x89: { auto v = make(Value::Kind::Bool); v->b = op == 0x88; push(v); break; }
        case 'N': push(make(Value::Kind::None)); break;
        case 'G': {                          // BINFLOAT: big-endian f64
          std::string_view b = bytes(8);
          uint64_t u = 0;
          for (int k = 0; k < 8; ++k) u = (u << 8) | static_cast<uint8_t>(b[k]);
          auto v = make(Value::Kind::Float);
          std::memcpy(&v->f, &u, 8);
          push(v);
          break;
        }
        case 'q': memo_[byte()] = top(); break;
        case 'r': memo_[uint_le(4)] = top(); break;
        case 0x94: memo_[memo_.size()] = top(); break;  // MEMOIZE
        case 'h': push(memo_get(byte())); break;
        case 'j': push(memo_get(uint_le(4))); break;
        case 'c': {                          // GLOBAL module\nname\n
          const std::string module = line(), name = line();
          push(global(module, name));
          break;
        }
        case 0x93: {                         // STACK_GLOBAL
          auto name = pop(), module = pop();
          if (name->kind != Value::Kind::String || module->kind != Value::Kind::String) bad("STACK_GLOBAL without strings");
          push(global(module->s, name->s));
          break;
        }
        case 'Q': push(persistent_load(pop())); break;
        case 'R': { auto args = pop(); auto callable = pop(); push(reduce(callable, args)); break; }
        case 'b': {                          // BUILD: only the _metadata state of an OrderedDict is accepted (ignored)
          auto state = pop();
          if (top()->kind != Value::Kind::Dict) bad("BUILD on something other than a dict");
          (void)state;
          break;
        }
        case 's': { auto v = pop(); auto k = pop(); dict_of(top())->dict.emplace_back(k, v); break; }
        case 'u': {
          auto items = pop_to_mark();
          if (items.size() % 2) bad("SETITEMS with an odd number of items");
          auto d = dict_of(top());
          for (size_t k = 0; k < items.size(); k += 2) d->dict.emplace_back(items[k], items[k + 1]);
          break;
        }
        case 'a': { auto v = pop(); list_of(top())->items.push_back(v); break; }
        case 'e': { auto items = pop_to_mark(); auto l = list_of(top()); for (auto& v : items) l->items.push_back(v); break; }
        case '.': return pop();
        default: {
          char hex[8];
          std::snprintf(hex, sizeof hex, "0x%02x", op);
          bad(std::string("pickle opcode ") + hex + " ('" + (op >= 0x20 && op < 0x7f ? std::string(1, static_cast<char>(op)) : "?") +
              "') is not allowed in a state dict");
        }
      }
    }
  }

 private:
  [[noreturn]] void bad(const std::string& what) const {
    fail(origin_, ": refusing to load data.pkl at byte ", pos_, ": ", what,
         " (accent reads plain tensor state dicts only and never executes pickled code)");
  }
  uint8_t byte() {
    if (pos_ >= data_.size()) bad("unexpected end of pickle");
    return static_cast<uint8_t>(data_[pos_++]);
  }
  std::string_view bytes(uint64_t n) {
    if (n > data_.size() - pos_) bad("unexpected end of pickle");
    std::string_view b = data_.substr(pos_, n);
    pos_ += n;
    return b;
  }
  uint64_t uint_le(int n) {
    std::string_view b = bytes(n);
    uint64_t v = 0;
    for (int k = n - 1; k >= 0; --k) v = (v << 8) | static_cast<uint8_t>(b[k]);
    return v;
  }
  std::string line() {
    const size_t end = data_.find('\n', pos_);
    if (end == std::string_view::npos) bad("unterminated GLOBAL");
    std::string s(data_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return s;
  }
  ValuePtr make(Value::Kind k) {
    arena_.push_back(std::make_unique<Value>());
    arena_.back()->kind = k;
    return arena_.back().get();
  }
  // BINUNICODE* payloads are UTF-8 (pickle decodes them with "utf-8", so torch.load rejects anything else); a
  // tensor name that is not UTF-8 could not be written to a safetensors header or printed either.
  ValuePtr string(std::string_view s) {
    if (!valid_utf8(s)) bad("string is not valid UTF-8");
    auto v = make(Value::Kind::String);
    v->s = std::string(s);
    return v;
  }
  ValuePtr integer(int64_t i) {
    auto v = make(Value::Kind::Int);
    v->i = i;
    return v;
  }
  void push(ValuePtr v) { stack_.push_back(v); }
  ValuePtr pop() {
    if (stack_.empty()) bad("stack underflow");
    auto v = stack_.back();
    stack_.pop_back();
    if (v->kind == Value::Kind::Mark) bad("unexpected MARK");
    return v;
  }
  ValuePtr top() {
    if (stack_.empty()) bad("stack underflow");
    return stack_.back();
  }
  std::vector<ValuePtr> pop_to_mark() {
    std::vector<ValuePtr> items;
    while (true) {
      if (stack_.empty()) bad("MARK missing");
      auto v = stack_.back();
      stack_.pop_back();
      if (v->kind == Value::Kind::Mark) break;
      items.push_back(v);
    }
    return {items.rbegin(), items.rend()};
  }
  ValuePtr memo_get(uint64_t k) {
    auto it = memo_.find(k);
    if (it == memo_.end()) bad("memo key " + std::to_string(k) + " not set");
    return it->second;
  }
  ValuePtr dict_of(const ValuePtr& v) {
    if (v->kind != Value::Kind::Dict) bad("SETITEM on something other than a dict");
    return v;
  }
  ValuePtr list_of(const ValuePtr& v) {
    if (v->kind != Value::Kind::List) bad("APPEND on something other than a list");
    return v;
  }
  ValuePtr global(const std::string& module, const std::string& name) {
    if (!allowed_global(module, name))
      bad("global " + module + "." + name + " is not allowed (only torch tensor/storage rebuild functions and "
          "collections.OrderedDict)");
    auto g = make(Value::Kind::Global);
    g->module = module;
    g->s = name;
    return g;
  }
  ValuePtr persistent_load(const ValuePtr& pid) {
    if (pid->kind != Value::Kind::Tuple || pid->items.size() < 5 || pid->items[0]->kind != Value::Kind::String ||
        pid->items[0]->s != "storage")
      bad("persistent id is not a ('storage', type, key, location, numel) tuple");
    const auto& type = pid->items[1];
    const auto& key = pid->items[2];
    const auto& numel = pid->items[4];
    DType dtype;
    if (type->kind != Value::Kind::Global || type->module != "torch" || !storage_dtype(type->s, &dtype))
      bad("persistent id with an unsupported storage type");
    if (key->kind != Value::Kind::String || numel->kind != Value::Kind::Int || numel->i < 0)
      bad("malformed storage persistent id");
    auto it = storages_.find(key->s);
    if (it == storages_.end())
      it = storages_.emplace(key->s, std::make_shared<StorageRef>(StorageRef{key->s, dtype, numel->i})).first;
    auto v = make(Value::Kind::Storage);
    v->storage = it->second;
    return v;
  }
  Shape int_tuple(const ValuePtr& t, const char* what) {
    if (t->kind != Value::Kind::Tuple) bad(std::string(what) + " is not a tuple");
    Shape out;
    for (const auto& x : t->items) {
      if (x->kind != Value::Kind::Int) bad(std::string(what) + " holds a non-integer");
      out.push_back(x->i);
    }
    return out;
  }
  ValuePtr reduce(const ValuePtr& callable, const ValuePtr& args) {
    if (callable->kind != Value::Kind::Global) bad("REDUCE of something that is not an allowed global");
    if (args->kind != Value::Kind::Tuple) bad("REDUCE arguments are not a tuple");
    const auto& a = args->items;
    if (callable->module == "collections" && callable->s == "OrderedDict") {
      if (!a.empty()) bad("OrderedDict called with arguments");
      return make(Value::Kind::Dict);
    }
    if (callable->s == "_rebuild_tensor_v2") {
      if (a.size() < 4 || a[0]->kind != Value::Kind::Storage || a[1]->kind != Value::Kind::Int)
        bad("malformed _rebuild_tensor_v2 arguments");
      auto t = std::make_shared<TensorRef>();
      t->storage = a[0]->storage;
      t->offset = a[1]->i;
      t->size = int_tuple(a[2], "tensor size");
      t->stride = int_tuple(a[3], "tensor stride");
      if (t->size.size() != t->stride.size()) bad("tensor size and stride differ in length");
      auto v = make(Value::Kind::Tensor);
      v->tensor = t;
      return v;
    }
    if (callable->s == "_rebuild_parameter") {
      if (a.empty() || a[0]->kind != Value::Kind::Tensor) bad("malformed _rebuild_parameter arguments");
      return a[0];
    }
    bad("call of " + callable->module + "." + callable->s + " is not allowed");
  }

  std::string_view data_;
  std::string origin_;
  size_t pos_ = 0;
  std::vector<std::unique_ptr<Value>> arena_;  // every Value made; the result stays valid while *this lives
  std::vector<ValuePtr> stack_;
  std::map<uint64_t, ValuePtr> memo_;
  std::map<std::string, std::shared_ptr<StorageRef>> storages_;
};

// A view may repeat storage elements (stride 0, as expand() makes: BERT's position_ids buffer is one). Making it
// contiguous can then need more memory than the file holds; beyond this many bytes that is refused, so a tiny
// hostile file cannot ask for terabytes.
constexpr uint64_t kMaxExpandedBytes = 256ull << 20;

// Gathers a (possibly strided) view of a storage into a contiguous tensor. Every size, stride, offset and byte
// count comes from the file, so all arithmetic is checked before anything is allocated or read.
Tensor materialize(const TensorRef& t, std::string_view storage, const std::string& origin, const std::string& name) {
  const int64_t elem = static_cast<int64_t>(dtype_size(t.storage->dtype));
  const int64_t storage_numel = t.storage->numel;  // ≥ 0 (checked by the unpickler)
  if (static_cast<uint64_t>(storage_numel) > storage.size() / elem)
    fail(origin, ": storage ", t.storage->key, " of tensor \"", name, "\" holds ", storage.size(), " bytes, but ",
         storage_numel, " elements of ", dtype_name(t.storage->dtype), " need more");
  // Element count: the product of the non-zero dimensions must fit (bytes included) in int64, so that no
  // product over the shape overflows, whatever the order of its factors.
  int64_t numel = 1;
  bool empty = false;
  for (int64_t d : t.size) {
    if (d < 0) fail(origin, ": tensor \"", name, "\" has a negative dimension in ", shape_str(t.size));
    if (d == 0) {
      empty = true;
      continue;
    }
    if (__builtin_mul_overflow(numel, d, &numel) || numel > INT64_MAX / elem)
      fail(origin, ": tensor \"", name, "\" has an impossibly large shape ", shape_str(t.size));
  }
  if (empty) return Tensor(t.storage->dtype, t.size);
  // Largest storage index touched: offset + Σ (size_j − 1)·stride_j (strides are non-negative in torch.save).
  if (t.offset < 0) fail(origin, ": tensor \"", name, "\" has a negative storage offset ", t.offset);
  int64_t last = t.offset, step;
  bool overflow = false;
  for (size_t j = 0; j < t.size.size(); ++j) {
    if (t.stride[j] < 0) fail(origin, ": tensor \"", name, "\" has a negative stride in ", shape_str(t.stride));
    overflow |= __builtin_mul_overflow(t.size[j] - 1, t.stride[j], &step) || __builtin_add_overflow(last, step, &last);
  }
  if (overflow || last >= storage_numel)
    fail(origin, ": tensor \"", name, "\" (size ", shape_str(t.size), ", stride ", shape_str(t.stride), ", offset ",
         t.offset, ") reads past the end of storage ", t.storage->key, ", which has ", storage_numel, " elements");
  const uint64_t bytes = static_cast<uint64_t>(numel) * elem;
  if (bytes > static_cast<uint64_t>(storage_numel) * elem && bytes > kMaxExpandedBytes)
    fail(origin, ": tensor \"", name, "\" repeats the ", storage_numel * elem, " bytes of storage ", t.storage->key,
         " into ", bytes, " bytes (size ", shape_str(t.size), ", stride ", shape_str(t.stride),
         "); refusing to expand a view beyond ", kMaxExpandedBytes, " bytes");

  Tensor out(t.storage->dtype, t.size);
  auto* dst = static_cast<char*>(out.data());
  const char* src = storage.data();
  // Contiguous (C-order) strides: one copy.
  bool contiguous = true;
  int64_t expect = 1;
  for (size_t j = t.size.size(); j-- > 0;) {
    if (t.size[j] != 1 && t.stride[j] != expect) contiguous = false;
    expect *= t.size[j];
  }
  if (contiguous) {
    std::memcpy(dst, src + t.offset * elem, numel * elem);
    return out;
  }
  std::vector<int64_t> index(t.size.size(), 0);
  for (int64_t k = 0; k < numel; ++k) {
    int64_t at = t.offset;
    for (size_t j = 0; j < index.size(); ++j) at += index[j] * t.stride[j];
    std::memcpy(dst + k * elem, src + at * elem, elem);
    for (size_t j = index.size(); j-- > 0;) {
      if (++index[j] < t.size[j]) break;
      index[j] = 0;
    }
  }
  return out;
}

[[noreturn]] void fail_not_zip(const std::string& path) {
  fail(path, ": not a zip-format torch checkpoint (legacy pre-1.6 torch.save files are not supported; re-save it "
             "with a current torch or convert it to safetensors)");
}

std::map<std::string, Tensor> load_state_dict(const ZipArchive& zip) {
  const std::string& path = zip.path();
  if (zip.names().empty()) fail(path, ": empty archive");
  const std::string first = zip.names()[0];
  const std::string prefix = first.substr(0, first.find('/'));
  const std::string pkl = prefix + "/data.pkl";
  if (!zip.contains(pkl)) fail(path, ": archive has no ", pkl, " (not a torch.save checkpoint)");
  if (zip.contains(prefix + "/byteorder")) {
    const std::string_view order = zip.record(prefix + "/byteorder");
    if (order.substr(0, 3) == "big") fail(path, ": big-endian torch checkpoints are not supported");
  }
  Unpickler unpickler(zip.record(pkl), path);
  const ValuePtr root = unpickler.run();
  if (root->kind != Value::Kind::Dict) fail(path, ": data.pkl does not hold a dict of tensors (a state dict)");
  std::map<std::string, Tensor> out;
  for (const auto& [k, v] : root->dict) {
    if (k->kind != Value::Kind::String) fail(path, ": state dict key is not a string");
    if (v->kind != Value::Kind::Tensor)
      fail(path, ": state dict entry \"", k->s, "\" is not a tensor (accent reads tensor state dicts only)");
    const std::string record = prefix + "/data/" + v->tensor->storage->key;
    if (!zip.contains(record)) fail(path, ": tensor \"", k->s, "\" refers to missing record ", record);
    out[k->s] = materialize(*v->tensor, zip.record(record), path, k->s);
  }
  return out;
}
}  // namespace

std::map<std::string, Tensor> load_torch_bin(const std::string& path) {
  if (!std::filesystem::exists(path)) fail(path, ": no such file");
  if (!ZipArchive::looks_like_zip(path)) fail_not_zip(path);
  return load_state_dict(*ZipArchive::open(path));
}

std::map<std::string, Tensor> load_torch_bin_bytes(std::string_view bytes, const std::string& origin) {
  if (bytes.substr(0, 4) != std::string_view("PK\x03\x04", 4)) fail_not_zip(origin);
  return load_state_dict(*ZipArchive::from_bytes(bytes, origin));
}

std::map<std::string, Tensor> load_torch_bin_dir(const std::string& dir) {
  namespace fs = std::filesystem;
  const fs::path single = fs::path(dir) / "pytorch_model.bin";
  if (fs::exists(single)) return load_torch_bin(single.string());
  const fs::path index_path = fs::path(dir) / "pytorch_model.bin.index.json";
  if (!fs::exists(index_path)) fail(dir, ": no pytorch_model.bin or pytorch_model.bin.index.json");
  const ShardIndex index = read_shard_index(index_path.string());
  std::map<std::string, Tensor> out;
  for (const auto& shard : index.shard_files())
    for (auto& [name, t] : load_torch_bin((fs::path(dir) / shard).string())) out[name] = t;
  for (const auto& [name, file] : index.weight_map)
    if (!out.count(name)) fail(index_path.string(), ": tensor \"", name, "\" is not in its shard ", file);
  return out;
}

}  // namespace accent
