// libFuzzer target: GGUF parsing and WordPiece encoding of arbitrary bytes.
// The first input byte chooses the tokenizer options; the rest is parsed as a
// GGUF file and encoded as text. Neither may crash, hang or read out of bounds.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "lm/gguf.h"
#include "lm/wordpiece_tokenizer.h"

namespace {

const souk::lm::WordPieceTokenizer& Tokenizer(uint8_t flags) {
  // One tokenizer per option combination, built once (fuzzer-local state).
  static souk::lm::WordPieceTokenizer* cache[16] = {};
  const int k = flags & 15;
  if (cache[k] == nullptr) {
    souk::lm::WordPieceOptions o;
    o.lowercase = (k & 1) != 0;
    o.clean_text = (k & 2) != 0;
    o.handle_chinese_chars = (k & 4) != 0;
    if (k & 8) o.strip_accents = true;
    o.max_input_chars_per_word = 12;
    auto t = souk::lm::WordPieceTokenizer::FromTokens(
        {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "b", "ab", "##a", "##b", "##ab",
         "\xe4\xb8\xad", "##\xc3\xa9", "e", "!", "[", "]"},
        o);
    cache[k] = new souk::lm::WordPieceTokenizer(std::move(t).value());
  }
  return *cache[k];
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto gguf = souk::lm::GgufFile::Parse(bytes, "fuzz.gguf");
  if (gguf.ok()) {
    for (const auto& key : gguf->keys()) {
      (void)gguf->GetString(key);
      (void)gguf->GetInt(key);
      (void)gguf->GetStringArray(key);
    }
  }
  const auto& tok = Tokenizer(data[0]);
  const auto ids = tok.Encode(bytes, (data[0] & 16) != 0, (data[0] & 32) ? 7 : 0);
  for (int32_t id : ids) {
    if (id < 0 || id >= tok.vocab_size()) __builtin_trap();
  }
  (void)tok.Tokenize(bytes);
  return 0;
}
