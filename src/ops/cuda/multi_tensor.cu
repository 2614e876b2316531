// ops/cuda/multi_tensor.cu — AdamW, the global gradient norm and clipping over every tensor in one launch each
// (multi_tensor.h). The host cuts all tensors into chunks of kChunk elements; block k of a launch handles task k
// (tensor, first element). Descriptors and tasks are uploaded once and re-uploaded only when they change (the
// parameter list of a model does not), so a step sends nothing but the scalars.
#include <cstring>
#include <vector>

#include "core/error.h"
#include "ops/cuda/kernels.h"
#include "ops/cuda/reduce.cuh"
#include "ops/cuda/runtime.h"

namespace accent::cuda {

namespace {

constexpr int64_t kChunk = 16384;
constexpr int kMultiThreads = 512;

struct Task {
  int32_t tensor;
  int64_t offset;
};

// Device copies of a descriptor array and its task list, re-uploaded only when the bytes differ from last time.
template <typename Desc>
struct TaskList {
  const Desc* descs = nullptr;
  const Task* tasks = nullptr;
  int64_t task_count = 0;
  std::vector<int64_t> first_task;  // per tensor: index of its first task (host), size count + 1
};

// What the TensorList workspace holds now (shared by every descriptor type: they use the same workspace).
std::vector<unsigned char> g_uploaded;
const void* g_uploaded_to = nullptr;

template <typename Desc>
TaskList<Desc> upload_tasks(const Desc* descs, int count) {
  TaskList<Desc> list;
  std::vector<Task> tasks;
  list.first_task.reserve(count + 1);
  for (int t = 0; t < count; ++t) {
    list.first_task.push_back(static_cast<int64_t>(tasks.size()));
    for (int64_t off = 0; off < descs[t].n; off += kChunk) tasks.push_back({t, off});
  }
  list.first_task.push_back(static_cast<int64_t>(tasks.size()));
  list.task_count = static_cast<int64_t>(tasks.size());
  const size_t desc_bytes = sizeof(Desc) * count, task_bytes = sizeof(Task) * tasks.size();
  const size_t desc_offset = (task_bytes + 255) / 256 * 256;
  std::vector<unsigned char> bytes(desc_offset + desc_bytes);
  std::memcpy(bytes.data(), tasks.data(), task_bytes);
  std::memcpy(bytes.data() + desc_offset, descs, desc_bytes);
  auto* device = static_cast<unsigned char*>(workspace(Workspace::TensorList, bytes.size()));
  // The workspace may have moved (grown): compare the pointer too.
  if (bytes != g_uploaded || device != g_uploaded_to) {
    check(cudaMemcpyAsync(device, bytes.data(), bytes.size(), cudaMemcpyHostToDevice, stream()), "multi-tensor upload");
    check(cudaStreamSynchronize(stream()), "multi-tensor upload");  // `bytes` is a local: wait before it goes
    g_uploaded = std::move(bytes);
    g_uploaded_to = device;
  }
  list.tasks = reinterpret_cast<const Task*>(device);
  list.descs = reinterpret_cast<const Desc*>(device + desc_offset);
  return list;
}

__global__ void adamw_kernel(const AdamWTensor* descs, const Task* tasks, AdamWScalars s) {
  const Task task = tasks[blockIdx.x];
  const AdamWTensor a = descs[task.tensor];
  const int64_t end = min(a.n, task.offset + kChunk);
  for (int64_t i = task.offset + threadIdx.x; i < end; i += blockDim.x) {
    adamw_update_element(a.param[i], a.exp_avg[i], a.exp_avg_sq[i], a.grad[i] * s.grad_scale, a.decay_factor, s);
    if (s.zero_grad) a.grad[i] = 0.0f;
  }
}

__global__ void scale_kernel(const GradTensor* descs, const Task* tasks, float coef) {
  const Task task = tasks[blockIdx.x];
  const GradTensor g = descs[task.tensor];
  const int64_t end = min(g.n, task.offset + kChunk);
  for (int64_t i = task.offset + threadIdx.x; i < end; i += blockDim.x) g.grad[i] *= coef;
}

// partial[task] = Σ x² over the task's chunk (double).
__global__ void squares_kernel(const GradTensor* descs, const Task* tasks, double* partial) {
  __shared__ double shared[32];
  const Task task = tasks[blockIdx.x];
  const GradTensor g = descs[task.tensor];
  const int64_t end = min(g.n, task.offset + kChunk);
  double sq = 0.0;
  for (int64_t i = task.offset + threadIdx.x; i < end; i += blockDim.x)
    sq += static_cast<double>(g.grad[i]) * g.grad[i];
  sq = block_sum(sq, shared);
  if (threadIdx.x == 0) partial[blockIdx.x] = sq;
}

// One thread: per tensor, its tasks' partials in order → float norm; total = float(√Σ norm²). Tensors with no
// elements contribute 0. The sequential sums are over a few thousand doubles: microseconds.
__global__ void norm_finish_kernel(const double* partial, const int64_t* first_task, int count, double* total) {
  double total_sq = 0.0;
  for (int t = 0; t < count; ++t) {
    double sq = 0.0;
    for (int64_t k = first_task[t]; k < first_task[t + 1]; ++k) sq += partial[k];
    const float norm = static_cast<float>(sqrt(sq));
    total_sq += static_cast<double>(norm) * norm;
  }
  *total = static_cast<float>(sqrt(total_sq));
}

}  // namespace

void adamw_update(const AdamWTensor* tensors, int count, const AdamWScalars& scalars) {
  if (count == 0) return;
  const auto list = upload_tasks(tensors, count);
  if (list.task_count == 0) return;
  adamw_kernel<<<static_cast<unsigned>(list.task_count), kMultiThreads, 0, stream()>>>(list.descs, list.tasks, scalars);
  check_launch("adamw_update");
}

void scale_tensors(const GradTensor* tensors, int count, float coef) {
  if (count == 0) return;
  const auto list = upload_tasks(tensors, count);
  if (list.task_count == 0) return;
  scale_kernel<<<static_cast<unsigned>(list.task_count), kMultiThreads, 0, stream()>>>(list.descs, list.tasks, coef);
  check_launch("scale_tensors");
}

double global_grad_norm(const GradTensor* tensors, int count) {
  if (count == 0) return 0.0;
  const auto list = upload_tasks(tensors, count);
  // Partials, then the per-tensor task boundaries, then the total, in one workspace.
  const size_t partial_bytes = sizeof(double) * std::max<int64_t>(list.task_count, 1);
  const size_t first_bytes = sizeof(int64_t) * list.first_task.size();
  auto* base = static_cast<unsigned char*>(workspace(Workspace::NormPartials, partial_bytes + first_bytes + 8));
  auto* partial = reinterpret_cast<double*>(base);
  auto* first = reinterpret_cast<int64_t*>(base + partial_bytes);
  auto* total = reinterpret_cast<double*>(base + partial_bytes + first_bytes);
  check(cudaMemcpyAsync(first, list.first_task.data(), first_bytes, cudaMemcpyHostToDevice, stream()), "norm tasks");
  if (list.task_count > 0) {
    squares_kernel<<<static_cast<unsigned>(list.task_count), kMultiThreads, 0, stream()>>>(list.descs, list.tasks,
                                                                                             partial);
    check_launch("global_grad_norm");
  }
  norm_finish_kernel<<<1, 1, 0, stream()>>>(partial, first, count, total);
  check_launch("global_grad_norm (finish)");
  double host = 0.0;
  check(cudaMemcpyAsync(&host, total, sizeof host, cudaMemcpyDeviceToHost, stream()), "global_grad_norm");
  check(cudaStreamSynchronize(stream()), "global_grad_norm");  // also keeps list.first_task alive for the copy
  return host;
}

}  // namespace accent::cuda
