#include "core/tensor.h"

#include <cstdlib>
#include <cstring>

#include <sys/mman.h>

namespace accent {

int64_t shape_numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    ACCENT_CHECK(d >= 0, "negative dimension in shape ", shape_str(shape));
    n *= d;
  }
  return n;
}

std::string shape_str(const Shape& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

namespace detail {

uint64_t next_tensor_version() {
  static std::atomic<uint64_t> counter{0};
  return counter.fetch_add(1, std::memory_order_relaxed) + 1;
}

TensorStorage::TensorStorage(size_t nbytes, const MemoryResource& memory_resource) : memory(&memory_resource) {
  // At least one byte, so that a defined tensor always has a non-null data pointer.
  bytes = static_cast<std::byte*>(memory->allocate(nbytes == 0 ? 1 : nbytes));
  version.store(next_tensor_version(), std::memory_order_relaxed);
}

TensorStorage::~TensorStorage() { memory->release(bytes); }

}  // namespace detail

namespace {

// Host allocations carry a 64-byte header before the bytes they hand out, saying how they were made:
//   small (< kMappedBytes): aligned_alloc, zeroed with memset;
//   large: an anonymous private mapping, which the kernel hands out as zero pages on first touch. Nothing is written,
//          so a zero tensor that is never written (a parameter's gradient during inference) costs address space
//          only, not resident memory — the reason for the split.
// Large tensors are long-lived (parameters, gradients, optimizer state, grow-only scratch: nn/scratch.h), so the
// mapping's cost (a system call, page faults on first touch) is paid once, as the memset was.
struct HostBlockHeader {
  uint64_t mapped_bytes;  // the mapping's length; 0 = aligned_alloc
  unsigned char pad[56];
};
static_assert(sizeof(HostBlockHeader) == 64, "the header keeps the data 64-byte aligned");
constexpr size_t kMappedBytes = size_t{1} << 20;

class HostMemory final : public MemoryResource {
 public:
  const char* name() const override { return "host"; }
  void* allocate(size_t nbytes) const override {
    const size_t rounded = ((nbytes + 63) / 64) * 64;
    const size_t total = rounded + sizeof(HostBlockHeader);
    if (rounded >= kMappedBytes) {
      void* base = ::mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (base == MAP_FAILED) fail("out of memory allocating ", nbytes, " bytes");
      static_cast<HostBlockHeader*>(base)->mapped_bytes = total;
      return static_cast<char*>(base) + sizeof(HostBlockHeader);
    }
    void* base = std::aligned_alloc(64, total);
    if (!base) fail("out of memory allocating ", nbytes, " bytes");
    static_cast<HostBlockHeader*>(base)->mapped_bytes = 0;
    char* p = static_cast<char*>(base) + sizeof(HostBlockHeader);
    std::memset(p, 0, rounded);
    return p;
  }
  void release(void* ptr) const noexcept override {
    if (!ptr) return;
    auto* header = reinterpret_cast<HostBlockHeader*>(static_cast<char*>(ptr) - sizeof(HostBlockHeader));
    if (header->mapped_bytes)
      ::munmap(header, header->mapped_bytes);
    else
      std::free(header);
  }
  void copy_from_host(void* dst, const void* src, size_t n) const override { if (n) std::memcpy(dst, src, n); }
  void copy_to_host(void* dst, const void* src, size_t n) const override { if (n) std::memcpy(dst, src, n); }
  void copy(void* dst, const void* src, size_t n) const override { if (n) std::memcpy(dst, src, n); }
  void fill_zero(void* dst, size_t n) const override { if (n) std::memset(dst, 0, n); }
};

}  // namespace

const MemoryResource& MemoryResource::host_memory_resource() {
  static const HostMemory* host = new HostMemory;  // never destroyed: tensors may outlive static destruction
  return *host;
}

namespace {

// Reads element i of a buffer of type t as double (exact for every type accent converts).
double load_as_double(const void* p, DType t, int64_t i) {
  switch (t) {
    case DType::F32: return static_cast<const float*>(p)[i];
    case DType::F64: return static_cast<const double*>(p)[i];
    case DType::F16: return f16_to_f32(static_cast<const uint16_t*>(p)[i]);
    case DType::BF16: return bf16_to_f32(static_cast<const uint16_t*>(p)[i]);
    case DType::I64: return static_cast<double>(static_cast<const int64_t*>(p)[i]);
    case DType::I32: return static_cast<const int32_t*>(p)[i];
    case DType::I16: return static_cast<const int16_t*>(p)[i];
    case DType::I8: return static_cast<const int8_t*>(p)[i];
    case DType::U8: return static_cast<const uint8_t*>(p)[i];
    case DType::BOOL: return static_cast<const uint8_t*>(p)[i] != 0;
    case DType::U16: return static_cast<const uint16_t*>(p)[i];
    case DType::U32: return static_cast<const uint32_t*>(p)[i];
    case DType::U64: return static_cast<double>(static_cast<const uint64_t*>(p)[i]);
  }
  return 0;
}

void store_from_double(void* p, DType t, int64_t i, double v) {
  switch (t) {
    case DType::F32: static_cast<float*>(p)[i] = static_cast<float>(v); break;
    case DType::F64: static_cast<double*>(p)[i] = v; break;
    case DType::F16: static_cast<uint16_t*>(p)[i] = f32_to_f16(static_cast<float>(v)); break;
    case DType::BF16: static_cast<uint16_t*>(p)[i] = f32_to_bf16(static_cast<float>(v)); break;
    case DType::I64: static_cast<int64_t*>(p)[i] = static_cast<int64_t>(v); break;
    case DType::I32: static_cast<int32_t*>(p)[i] = static_cast<int32_t>(v); break;
    case DType::I16: static_cast<int16_t*>(p)[i] = static_cast<int16_t>(v); break;
    case DType::I8: static_cast<int8_t*>(p)[i] = static_cast<int8_t>(v); break;
    case DType::U8: static_cast<uint8_t*>(p)[i] = static_cast<uint8_t>(v); break;
    case DType::BOOL: static_cast<uint8_t*>(p)[i] = v != 0; break;
    case DType::U16: static_cast<uint16_t*>(p)[i] = static_cast<uint16_t>(v); break;
    case DType::U32: static_cast<uint32_t*>(p)[i] = static_cast<uint32_t>(v); break;
    case DType::U64: static_cast<uint64_t*>(p)[i] = static_cast<uint64_t>(v); break;
  }
}
}  // namespace

Tensor::Tensor(DType dtype, Shape shape, const MemoryResource& memory) : dtype_(dtype), shape_(std::move(shape)) {
  numel_ = shape_numel(shape_);
  storage_ = std::make_shared<detail::TensorStorage>(nbytes(), memory);
}

Tensor Tensor::from_bytes(DType dtype, Shape shape, const void* bytes) {
  Tensor t(dtype, std::move(shape));
  if (t.nbytes()) std::memcpy(t.data(), bytes, t.nbytes());
  return t;
}

Tensor Tensor::from_vector(Shape shape, const std::vector<float>& values) {
  Tensor t(DType::F32, std::move(shape));
  ACCENT_CHECK(static_cast<int64_t>(values.size()) == t.numel(), "from_vector: ", values.size(),
               " values for shape ", shape_str(t.shape()));
  if (!values.empty()) std::memcpy(t.data(), values.data(), t.nbytes());
  return t;
}

float* Tensor::f32() {
  ACCENT_CHECK(dtype_ == DType::F32, "expected an F32 tensor, got ", dtype_name(dtype_));
  return static_cast<float*>(data());
}
const float* Tensor::f32() const {
  ACCENT_CHECK(dtype_ == DType::F32, "expected an F32 tensor, got ", dtype_name(dtype_));
  return static_cast<const float*>(data());
}

Tensor Tensor::clone() const {
  if (!storage_) return *this;
  Tensor out(dtype_, shape_, memory());
  memory().copy(out.data(), data(), nbytes());
  return out;
}

Tensor Tensor::to_memory(const MemoryResource& target) const {
  if (!storage_ || &memory() == &target) return *this;
  Tensor out(dtype_, shape_, target);
  if (memory().is_host()) {
    target.copy_from_host(out.data(), data(), nbytes());
  } else if (target.is_host()) {
    memory().copy_to_host(out.data(), data(), nbytes());
  } else {  // between two accelerator memories: through the host
    Tensor staged = to_host();
    target.copy_from_host(out.data(), staged.data(), nbytes());
  }
  return out;
}

Tensor Tensor::to(DType dtype) const {
  if (dtype == dtype_) return *this;
  ACCENT_CHECK(on_host(), "converting a ", dtype_name(dtype_), " tensor of shape ", shape_str(shape_), " to ",
               dtype_name(dtype), " needs host memory, it lives in ", memory().name(), " memory");
  Tensor out(dtype, shape_);
  if (dtype_ == DType::BF16 && dtype == DType::F32) {
    const auto* src = data_as<uint16_t>();
    float* dst = out.f32();
    for (int64_t i = 0; i < numel_; ++i) dst[i] = bf16_to_f32(src[i]);
    return out;
  }
  void* dst = out.data();  // once: a non-const access stamps a version
  for (int64_t i = 0; i < numel_; ++i) store_from_double(dst, dtype, i, load_as_double(data(), dtype_, i));
  return out;
}

Tensor Tensor::reshape(Shape shape) const {
  ACCENT_CHECK(shape_numel(shape) == numel_, "cannot reshape ", shape_str(shape_), " to ", shape_str(shape));
  Tensor t = *this;
  t.shape_ = std::move(shape);
  return t;
}

void Tensor::zero() {
  if (storage_) memory().fill_zero(data(), nbytes());
}

}  // namespace accent
