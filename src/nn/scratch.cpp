#include "nn/scratch.h"

#include <atomic>

namespace accent {

namespace {
std::atomic<int64_t> g_allocations{0};
thread_local const MemoryResource* t_placement = nullptr;  // null: host
}  // namespace

ScratchPlacement::ScratchPlacement(const MemoryResource& memory) : previous_(t_placement) { t_placement = &memory; }
ScratchPlacement::~ScratchPlacement() { t_placement = previous_; }
const MemoryResource& ScratchPlacement::current() { return t_placement ? *t_placement : host_memory(); }

int64_t ScratchBuffer::total_allocations() { return g_allocations.load(); }

ScratchBuffer& shared_scratch(SharedSlot slot) {
  // One set per memory kind: a thread that runs a host model and a GPU model in turn keeps both sets.
  thread_local ScratchBuffer buffers[2][static_cast<int>(SharedSlot::Count)];
  return buffers[ScratchPlacement::current().is_host() ? 0 : 1][static_cast<int>(slot)];
}

namespace {
thread_local bool t_inference_scratch = false;
}  // namespace

InferenceScratch::InferenceScratch() : previous_(t_inference_scratch) { t_inference_scratch = true; }
InferenceScratch::~InferenceScratch() { t_inference_scratch = previous_; }
bool InferenceScratch::active() { return t_inference_scratch; }

void* ScratchBuffer::reserve(int64_t bytes) {
  if (t_inference_scratch && static_cast<int>(inference_slot_) >= 0) return shared_scratch(inference_slot_).reserve(bytes);
  const MemoryResource& memory = ScratchPlacement::current();
  if (bytes > storage_.numel() || &storage_.memory() != &memory) {
    storage_ = Tensor(DType::U8, {bytes}, memory);
    g_allocations.fetch_add(1);
  }
  return storage_.data();
}

}  // namespace accent
