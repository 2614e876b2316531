// Data-parallel training end to end, two processes over loopback on this machine (train/data_parallel.h):
//   - 2 ranks × batch 8 reach the weights of 1 process × batch 16 after 10 steps (BERT with dropout off and on,
//     GPT-2 with dropout on), within the fp32 reduction-order tolerance stated below;
//   - evaluation with 2 ranks gives exactly the single-process metrics (an odd number of rows: no row lost or
//     counted twice);
//   - a worker killed with SIGKILL makes the survivor stop within --ddp-timeout, naming the rank; the checkpoint
//     stays loadable, and resuming with 2 ranks reproduces the uninterrupted 2-rank run bit for bit;
//   - two "nodes": launchers on 127.0.0.2 and 127.0.0.3 give the single-launcher run's weights;
//   - ranks started with different arguments refuse to train, naming the rank and the argument.
#include <gtest/gtest.h>

#include <cctype>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "cli_test_data.h"
#include "core/fs.h"
#include "io/config.h"
#include "io/safetensors.h"
#include "test_util.h"

using namespace accent;
using namespace accent::testing;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

const std::string kCli = ACCENT_CLI_PATH;
const std::string kData = ACCENT_TEST_DATA_DIR;
const std::string kTwin = std::string(ACCENT_SOURCE_DIR) + "/tests/reference/family_twin.py";

std::map<std::string, std::vector<float>> read_weights(const std::string& dir) {
  std::map<std::string, std::vector<float>> out;
  const auto file = SafetensorsFile::open(dir + "/model.safetensors");
  for (const std::string& name : file->names()) {
    const Tensor t = file->load(name);
    out[name].assign(t.f32(), t.f32() + t.numel());
  }
  return out;
}

// How close W=2 × b must come to 1 × 2b after 10 AdamW steps (learning rate 1e-3) in fp32. The two runs add the
// same per-example gradients in another order ((Σ₈ + Σ₈)/2 against Σ₁₆/16 after the ring all-reduce), and the
// matmuls see 8 rows instead of 16: ~1e-7 relative differences, which stay ≤ 1e-5 of weight almost everywhere
// (measured: BERT 5e-8 without dropout, 4e-6 with). A row given the wrong dropout mask or the wrong example would
// move hundreds of weights by ~lr = 1e-3. The attention key bias is checked apart (below).
constexpr double kReductionOrderTolerance = 1e-4;
// The attention key bias, whose true gradient is exactly 0 (softmax ignores a shift shared by all keys): its
// gradient is rounding noise in both runs, and AdamW's m/√v scales noise up to ±lr per step — measured 4e-5 and
// 1.1e-4 on GPT-2's c_attn.bias (the packed rows of unpadded execution sum in another order again). A wrong key-bias
// gradient would move it by ~lr = 1e-3 per step, 1e-2 in 10; the bound is two steps' worth.
constexpr double kKeyBiasNoiseTolerance = 2e-3;

// Whether element i of tensor `name` is an attention key bias: BERT's "…key.bias", GPT-2's c_attn.bias middle third
// (its columns are q | k | v). Their true gradient is 0; see kReductionOrderTolerance.
bool is_key_bias(const std::string& name, size_t i, size_t n) {
  if (name.find("attention.self.key.bias") != std::string::npos) return true;
  return name.find("attn.c_attn.bias") != std::string::npos && i >= n / 3 && i < 2 * n / 3;
}

// The largest |a − b| over all weights (and the tensor it is in), attention key biases apart: those must stay within
// kKeyBiasNoiseTolerance, checked here.
std::pair<double, std::string> max_weight_difference(const std::string& dir_a, const std::string& dir_b) {
  const auto a = read_weights(dir_a), b = read_weights(dir_b);
  EXPECT_EQ(a.size(), b.size());
  double worst = 0;
  std::string where;
  for (const auto& [name, va] : a) {
    const auto it = b.find(name);
    if (it == b.end()) {
      ADD_FAILURE() << name << " missing in " << dir_b;
      continue;
    }
    EXPECT_EQ(va.size(), it->second.size()) << name;
    for (size_t i = 0; i < va.size() && i < it->second.size(); ++i) {
      const double d = std::fabs(static_cast<double>(va[i]) - it->second[i]);
      if (is_key_bias(name, i, va.size())) {
        EXPECT_LE(d, kKeyBiasNoiseTolerance) << name << "[" << i << "]";
        continue;
      }
      if (!(d <= worst)) {  // NaN counts as worst
        worst = std::isnan(d) ? INFINITY : d;
        where = name;
      }
    }
  }
  return {worst, where};
}

struct Job {
  std::string model;       // model directory
  std::string train_file;
  std::string eval_file;   // "" = none
  std::string extra;       // more flags
};

std::string train_flags(const Job& job, int batch, const std::string& out) {
  std::string f = " train --model " + job.model + " --train-file " + job.train_file + " --output-dir " + out +
                  " --per-device-train-batch-size " + std::to_string(batch) +
                  " --max-length 32 --precision fp32 --threads 1 --report-to none --json --seed 7";
  if (job.extra.find("--progress") == std::string::npos) f += " --progress none";
  if (!job.eval_file.empty()) f += " --validation-file " + job.eval_file;
  else f += " --validation-split 0";
  return f + " " + job.extra;
}

CmdResult single(const Job& job, int batch, const std::string& out) {
  return run_command("'" + kCli + "'" + train_flags(job, batch, out) + " < /dev/null");
}

CmdResult launched(const Job& job, int per_device_batch, const std::string& out, int port) {
  return run_command("'" + kCli + "' launch --nproc-per-node 2 --kill-grace-seconds 10 --master-port " +
                     std::to_string(port) + " --" + train_flags(job, per_device_batch, out) + " < /dev/null");
}

// The environment torchrun would give rank `rank` of a world of 2 on this machine.
std::string rank_env(int rank, int port) {
  return "RANK=" + std::to_string(rank) + " LOCAL_RANK=" + std::to_string(rank) +
         " WORLD_SIZE=2 LOCAL_WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=" + std::to_string(port);
}

json last_json(const std::string& out) { return last_json_line(out); }

// A tiny BERT; dropout 0 in every place when `dropout` is false.
std::string make_bert(const TempDir& tmp, const std::string& name, bool dropout) {
  const fs::path dir = tmp.path / name;
  write_tiny_bert(dir, TinyBert{});
  if (!dropout) {
    ModelConfig c = load_config((dir / "config.json").string());
    c.hidden_dropout_prob = 0;
    c.attention_probs_dropout_prob = 0;
    save_config((dir / "config.json").string(), c);
  }
  return dir.string();
}



void expect_two_ranks_match_one(const Job& job, const TempDir& tmp, const std::string& tag) {
  std::string name = tag;
  for (char& c : name)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  const std::string one = tmp.str(name + "_1x16"), two = tmp.str(name + "_2x8");
  const CmdResult r1 = single(job, 16, one);
  ASSERT_EQ(r1.rc, 0) << r1.out;
  const CmdResult r2 = launched(job, 8, two, free_loopback_port());
  ASSERT_EQ(r2.rc, 0) << r2.out;
  const json j1 = last_json(r1.out), j2 = last_json(r2.out);
  EXPECT_EQ(j1["step"], 10);
  EXPECT_EQ(j2["step"], 10) << "the schedule counts global steps: 160 rows / (8 × 2) = 10 steps per epoch";
  const auto [diff, where] = max_weight_difference(one, two);
  std::cout << "[" << tag << "] max |w(2×8) − w(1×16)| after 10 steps: " << diff << " (in " << where << ")\n";
  EXPECT_LE(diff, kReductionOrderTolerance) << where;
  // The logged training loss is the mean over ranks, as HF logs it.
  EXPECT_NEAR(j1["train_loss"].get<double>(), j2["train_loss"].get<double>(), 1e-5);
  // Only rank 0 wrote: one JSON result line, one model directory, no files of rank 1.
  size_t results = 0;
  for (size_t at = r2.out.find("\"train_runtime\""); at != std::string::npos; at = r2.out.find("\"train_runtime\"", at + 1))
    ++results;
  EXPECT_EQ(results, 1u) << r2.out;
  const json state = json::parse(read_file(two + "/trainer_state.json"));
  EXPECT_EQ(state["is_world_process_zero"], true);
  EXPECT_EQ(state["global_step"], 10);
}

}  // namespace

TEST(CliDataParallel, BertTwoRanksMatchOneProcessWithAndWithoutDropout) {
  TempDir tmp("accent_cli_ddp_bert_");
  write_sst2_csv(tmp.path / "train.csv", 160);
  const std::string flags = "--max-steps 10 --learning-rate 1e-3 --save-strategy no";
  expect_two_ranks_match_one({make_bert(tmp, "bert_nodrop", false), tmp.str("train.csv"), "", flags}, tmp,
                             "bert, dropout off");
  // Dropout on: each rank draws its rows of the one stream (core/rng.h, Sharding) and pads to the step's longest
  // example, so the masks are those of the 16-row batch.
  expect_two_ranks_match_one({make_bert(tmp, "bert_drop", true), tmp.str("train.csv"), "", flags}, tmp,
                             "bert, dropout 0.1");
}

TEST(CliDataParallel, Gpt2TwoRanksMatchOneProcessWithDropout) {
  TempDir tmp("accent_cli_ddp_gpt2_");
  const std::string base = tmp.str("gpt2");
  const CmdResult g = run_command("/usr/bin/python3 " + kTwin + " gen --out " + base +
                                  " --family gpt2 --problem single --num-labels 2 --act gelu_new --vocab 50257");
  ASSERT_EQ(g.rc, 0) << g.out;
  for (const auto& f : fs::directory_iterator(kData + "/vocab/gpt2"))
    if (f.path().filename() != "config.json") fs::copy_file(f.path(), fs::path(base) / f.path().filename());
  json config = json::parse(read_file(base + "/config.json"));  // the twin writes dropout 0: turn it on
  for (const char* key : {"attn_pdrop", "embd_pdrop", "resid_pdrop", "summary_first_dropout"}) config[key] = 0.1;
  write_file_atomic(base + "/config.json", config.dump(2));
  write_sst2_csv(tmp.path / "train.csv", 160);
  expect_two_ranks_match_one({base, tmp.str("train.csv"), "", "--max-steps 10 --learning-rate 1e-3 --save-strategy no"},
                             tmp, "gpt2, dropout 0.1");
}

TEST(CliDataParallel, EvaluationMetricsEqualTheSingleProcessOnesExactly) {
  TempDir tmp("accent_cli_ddp_eval_");
  const std::string model = make_bert(tmp, "bert", true);
  write_sst2_csv(tmp.path / "train.csv", 64);
  write_sst2_csv(tmp.path / "val.csv", 37);  // 5 evaluation batches of ≤ 8: rank 0 runs 3, rank 1 runs 2
  // Learning rate 0: both runs evaluate the same weights, so any difference is the evaluation's own.
  const Job job{model, tmp.str("train.csv"), tmp.str("val.csv"),
                "--max-steps 2 --learning-rate 0 --save-strategy no --eval-strategy steps --eval-steps 1"};
  const CmdResult r1 = single(job, 16, tmp.str("one"));
  ASSERT_EQ(r1.rc, 0) << r1.out;
  const CmdResult r2 = launched(job, 8, tmp.str("two"), free_loopback_port());
  ASSERT_EQ(r2.rc, 0) << r2.out;
  const json j1 = last_json(r1.out), j2 = last_json(r2.out);
  int compared = 0;
  for (auto it = j1.begin(); it != j1.end(); ++it) {
    const std::string& k = it.key();
    if (k.rfind("eval_", 0) != 0 || k.find("runtime") != std::string::npos || k.find("per_second") != std::string::npos)
      continue;
    EXPECT_EQ(j2[k], it.value()) << k;
    ++compared;
  }
  EXPECT_GE(compared, 5) << j1.dump();  // loss, accuracy, f1, precision, recall, the per-class report
  EXPECT_EQ(j2["eval_report"], j1["eval_report"]);
  // The same at every evaluation during training (trainer_state's log_history).
  const json s1 = json::parse(read_file(tmp.str("one") + "/trainer_state.json"));
  const json s2 = json::parse(read_file(tmp.str("two") + "/trainer_state.json"));
  int evals = 0;
  for (size_t i = 0; i < s1["log_history"].size(); ++i) {
    const json& e1 = s1["log_history"][i];
    if (!e1.contains("eval_loss")) continue;
    ++evals;
    EXPECT_EQ(s2["log_history"][i]["eval_loss"], e1["eval_loss"]);
    EXPECT_EQ(s2["log_history"][i]["eval_accuracy"], e1["eval_accuracy"]);
  }
  EXPECT_EQ(evals, 2);
}

TEST(CliDataParallel, KilledWorkerStopsTheSurvivorAndResumeReproducesTheRun) {
  TempDir tmp("accent_cli_ddp_kill_");
  const std::string model = make_bert(tmp, "bert", true);
  write_sst2_csv(tmp.path / "train.csv", 160);
  const std::string flags = "--max-steps 300 --learning-rate 1e-3 --save-steps 5 --save-total-limit 2 --ddp-timeout 60";
  const Job job{model, tmp.str("train.csv"), "", flags};

  // The reference: 2 ranks, uninterrupted.
  const CmdResult ref = launched(job, 8, tmp.str("reference"), free_loopback_port());
  ASSERT_EQ(ref.rc, 0) << ref.out;

  // The same job, ranks started on their own (as torchrun or a Slurm job would); rank 1 is killed once a
  // checkpoint exists.
  const int port = free_loopback_port();
  const std::string out = tmp.str("interrupted");
  const std::string script = tmp.str("kill.sh");
  write_file_atomic(script,
      "cd '" + tmp.str() + "'\n" +
      rank_env(0, port) + " '" + kCli + "'" + train_flags(job, 8, out) + " > rank0.log 2>&1 < /dev/null &\n"
      "pid0=$!\n" +
      rank_env(1, port) + " '" + kCli + "'" + train_flags(job, 8, out) + " > rank1.log 2>&1 < /dev/null &\n"
      "pid1=$!\n"
      "for i in $(seq 1 1200); do compgen -G '" + out + "/checkpoint-*' > /dev/null && break; sleep 0.05; done\n"
      "kill -9 $pid1\n"
      "start=$(date +%s%N)\n"
      "wait $pid0; rc0=$?\n"
      "end=$(date +%s%N)\n"
      "echo \"rank0_rc=$rc0 seconds=$(( (end - start) / 1000000 ))e-3\"\n");
  const CmdResult k = run_command("bash '" + script + "'");
  const std::string log0 = read_file(tmp.str("rank0.log"));
  ASSERT_NE(k.out.find("rank0_rc="), std::string::npos) << k.out;
  EXPECT_EQ(k.out.find("rank0_rc=0 "), std::string::npos) << "the survivor must fail\n" << k.out << log0;
  const double seconds = std::stod(k.out.substr(k.out.find("seconds=") + 8));
  std::cout << "survivor stopped " << seconds << " s after rank 1 was killed\n";
  EXPECT_LT(seconds, 60) << "within --ddp-timeout";
  EXPECT_NE(log0.find("rank 1 has exited"), std::string::npos) << log0;

  // The last checkpoint is whole (no half-written directory is the newest) and resuming with 2 ranks reproduces
  // the uninterrupted run exactly.
  for (const auto& e : fs::directory_iterator(out))
    EXPECT_NE(e.path().filename().string().rfind("tmp-checkpoint-", 0), 0u) << e.path();
  const CmdResult resumed = launched(
      {model, tmp.str("train.csv"), "", flags + " --resume-from-checkpoint latest --progress plain"}, 8, out, free_loopback_port());
  ASSERT_EQ(resumed.rc, 0) << resumed.out;
  EXPECT_NE(resumed.out.find("resumed from"), std::string::npos) << resumed.out;
  const auto [diff, where] = max_weight_difference(tmp.str("reference"), out);
  EXPECT_EQ(diff, 0.0) << where;
}

TEST(CliDataParallel, TwoNodesOnTwoLoopbackAddressesMatchOneLauncher) {
  TempDir tmp("accent_cli_ddp_nodes_");
  const std::string model = make_bert(tmp, "bert", true);
  write_sst2_csv(tmp.path / "train.csv", 160);
  const Job job{model, tmp.str("train.csv"), "", "--max-steps 10 --learning-rate 1e-3 --save-strategy no"};
  const CmdResult local = launched(job, 8, tmp.str("one_node"), free_loopback_port());
  ASSERT_EQ(local.rc, 0) << local.out;

  const int port = free_loopback_port();
  auto node = [&](int rank, const std::string& addr) {
    return "'" + kCli + "' launch --nproc-per-node 1 --nnodes 2 --node-rank " + std::to_string(rank) +
           " --master-addr 127.0.0.2 --master-port " + std::to_string(port) + " --local-addr " + addr + " --" +
           train_flags(job, 8, tmp.str("two_nodes")) + " < /dev/null";
  };
  const CmdResult r = run_command("(" + node(1, "127.0.0.3") + " > '" + tmp.str("node1.log") + "' 2>&1; echo $? > '" +
                                  tmp.str("node1.rc") + "') & " + node(0, "127.0.0.2") + "; rc=$?; wait; exit $rc");
  ASSERT_EQ(r.rc, 0) << r.out << read_file(tmp.str("node1.log"));
  EXPECT_EQ(read_file(tmp.str("node1.rc")), "0\n") << read_file(tmp.str("node1.log"));
  const auto [diff, where] = max_weight_difference(tmp.str("one_node"), tmp.str("two_nodes"));
  EXPECT_EQ(diff, 0.0) << where;
}

TEST(CliDataParallel, RanksWithDifferentArgumentsRefuseToTrain) {
  TempDir tmp("accent_cli_ddp_mismatch_");
  const std::string model = make_bert(tmp, "bert", true);
  write_sst2_csv(tmp.path / "train.csv", 64);
  const int port = free_loopback_port();
  const Job job{model, tmp.str("train.csv"), "", "--max-steps 2 --save-strategy no --ddp-timeout 60"};
  Job other = job;
  other.extra += " --learning-rate 1e-3";
  const CmdResult r = run_command(
      "cd '" + tmp.str() + "' && (" + rank_env(1, port) + " '" + kCli + "'" + train_flags(other, 8, tmp.str("out")) +
      " > rank1.log 2>&1 < /dev/null; echo $? > rank1.rc) & " + rank_env(0, port) + " '" + kCli + "'" +
      train_flags(job, 8, tmp.str("out")) + " < /dev/null 2>&1; rc=$?; wait; exit $rc");
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_NE(r.out.find("data-parallel ranks disagree at start-up"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("rank 1: its training arguments differ from rank 0's: learning_rate (0.001 vs 5e-05)"),
            std::string::npos) << r.out;
  EXPECT_EQ(read_file(tmp.str("rank1.rc")), "1\n");
  EXPECT_NE(read_file(tmp.str("rank1.log")).find("data-parallel ranks disagree"), std::string::npos);
  EXPECT_FALSE(fs::exists(tmp.str("out") + "/model.safetensors"));
}

TEST(CliDataParallel, AWorldOfOneIsThePlainRunBitForBit) {
  // torchrun --nproc-per-node 1: the whole data-parallel path (rendezvous, sharded source, reducer, gathered
  // evaluation) with nobody to talk to changes nothing. (The GPU version of this check runs over NCCL on the
  // device machine: scripts/device_check.sh, nccl_world1.)
  TempDir tmp("accent_cli_ddp_one_");
  const std::string model = make_bert(tmp, "bert", true);
  write_sst2_csv(tmp.path / "train.csv", 64);
  write_sst2_csv(tmp.path / "val.csv", 21);
  const Job job{model, tmp.str("train.csv"), tmp.str("val.csv"), "--max-steps 4 --learning-rate 1e-3 --save-strategy no"};
  const CmdResult plain = single(job, 8, tmp.str("plain"));
  ASSERT_EQ(plain.rc, 0) << plain.out;
  const CmdResult one = run_command("WORLD_SIZE=1 RANK=0 LOCAL_RANK=0 LOCAL_WORLD_SIZE=1 MASTER_ADDR=127.0.0.1 MASTER_PORT=" +
                                    std::to_string(free_loopback_port()) + " '" + kCli + "'" +
                                    train_flags(job, 8, tmp.str("one")) + " < /dev/null");
  ASSERT_EQ(one.rc, 0) << one.out;
  EXPECT_NE(one.out.find("data-parallel: 1 process;"), std::string::npos) << one.out;
  EXPECT_EQ(max_weight_difference(tmp.str("plain"), tmp.str("one")).first, 0.0);
  EXPECT_EQ(last_json(one.out)["eval_loss"], last_json(plain.out)["eval_loss"]);
  EXPECT_EQ(last_json(one.out)["train_loss"], last_json(plain.out)["train_loss"]);
}
