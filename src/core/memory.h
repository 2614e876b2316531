// core/memory.h — where a tensor's bytes live: host RAM, or the memory of an accelerator.
//
// A MemoryResource allocates, frees, copies and zeroes bytes in one memory. core knows only the host one; a
// backend with its own memory (ops/cuda) supplies another, and ops/memory.h's memory_for(OpContext) says which
// one an op context's pointers live in. Tensors carry their resource (core/tensor.h), so a handle frees its bytes
// where they were allocated and a copy between memories is one call (Tensor::to_memory).
#pragma once
#include <cstddef>

namespace accent {

class MemoryResource {
 public:
  virtual ~MemoryResource() = default;
  // "host", "cuda" — for messages.
  virtual const char* name() const = 0;
  bool is_host() const { return this == &host_memory_resource(); }

  // Zero-filled, 64-byte aligned; never returns null for bytes > 0 (throws accent::Error when out of memory).
  virtual void* allocate(size_t bytes) const = 0;
  // Never throws (called from destructors).
  virtual void release(void* ptr) const noexcept = 0;
  // Host → this memory; the source may be reused when the call returns.
  virtual void copy_from_host(void* dst, const void* host_src, size_t bytes) const = 0;
  // This memory → host; the bytes are there when the call returns.
  virtual void copy_to_host(void* host_dst, const void* src, size_t bytes) const = 0;
  // Within this memory (the ranges do not overlap).
  virtual void copy(void* dst, const void* src, size_t bytes) const = 0;
  virtual void fill_zero(void* dst, size_t bytes) const = 0;

  static const MemoryResource& host_memory_resource();
};

// The host RAM resource (aligned_alloc + memset, or for 1 MiB and more an anonymous mapping whose pages the kernel
// zeroes on first touch: core/tensor.cpp).
inline const MemoryResource& host_memory() { return MemoryResource::host_memory_resource(); }

}  // namespace accent
