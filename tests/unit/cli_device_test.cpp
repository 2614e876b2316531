// `--device auto|cpu|cuda` of train / evaluate / predict: the line that says where the model runs, the fallback of
// auto to the CPU on a machine without a usable GPU, a clear error for `--device cuda` there (naming what is
// missing), an error for an unknown device; and where a GPU is present, a model trained on the GPU gives the CPU's
// labels and scores.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "cli_test_data.h"
#include "ops/cuda/device.h"
#include "test_util.h"

using namespace accent;
using namespace accent::testing;

namespace {

const std::string kCli = ACCENT_CLI_PATH;

// A tiny BERT fine-tuned for 4 steps on `device`; returns the output directory.
std::string train_tiny(const TempDir& tmp, const std::string& device) {
  write_tiny_bert(tmp.path / ("base-" + device));
  write_sst2_csv(tmp.path / "train.csv", 64);
  const std::string out = tmp.str("out-" + device);
  const CmdResult r = run_command(kCli + " train --model " + tmp.str("base-" + device) + " --train-file " +
                                  tmp.str("train.csv") + " --output-dir " + out + " --max-steps 4 --max-length 32 " +
                                  "--per-device-train-batch-size 8 --progress none --seed 3 --precision fp32 " +
                                  "--device " + device);
  EXPECT_EQ(r.rc, 0) << r.out;
  return out;
}

std::string predict(const std::string& model, const std::string& device, int* rc = nullptr) {
  const CmdResult r = run_command(kCli + " predict --model " + model + " --precision fp32 --top-k all --device " +
                                  device + " 'a gripping, funny film' 'dull and far too long'");
  if (rc) *rc = r.rc;
  else EXPECT_EQ(r.rc, 0) << r.out;
  return r.out;
}

}  // namespace

TEST(CliDevice, SaysWhereTheModelRunsAndRefusesWhatIsNotThere) {
  TempDir tmp("accent_cli_device_");
  const std::string model = train_tiny(tmp, "cpu");
  const std::string on_cpu = predict(model, "cpu");
  EXPECT_NE(on_cpu.find("device: cpu\n"), std::string::npos) << on_cpu;

  const std::string on_auto = predict(model, "auto");
  const cuda::DeviceStatus& gpu = cuda::probe_device();
  if (gpu.usable) {
    EXPECT_NE(on_auto.find("device: cuda (" + gpu.description + ")"), std::string::npos) << on_auto;
  } else {
    EXPECT_NE(on_auto.find("device: cpu (" + gpu.description + ")"), std::string::npos) << on_auto;
    EXPECT_EQ(scores_of(on_auto), scores_of(on_cpu)) << "auto without a GPU is the CPU";
    int rc = 0;
    const std::string refused = predict(model, "cuda", &rc);
    EXPECT_EQ(rc, 1) << refused;
    EXPECT_NE(refused.find("--device cuda: " + gpu.description), std::string::npos) << refused;
  }
  int rc = 0;
  const std::string unknown = predict(model, "tpu", &rc);
  EXPECT_EQ(rc, 1) << unknown;
  EXPECT_NE(unknown.find("--device \"tpu\": expected auto, cpu or cuda"), std::string::npos) << unknown;
}

TEST(CliDevice, TrainedOnTheGpuPredictsLikeTheCpu) {
  if (!cuda::probe_device().usable) GTEST_SKIP() << "no GPU: " << cuda::probe_device().description;
  TempDir tmp("accent_cli_device_gpu_");
  const std::string model = train_tiny(tmp, "cuda");
  const std::vector<double> gpu = scores_of(predict(model, "cuda")), cpu = scores_of(predict(model, "cpu"));
  ASSERT_EQ(gpu.size(), cpu.size());
  ASSERT_FALSE(cpu.empty());
  for (size_t i = 0; i < cpu.size(); ++i) EXPECT_NEAR(gpu[i], cpu[i], 1e-4) << "score " << i;
}
