// Training BERT encoders on a shop's own data (libtorch; this header does not
// include it):
//
//  - PretrainEncoder: for shops without a pretrained checkpoint. Builds a
//    WordPiece vocabulary from the catalog (or uses a given one) and pre-trains
//    a small BERT (default 4 layers, hidden 256) with masked-language modeling
//    (Devlin et al. 2019: 15% of tokens, 80/10/10 mask/random/keep).
//  - FinetuneEncoder: contrastive fine-tuning on (query, engaged item) and
//    (item, co-engaged item) pairs with in-batch negatives (InfoNCE, symmetric;
//    Henderson et al. 2017, "Efficient Natural Language Response Suggestion"),
//    fully or with LoRA adapters (base weights frozen), from a pre-trained Souk
//    encoder or a Hugging Face checkpoint folder.
//
// Both use AdamW with linear warm-up and linear decay, show progress with the
// loss and ETA, write a checkpoint every `checkpoint_every` steps into
// <out_dir>/checkpoint (resumed automatically when present and compatible),
// and write the result as a model folder that BertEncoder::Load reads
// (Hugging Face layout + manifest.json; LoRA: base files + lora/).
//
// Thread-safety: one training run per process at a time (libtorch's thread
// pool is process-wide). Cost: dominated by forward+backward passes;
// `max_seconds` bounds the wall time.
#pragma once

#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "common/progress.h"
#include "common/status.h"
#include "lm/bert_model_options.h"

namespace souk::lm {

struct PretrainOptions {
  // Architecture of the new model.
  int hidden_size = 256;
  int num_layers = 4;
  int num_heads = 4;
  int intermediate_size = 1024;
  int vocab_size = 8000;          // WordPiece vocabulary built from the texts
  std::filesystem::path vocab;    // a vocab.txt to use instead of building one
  bool lowercase = true;
  int max_length = 32;            // tokens per text incl. [CLS]/[SEP]
  // Training.
  int epochs = 3;
  int batch_size = 64;
  float learning_rate = 5e-4f;
  float warmup_fraction = 0.06f;
  float weight_decay = 0.01f;
  float mask_probability = 0.15f;
  float dropout = 0.1f;
  double max_seconds = 0;         // 0: no limit
  int checkpoint_every = 500;     // steps; 0: only at the end
  int threads = 0;                // 0: leave libtorch's setting
  uint64_t seed = 1;
};

struct TrainReport {
  int steps = 0;
  int epochs_done = 0;
  double seconds = 0;
  double final_loss = 0;          // mean loss of the last 100 steps
  std::vector<double> loss_curve; // mean loss per 50 steps
  bool resumed = false;
  bool stopped_early = false;     // early stopping or the time budget
  double best_validation = -1;    // fine-tuning: best validation MRR@10
  std::vector<double> validation_curve;
  std::string ToJson() const;
};

// Pre-trains a new encoder on `texts` and writes it to out_dir.
// Errors: InvalidArgument for bad options or no usable text; I/O errors naming the file.
StatusOr<TrainReport> PretrainEncoder(std::span<const std::string> texts, const std::filesystem::path& out_dir,
                                      const PretrainOptions& options, const ProgressOptions* progress = nullptr);

struct TrainPair {
  std::string query;     // or an item's text for item-item pairs
  std::string positive;  // the engaged item's text
};

struct FinetuneOptions {
  int epochs = 3;
  int batch_size = 64;
  float learning_rate = 1e-4f;    // full fine-tuning; LoRA usually wants ~1e-3
  float warmup_fraction = 0.1f;
  float weight_decay = 0.01f;
  float temperature = 0.05f;
  float dropout = 0.1f;
  int max_length = 32;
  bool lora = false;
  LoraOptions lora_options;
  // Validation: this fraction of distinct queries is held out; retrieval MRR@10
  // of their positives among the held-out positives plus `validation_corpus`
  // distractors is measured after every epoch (and every `validate_every`
  // steps when > 0); training stops after `patience` checks without a gain
  // and the best weights are kept.
  double validation_fraction = 0.05;
  int validation_corpus = 5000;
  int validate_every = 0;
  int patience = 2;
  double max_seconds = 0;
  int checkpoint_every = 500;
  int threads = 0;
  uint64_t seed = 1;
  std::string query_prefix, document_prefix;  // recorded in the manifest
};

// Fine-tunes the encoder in base_dir (Souk or Hugging Face folder) on pairs;
// `corpus` supplies validation distractors (e.g. all item texts).
// Errors: InvalidArgument when there are fewer pairs than one batch.
StatusOr<TrainReport> FinetuneEncoder(const std::filesystem::path& base_dir, std::span<const TrainPair> pairs,
                                      std::span<const std::string> corpus, const std::filesystem::path& out_dir,
                                      const FinetuneOptions& options, const ProgressOptions* progress = nullptr);

}  // namespace souk::lm
