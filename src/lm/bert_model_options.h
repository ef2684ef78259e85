// Options of BertModel that torch-free code (trainers' callers, the app) needs.
#pragma once

#include <string>
#include <vector>

namespace souk::lm {

// How a checkpoint's parameters are stored when saving.
enum class SaveDType { kF32, kF16, kBF16 };

// LoRA settings (Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large Language
// Models"): W x + (alpha / r) * B A x with A: [r, in], B: [out, r], B = 0 at start.
struct LoraOptions {
  int rank = 8;
  float alpha = 16.0f;
  // Which linears get adapters: substrings of parameter paths
  // ("attention.self.query", "attention.self.value" is the paper's choice).
  std::vector<std::string> targets = {"attention.self.query", "attention.self.value"};
};

}  // namespace souk::lm
