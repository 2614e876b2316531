// train/tensorboard_writer.h — TensorBoard event files as `transformers`' TensorBoardCallback writes them
// (--report-to tensorboard), so `tensorboard --logdir OUTPUT_DIR/runs` shows an accent run beside PyTorch ones.
//
// File: LOGDIR/events.out.tfevents.<10-digit unix time>.<hostname>.<pid>.0 (torch.utils.tensorboard's name), a
// TFRecord stream: per record
//   uint64 length (little-endian) · uint32 masked_crc32c(length bytes) · data · uint32 masked_crc32c(data)
//   masked_crc32c(x) = ((c >> 15) | (c << 17)) + 0xa282ead8 (mod 2^32), c = CRC-32C (Castagnoli) of x,
// each data an `Event` protocol buffer (tensorflow/core/util/event.proto), encoded here by hand — five fields:
//   Event   { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }
//   Summary { repeated Value value = 1; }
//   Value   { string tag = 1; float simple_value = 2; TensorProto tensor = 8; SummaryMetadata metadata = 9; }
//   SummaryMetadata { PluginData plugin_data = 1; }   PluginData { string plugin_name = 1; }
//   TensorProto { DataType dtype = 1 (DT_STRING = 7); TensorShapeProto tensor_shape = 2; repeated bytes string_val = 8; }
//   TensorShapeProto { repeated Dim dim = 2; }   Dim { int64 size = 1; }
// The first record is Event{wall_time, file_version: "brain.Event:2"}. Scalars are `simple_value`s
// (SummaryWriter.add_scalar); text is a DT_STRING tensor of shape [1] under "<tag>/text_summary" with the plugin
// "text" (SummaryWriter.add_text).
//
// What the callback logs (transformers.integrations.TensorBoardCallback): at the start add_text("args", the training
// arguments as JSON) and add_text("model_config", config.json); on every log, each numeric entry as a scalar at
// global_step under rewrite_logs' name: "eval_x" → "eval/x", "test_x" → "test/x", anything else → "train/x"
// (the "step" entry itself is not logged: it is the step). The file is flushed after every log, so a run that is
// killed keeps everything logged before (a torn last record is skipped by TensorBoard's reader).
#pragma once
#include <cstdint>
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

namespace accent {

// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as TFRecord frames use it.
uint32_t crc32c(const void* data, size_t size);
// The TFRecord mask of a CRC: rotate right by 15, add 0xa282ead8.
uint32_t masked_crc32c(const void* data, size_t size);

// transformers' default logging_dir under `output_dir`: runs/<Mon><DD>_<HH>-<MM>-<SS>_<hostname> (local time).
std::string default_logging_dir(const std::string& output_dir);

class TensorBoardWriter {
 public:
  // Creates `log_dir` and the event file in it; throws naming the path when it cannot.
  explicit TensorBoardWriter(const std::string& log_dir);
  ~TensorBoardWriter();
  TensorBoardWriter(const TensorBoardWriter&) = delete;
  TensorBoardWriter& operator=(const TensorBoardWriter&) = delete;

  void add_scalar(const std::string& tag, double value, int64_t step);
  void add_text(const std::string& tag, const std::string& text, int64_t step);
  // One log_history entry the TensorBoardCallback way (see above), at `step`; then flushes.
  void add_log(const nlohmann::json& entry, int64_t step);
  void flush();

  const std::string& path() const { return path_; }

 private:
  void write_event(const std::string& event);

  std::string path_;
  std::FILE* file_ = nullptr;
};

}  // namespace accent
