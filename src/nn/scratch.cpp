#include "nn/scratch.h"

#include <atomic>

namespace accent {

namespace {
std::atomic<int64_t> g_allocations{0};
}

int64_t ScratchBuffer::total_allocations() { return g_allocations.load(); }

ScratchBuffer& shared_scratch(SharedSlot slot) {
  thread_local ScratchBuffer buffers[static_cast<int>(SharedSlot::Count)];
  return buffers[static_cast<int>(slot)];
}

void* ScratchBuffer::reserve(int64_t bytes) {
  if (bytes > storage_.numel()) {
    storage_ = Tensor(DType::U8, {bytes});
    g_allocations.fetch_add(1);
  }
  return storage_.data();
}

}  // namespace accent
