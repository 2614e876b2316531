#include "dist/nccl_communicator.h"

#include "core/error.h"

#if ACCENT_WITH_CUDA
#include <dlfcn.h>
#include <nccl.h>

#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "ops/cuda/runtime.h"
#endif

namespace accent {

#if ACCENT_WITH_CUDA

namespace {

// The NCCL entry points accent uses, resolved from the shared library.
struct Nccl {
  decltype(&::ncclGetUniqueId) get_unique_id = nullptr;
  decltype(&::ncclCommInitRank) comm_init_rank = nullptr;
  decltype(&::ncclAllReduce) all_reduce = nullptr;
  decltype(&::ncclCommDestroy) comm_destroy = nullptr;
  decltype(&::ncclCommAbort) comm_abort = nullptr;
  decltype(&::ncclCommGetAsyncError) comm_get_async_error = nullptr;
  decltype(&::ncclGetErrorString) get_error_string = nullptr;
};

const Nccl& nccl() {
  static const Nccl n = [] {
    Nccl l;
    void* lib = nullptr;
    for (const char* name : {"libnccl.so.2", "libnccl.so"}) {
      lib = dlopen(name, RTLD_NOW | RTLD_LOCAL);
      if (lib) break;
    }
    ACCENT_CHECK(lib, "data-parallel training on GPUs: libnccl.so.2 (NCCL) was not found: install the CUDA "
                      "toolkit's NCCL or add its lib directory to LD_LIBRARY_PATH (", dlerror(), ")");
    auto sym = [&](auto& fn, const char* name) {
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(lib, name));
      ACCENT_CHECK(fn, "NCCL: libnccl has no ", name);
    };
    sym(l.get_unique_id, "ncclGetUniqueId");
    sym(l.comm_init_rank, "ncclCommInitRank");
    sym(l.all_reduce, "ncclAllReduce");
    sym(l.comm_destroy, "ncclCommDestroy");
    sym(l.comm_abort, "ncclCommAbort");
    sym(l.comm_get_async_error, "ncclCommGetAsyncError");
    sym(l.get_error_string, "ncclGetErrorString");
    return l;
  }();
  return n;
}

void nccl_check(ncclResult_t r, const char* what) {
  ACCENT_CHECK(r == ncclSuccess, "NCCL ", what, " failed: ", nccl().get_error_string(r));
}

}  // namespace

struct NcclCommunicator::Impl {
  ncclComm_t comm = nullptr;
  int rank = 0;
  bool failed = false;
};

NcclCommunicator::NcclCommunicator(ProcessGroup& group) : impl_(std::make_unique<Impl>()) {
  const Nccl& n = nccl();
  impl_->rank = group.rank();
  // Rank 0's unique id reaches every rank through the Gloo group (torch does the same through its store).
  ncclUniqueId id{};
  if (group.rank() == 0) nccl_check(n.get_unique_id(&id), "ncclGetUniqueId");
  std::vector<char> mine(sizeof id);
  std::memcpy(mine.data(), &id, sizeof id);
  const auto all = group.allgather(mine, "sharing NCCL's unique id");
  ACCENT_CHECK(all[0].size() == sizeof id, "NCCL: rank 0 sent a unique id of ", all[0].size(), " bytes");
  std::memcpy(&id, all[0].data(), sizeof id);
  cuda::stream();  // selects and initialises this rank's GPU before NCCL binds to it
  nccl_check(n.comm_init_rank(&impl_->comm, group.world_size(), id, group.rank()), "ncclCommInitRank");
}

NcclCommunicator::~NcclCommunicator() {
  if (!impl_->comm) return;
  // After a failure the communicator may be stuck in a collective: abort instead of a destroy that waits for it.
  if (impl_->failed) nccl().comm_abort(impl_->comm);
  else nccl().comm_destroy(impl_->comm);
}

void NcclCommunicator::allreduce_sum(float* data, size_t n) {
  if (n == 0) return;
  const ncclResult_t r = nccl().all_reduce(data, data, n, ncclFloat32, ncclSum, impl_->comm, cuda::stream());
  if (r != ncclSuccess) impl_->failed = true;
  nccl_check(r, "all-reduce of gradients");
}

void NcclCommunicator::check_errors() {
  ncclResult_t async = ncclSuccess;
  nccl_check(nccl().comm_get_async_error(impl_->comm, &async), "ncclCommGetAsyncError");
  if (async != ncclSuccess) impl_->failed = true;
  ACCENT_CHECK(async == ncclSuccess, "data-parallel training failed on rank ", impl_->rank,
               ": NCCL reported an error in the gradient all-reduce (a peer failed or the network did): ",
               nccl().get_error_string(async));
}

#else  // no CUDA backend in this build

struct NcclCommunicator::Impl {};

NcclCommunicator::NcclCommunicator(ProcessGroup&) {
  fail("data-parallel training on GPUs needs NCCL, which comes with the CUDA backend; this build has none "
       "(configure with the CUDA toolkit installed)");
}
NcclCommunicator::~NcclCommunicator() = default;
void NcclCommunicator::allreduce_sum(float*, size_t) {}
void NcclCommunicator::check_errors() {}

#endif

}  // namespace accent
