// EntityTagger: finds brand (HP) and product-type (HC) mentions in short
// e-commerce text (queries, titles; Chinese or English) with a linear-chain
// model over characters: BIEOS tags, an averaged structured perceptron, and
// Viterbi decoding restricted to valid tag transitions. Start here for query
// attribute extraction; gazetteer.h holds the dictionaries it matches.
//
//   ASSIGN_OR_RETURN(auto train, ReadBieos("train.txt.bieos"));
//   Gazetteer gaz;  RETURN_IF_ERROR(gaz.LoadFile("HP", "brand1.dic"));
//   ASSIGN_OR_RETURN(auto tagger, EntityTagger::Train(train, &dev, gaz, {}, nullptr));
//   for (const TaggedEntity& e : tagger->Tag("耐克运动鞋")) ...  // {HP 耐克} {HC 运动鞋}
//
// Features per character (folded, see FoldChar): character unigrams at offsets
// -2..+2, bigrams (-2,-1) (-1,0) (0,1) (1,2), the skip pair (-1,+1), the
// trigram (-1,0,1), character classes (CJK / Latin / digit / punctuation /
// space / other) at -1, 0, +1, the position in the text and in its
// space-delimited chunk, the word (text::Segmenter) covering the character and
// the character's place in it, and per gazetteer type the position (B/I/E/S)
// and length (capped) of the longest entry covering the character plus the
// longest entries starting / ending there. Features are hashed to 64 bits and
// mapped to rows of a weight table built from the training data (unseen
// features are ignored at tagging time).
//
// Thread-safety: a trained or loaded tagger is read-only; Tag / PredictTags may
// run concurrently. gazetteer() (non-const) must not be used while other
// threads tag.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/progress.h"
#include "common/status.h"
#include "search/gazetteer.h"

namespace souk::text {
class Segmenter;
}  // namespace souk::text

namespace souk::search {

// One entity found in a text: bytes [begin, end) of the input.
struct TaggedEntity {
  std::string type;  // "HP", "HC", ...
  std::string text;  // the input bytes [begin, end)
  uint32_t begin = 0;
  uint32_t end = 0;
  friend bool operator==(const TaggedEntity&, const TaggedEntity&) = default;
};

// One sentence of a BIEOS file: a character and its tag per position.
struct TaggedSentence {
  std::vector<std::string> chars;  // one UTF-8 character (or short string) per position
  std::vector<std::string> tags;   // "O", "B-HP", "I-HP", "E-HP", "S-HP", ... (same size)
  uint32_t first_line = 0;         // 1-based line of chars[0] in its file (0: not from a file)
  // The characters concatenated.
  std::string Text() const;
};

struct BieosReadOptions {
  // false: an invalid tag sequence (e.g. B-X followed by O, I-X after O, a type
  // change inside an entity, an entity still open at the end) is DataLoss.
  // true: it is repaired (an unfinished entity is closed at its last character,
  // an orphan I-/E- starts a new entity) and counted in BieosReadStats.
  bool repair_invalid = false;
};

struct BieosReadStats {
  size_t sentences = 0;
  size_t chars = 0;
  size_t repaired_sentences = 0;         // sentences whose tags were repaired
  std::vector<uint32_t> repaired_lines;  // first line of each repaired sentence (at most 20)
};

// Reads a BIEOS file: one "char<TAB>tag" per line, a blank line between
// sentences (the char is everything before the last tab; a trailing '\r' is
// dropped). Errors: NotFound naming the path when it cannot be opened;
// DataLoss "PATH:LINE: ..." for a line without a tab, an empty char, a tag that
// is not O / [BIES]-TYPE, invalid UTF-8, or (unless repair_invalid) an invalid
// tag sequence. `stats` may be null.
StatusOr<std::vector<TaggedSentence>> ReadBieos(const std::string& path,
                                                const BieosReadOptions& options = {},
                                                BieosReadStats* stats = nullptr);
// The same over text in memory; `source_name` stands for PATH in messages.
StatusOr<std::vector<TaggedSentence>> ParseBieos(std::string_view text,
                                                 std::string_view source_name,
                                                 const BieosReadOptions& options = {},
                                                 BieosReadStats* stats = nullptr);

// Index of the first tag that breaks the BIEOS grammar (tags.size() when an
// entity is left open at the end), or -1 when the sequence is valid. A tag that
// is neither "O" nor "[BIES]-TYPE" also counts as breaking it.
int FirstInvalidTag(const std::vector<std::string>& tags);
// A valid sequence close to `tags` (see BieosReadOptions::repair_invalid).
std::vector<std::string> RepairTags(const std::vector<std::string>& tags);

// The entities of a valid tag sequence, with byte offsets into the
// concatenation of `chars` (ill-formed fragments are skipped).
std::vector<TaggedEntity> EntitiesFromTags(const std::vector<std::string>& chars,
                                           const std::vector<std::string>& tags);

// Entity-level exact-match counts (same type, same begin and end).
struct EntityCounts {
  uint64_t gold = 0;
  uint64_t predicted = 0;
  uint64_t correct = 0;
  // 0 when the denominator is 0.
  double precision() const;
  double recall() const;
  double f1() const;
};

// Accumulates exact-match counts per type and micro-averaged over types.
class EntityMatchStats {
 public:
  void Add(const std::vector<TaggedEntity>& gold, const std::vector<TaggedEntity>& predicted);
  const EntityCounts& micro() const { return micro_; }
  // Counts of a type (zeros for a type never seen).
  EntityCounts ForType(const std::string& type) const;
  const std::map<std::string, EntityCounts>& by_type() const { return by_type_; }

 private:
  EntityCounts micro_;
  std::map<std::string, EntityCounts> by_type_;
};

struct TaggerOptions {
  // Behavior.
  int epochs = 15;                      // training passes; with a dev set the best epoch is kept
  uint64_t seed = 1;                    // order of training sentences in each pass
  bool use_gazetteer = true;            // gazetteer match features (false: characters only)
  bool gazetteer_from_training = true;  // add training entities to the gazetteer
  int gazetteer_folds = 5;   // training-time leave-out: a sentence of fold k sees only the
                             // training entities of the other folds (<= 1: no leave-out)
  int max_match_length = 8;  // longest gazetteer entry matched (characters)
  bool use_words = true;     // word features from text::Segmenter (ICU dictionary)
};

// What Train did (kept in the model file).
struct TrainingSummary {
  int epochs_run = 0;
  int best_epoch = 0;          // 1-based epoch whose weights were kept
  std::vector<double> dev_f1;  // micro F1 on dev after each epoch (empty without dev)
  uint64_t num_features = 0;   // rows of the weight table
  uint64_t train_sentences = 0;
  double seconds = 0;
};

class EntityTagger {
 public:
  ~EntityTagger();
  EntityTagger(const EntityTagger&) = delete;
  EntityTagger& operator=(const EntityTagger&) = delete;

  // Trains on `train` (valid tag sequences). `gaz` holds the dictionaries
  // (copied into the model); training entities are added to it when
  // options.gazetteer_from_training. With `dev`, every epoch is scored on it
  // (entity micro F1) and the best epoch's averaged weights are kept.
  // `progress` may be null (silent). Errors: InvalidArgument for an empty
  // training set, epochs < 1, a sentence whose chars/tags sizes differ or whose
  // tags are invalid (naming the sentence's line). Cost: O(epochs * chars *
  // features * tags); the 4k-sentence e-commerce set trains in seconds.
  static StatusOr<std::unique_ptr<EntityTagger>> Train(const std::vector<TaggedSentence>& train,
                                                       const std::vector<TaggedSentence>* dev,
                                                       const Gazetteer& gaz,
                                                       TaggerOptions options = {},
                                                       const ProgressOptions* progress = nullptr);

  // Tags arbitrary UTF-8 text. Every code point is one position, Latin letters
  // included; an ill-formed byte sequence is one U+FFFD position. Returned
  // spans are byte ranges of `text` and `text` of an entity is exactly those
  // bytes. Empty text -> no entities. Cost: O(chars * features * tags) plus
  // word segmentation; tens of µs for a 20-character query (see README).
  std::vector<TaggedEntity> Tag(std::string_view text) const;
  // BIEOS tags for pre-split characters (the first code point of each element
  // is its feature character); always a valid sequence of chars.size() tags.
  std::vector<std::string> PredictTags(const std::vector<std::string>& chars) const;

  // Writes the model (options, weights, gazetteer, summary) to `path`.
  // Errors: Unavailable naming the path when it cannot be written.
  Status Save(const std::string& path) const;
  // Reads a model written by Save. Errors: NotFound naming the path; DataLoss
  // naming the path for a file that is not a tagger model, of another format
  // version, or truncated.
  static StatusOr<std::unique_ptr<EntityTagger>> Load(const std::string& path);

  // The dictionaries used for match features; callers may add catalog brands
  // and product types at serving time (not while other threads tag).
  Gazetteer& gazetteer() { return gazetteer_; }
  const Gazetteer& gazetteer() const { return gazetteer_; }
  // Entity types the model can output (sorted).
  const std::vector<std::string>& types() const { return types_; }
  const TaggerOptions& options() const { return options_; }
  const TrainingSummary& training_summary() const { return summary_; }

 private:
  EntityTagger() = default;
  class Trainer;

  // Labels: 0 = O, 1 + 4*t + {0 B, 1 I, 2 E, 3 S} for type t.
  int num_labels() const { return 1 + 4 * static_cast<int>(types_.size()); }
  // Best valid label sequence for folded chars.
  std::vector<int> Decode(const std::u32string& folded) const;
  // Hashed features of each position (flattened; offsets[i]..offsets[i+1]).
  void Features(const std::u32string& folded, const Gazetteer* gaz, std::vector<uint64_t>* feats,
                std::vector<uint32_t>* offsets) const;

  TaggerOptions options_;
  std::vector<std::string> types_;
  Gazetteer gazetteer_;
  std::unordered_map<uint64_t, uint32_t> feature_rows_;  // feature hash -> row
  std::vector<float> weights_;                           // rows * num_labels()
  std::vector<float> transitions_;  // (num_labels()+1)^2; index num_labels() = boundary
  TrainingSummary summary_;
  std::unique_ptr<text::Segmenter> segmenter_;  // word features; null when off
};

}  // namespace souk::search
