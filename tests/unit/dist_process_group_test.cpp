// dist/: torchrun's environment, the TCP rendezvous store, the Gloo process group's collectives and the bucketed
// gradient reducer — ranks as threads of this process over loopback.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "core/dtype.h"
#include "core/error.h"
#include "core/rng.h"
#include "dist/distributed_env.h"
#include "dist/grad_reducer.h"
#include "dist/process_group.h"
#include "dist/tcp_store.h"
#include "test_util.h"

using namespace accent;
using accent::testing::free_loopback_port;

namespace {


DistributedEnv env_of(int rank, int world, int port) {
  DistributedEnv e;
  e.rank = e.local_rank = rank;
  e.world_size = e.local_world_size = world;
  e.master_addr = "127.0.0.1";
  e.master_port = port;
  e.local_addr = "127.0.0.1";
  return e;
}

// Runs body(rank) on `world` threads and rethrows the first failure.
void on_ranks(int world, const std::function<void(int)>& body) {
  std::vector<std::thread> threads;
  std::vector<std::string> errors(world);
  for (int r = 0; r < world; ++r)
    threads.emplace_back([&, r] {
      try {
        body(r);
      } catch (const std::exception& e) {
        errors[r] = e.what();
      }
    });
  for (auto& t : threads) t.join();
  for (int r = 0; r < world; ++r) EXPECT_EQ(errors[r], "") << "rank " << r;
}

std::function<const char*(const char*)> env_map(const std::map<std::string, std::string>& m) {
  return [m](const char* name) -> const char* {
    const auto it = m.find(name);
    return it == m.end() ? nullptr : it->second.c_str();
  };
}

}  // namespace

TEST(DistEnv, ReadsTorchrunsVariables) {
  EXPECT_FALSE(distributed_env_from_environment(env_map({})).has_value());
  const auto e = distributed_env_from_environment(env_map({{"RANK", "3"}, {"LOCAL_RANK", "1"}, {"WORLD_SIZE", "4"},
                                                           {"LOCAL_WORLD_SIZE", "2"}, {"MASTER_ADDR", "10.0.0.1"},
                                                           {"MASTER_PORT", "29555"}}));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->rank, 3);
  EXPECT_EQ(e->local_rank, 1);
  EXPECT_EQ(e->world_size, 4);
  EXPECT_EQ(e->local_world_size, 2);
  EXPECT_EQ(e->master_addr, "10.0.0.1");
  EXPECT_EQ(e->master_port, 29555);
  EXPECT_FALSE(e->is_world_process_zero());
}

TEST(DistEnv, InconsistentVariablesNameTheVariable) {
  auto message = [](const std::map<std::string, std::string>& m) {
    try {
      distributed_env_from_environment(env_map(m));
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message({{"WORLD_SIZE", "2"}, {"RANK", "2"}}).find("RANK"), std::string::npos);
  EXPECT_NE(message({{"WORLD_SIZE", "two"}, {"RANK", "0"}}).find("WORLD_SIZE"), std::string::npos);
  EXPECT_NE(message({{"WORLD_SIZE", "2"}, {"RANK", "0"}, {"MASTER_PORT", "70000"}}).find("MASTER_PORT"),
            std::string::npos);
}

TEST(DistTcpStore, ValuesSetByOneRankReachTheOthers) {
  const int port = free_loopback_port();
  on_ranks(3, [&](int rank) {
    TcpStore store("127.0.0.1", port, rank, std::chrono::seconds(20));
    store.set("key/" + std::to_string(rank), std::vector<char>(static_cast<size_t>(rank + 1), 'a' + rank));
    for (int r = 0; r < 3; ++r) {
      const std::vector<char> v = store.get("key/" + std::to_string(r));
      EXPECT_EQ(v, std::vector<char>(static_cast<size_t>(r + 1), 'a' + r));
    }
    EXPECT_TRUE(store.lost_ranks().empty());
    // Rank 0 hosts the store: it leaves last.
    store.set("done/" + std::to_string(rank), {'1'});
    if (rank == 0) store.wait({"done/1", "done/2"});
  });
}

TEST(DistProcessGroup, CollectivesOverTwoAndThreeRanks) {
  for (int world : {2, 3}) {
    const int port = free_loopback_port();
    on_ranks(world, [&](int rank) {
      ProcessGroup group(env_of(rank, world, port), std::chrono::seconds(30));
      // fp32 sum: every rank ends with the same sums.
      std::vector<float> x(1000);
      for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(rank + 1) * 0.5f + static_cast<float>(i);
      group.allreduce_sum(x.data(), x.size(), "test");
      const float ranks_sum = 0.5f * static_cast<float>(world * (world + 1) / 2);
      for (size_t i = 0; i < x.size(); ++i) ASSERT_EQ(x[i], ranks_sum + static_cast<float>(world * i)) << i;
      double d = 0.25 * rank;
      group.allreduce_sum(&d, 1, "test");
      EXPECT_EQ(d, 0.25 * world * (world - 1) / 2);
      // bf16 compression: within bf16 rounding.
      std::vector<float> y(300, 1.0f + 0.001f * static_cast<float>(rank));
      group.allreduce_sum_bf16(y.data(), y.size(), "test");
      for (float v : y) EXPECT_NEAR(v, world * 1.0, world * 0.01);
      EXPECT_EQ(group.allreduce_max(10 * rank, "test"), 10 * (world - 1));
      // Allgather of different lengths (rank r sends r bytes), in rank order.
      const auto all = group.allgather(std::vector<char>(static_cast<size_t>(rank), static_cast<char>('0' + rank)),
                                       "test");
      ASSERT_EQ(all.size(), static_cast<size_t>(world));
      for (int r = 0; r < world; ++r) EXPECT_EQ(all[r], std::vector<char>(static_cast<size_t>(r), '0' + r));
      group.barrier("test");
    });
  }
}

TEST(DistGradReducer, BucketsAverageTheGradientsOverRanks) {
  const int world = 2, port = free_loopback_port();
  std::vector<std::vector<std::vector<float>>> results(world);
  on_ranks(world, [&](int rank) {
    ProcessGroup group(env_of(rank, world, port), std::chrono::seconds(30));
    // Five parameters of 100–500 floats; buckets of 1 KB → several buckets (a parameter never straddles two).
    std::vector<Parameter> storage(5);
    ParameterList params;
    for (size_t p = 0; p < storage.size(); ++p) {
      storage[p].name = "p" + std::to_string(p);
      storage[p].value = Tensor::zeros({static_cast<int64_t>(100 * (p + 1))});
      storage[p].grad = Tensor::zeros({static_cast<int64_t>(100 * (p + 1))});
      params.push_back(&storage[p]);
    }
    storage[2].trainable = false;  // frozen: not reduced, left alone
    GradReducer reducer(group, params, GradReducerOptions{1024, false});
    EXPECT_GE(reducer.num_buckets(), 3u);
    for (int step = 1; step <= 3; ++step) {
      for (size_t p = 0; p < storage.size(); ++p) {
        float* g = storage[p].grad.f32();
        for (int64_t i = 0; i < storage[p].grad.numel(); ++i)
          g[i] = static_cast<float>(step * 1000 + rank * 100) + static_cast<float>(p) + 0.001f * static_cast<float>(i);
      }
      reducer.begin_step(step);
      // Backward reports the last parameters first (as the model's hook does); the rest come from finish().
      reducer.grads_ready({params[4]});
      reducer.grads_ready({params[3], params[2]});
      reducer.finish();
      for (size_t p = 0; p < storage.size(); ++p) {
        const float* g = storage[p].grad.f32();
        for (int64_t i = 0; i < storage[p].grad.numel(); ++i) {
          const float own = static_cast<float>(step * 1000 + rank * 100) + static_cast<float>(p) +
                            0.001f * static_cast<float>(i);
          const float mean = (static_cast<float>(step * 1000) + static_cast<float>(p) + 0.001f * static_cast<float>(i) +
                              static_cast<float>(step * 1000 + 100) + static_cast<float>(p) +
                              0.001f * static_cast<float>(i)) * 0.5f;
          ASSERT_FLOAT_EQ(g[i], p == 2 ? own : mean) << "step " << step << " p" << p << "[" << i << "]";
        }
      }
    }
    EXPECT_EQ(reducer.stats().steps, 3);
    EXPECT_EQ(reducer.stats().bytes_per_step, (100 + 200 + 400 + 500) * sizeof(float));
  });
}

TEST(DistRngShard, EachShardDrawsItsRowsOfTheWholeBatchStream) {
  // One process draws 2n values for a 2-row tensor, then 2m for another; two shards draw n and m each (their row)
  // and land on the same values and the same final counter.
  const uint64_t n = 37, m = 5;
  Rng whole(123, 9);
  const uint64_t first = whole.reserve(2 * n), second = whole.reserve(2 * m);
  for (uint32_t r = 0; r < 2; ++r) {
    Rng shard(123, 9);
    shard.set_shard(r, 2);
    EXPECT_EQ(shard.reserve(n), first + r * n);
    EXPECT_EQ(shard.reserve(m), second + r * m);
    EXPECT_EQ(shard.counter(), whole.counter());
  }
  // Unsharded, reserve is the plain draw.
  Rng plain(1, 4);
  EXPECT_EQ(plain.reserve(10), 4u);
  EXPECT_EQ(plain.counter(), 14u);
}
