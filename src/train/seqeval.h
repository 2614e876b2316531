// train/seqeval.h — entity-level metrics for token classification (NER), as the Python package `seqeval`
// computes them in its default mode (mode=None, suffix=False) and as Hugging Face
// `evaluate.load("seqeval").compute(predictions, references)` reports them.
//
// Entities (seqeval.metrics.sequence_labeling.get_entities, the lenient conlleval-style chunker that reads
// IOB1, IOB2, IOE and BIOES/IOBES alike):
//   * Each tag string is split into a one-character prefix (its first code point: B, I, E, S, O, '.' or
//     anything else) and a type: the text after the prefix, minus everything up to and including its first
//     '-' when there is one ("B-PER" → PER, "B-PER-X" → PER-X, "BPER" → PER, "PER" → prefix P type ER), and
//     "_" when that leaves nothing ("O", "B", "B-" all have type "_").
//   * The sentences are joined into one sequence with an "O" after each sentence, and one more "O" is
//     appended; entity offsets are positions in that joined sequence (so an entity never spans sentences).
//   * Walking it with the previous (prefix, type), starting from ("O", "" — a type no tag has), a chunk ends
//     before position i when the previous prefix is E or S; or the pair of prefixes is one of B→B, B→S, B→O,
//     I→B, I→S, I→O; or the previous prefix is neither O nor '.' and the type changes. The chunk
//     (previous type, last start, i-1) is then emitted. A chunk starts at i when the prefix is B or S; or the
//     pair is E→E, E→I, S→E, S→I, O→E, O→I; or the prefix is neither O nor '.' and the type changes.
//     The end test runs before the start test. A chunk may be emitted with a stale start (a prefix that never
//     "starts" anything, e.g. "x" after "B-PER", followed by "I-PER") — seqeval does exactly this.
// Metrics: per type, the sets of (start, end) of gold and predicted entities; tp = |gold ∩ predicted|.
//   precision = tp / predicted, recall = tp / gold, each 0 when its denominator is 0 (seqeval's default
//   zero_division="warn" warns and gives 0); F1 = 2·P·R / (P + R), 0 when P + R = 0. "overall_*" is the
//   micro average: the same formulas on the counts summed over types. Types are those found in the gold or
//   the predicted tags, in code-point order of their names; `number` is the gold count (support).
//   overall_accuracy = seqeval.accuracy_score: the fraction of tokens whose tag string equals the gold one.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace accent {

// One sentence's tags, e.g. {"B-PER", "I-PER", "O"}.
using TagSequence = std::vector<std::string>;

// A chunk found by seqeval_entities: [start, end] inclusive, offsets in the joined sequence (see above).
struct SeqevalEntity {
  std::string type;
  int64_t start = 0, end = 0;
  bool operator==(const SeqevalEntity& o) const { return type == o.type && start == o.start && end == o.end; }
};

struct SeqevalTypeScores {
  std::string type;
  double precision = 0, recall = 0, f1 = 0;
  int64_t number = 0;     // gold entities of this type (support)
  int64_t predicted = 0;  // predicted entities of this type
  int64_t correct = 0;    // predicted entities that are also gold (same type, start and end)
};

struct SeqevalMetrics {
  double overall_precision = 0, overall_recall = 0, overall_f1 = 0, overall_accuracy = 0;
  int64_t gold_entities = 0, predicted_entities = 0, correct_entities = 0;  // summed over types
  int64_t tokens = 0, tokens_correct = 0;                                   // for overall_accuracy
  std::vector<SeqevalTypeScores> per_type;                                  // by type name (code points)

  // The dict of HF evaluate's seqeval: {"<type>": {"precision", "recall", "f1", "number"}, ...,
  // "overall_precision", "overall_recall", "overall_f1", "overall_accuracy"}.
  nlohmann::json to_json() const;
};

// seqeval.metrics.sequence_labeling.get_entities(sentences) for a list of sentences, in the order found.
// Throws accent::Error for an empty tag string (Python fails on it too), naming sentence and token.
std::vector<SeqevalEntity> seqeval_entities(const std::vector<TagSequence>& sentences);

// Gold and predicted tags per sentence. Throws accent::Error when the numbers of sentences differ, when a
// sentence's lengths differ (naming the sentence index), when there are no sentences or no tokens at all
// (seqeval raises TypeError / ZeroDivisionError there), or for an empty tag string.
SeqevalMetrics seqeval_metrics(const std::vector<TagSequence>& gold, const std::vector<TagSequence>& predicted);

}  // namespace accent
