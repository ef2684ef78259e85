// WordPieceTokenizer: BERT's tokenizer, matching Hugging Face `tokenizers`
// (BertNormalizer + BertPreTokenizer + WordPiece + the [CLS] A [SEP] template)
// id for id, so that Souk's BERT encoders see exactly the ids their checkpoints
// were trained on.
//
//   ASSIGN_OR_RETURN(WordPieceTokenizer tok, WordPieceTokenizer::FromDirectory(model_dir));
//   std::vector<int32_t> ids = tok.Encode("Cordless drill 18V");  // [CLS] ... [SEP]
//
// Pipeline of Encode / Tokenize:
//  0. Special tokens written in the raw text ("[MASK]", "[SEP]", ...; the
//     added tokens of tokenizer.json, else the five special tokens of the
//     options that are in the vocabulary) are matched first, exactly and
//     case-sensitively (leftmost, longest), and map to their ids; the text
//     between them goes through steps 1-3 (as in Hugging Face).
//  1. Normalizer (BertNormalizer): clean_text drops U+0000, U+FFFD and every
//     "other" code point (general category C*: Cc, Cf, Cn, Co, Cs) except
//     \t \n \r, and maps White_Space characters to ' '; handle_chinese_chars
//     isolates CJK ideographs (the ranges of `tokenizers`' is_chinese_char,
//     which uses 0x2B920 where Google's Python BERT uses 0x2B820);
//     strip_accents (default: = lowercase) decomposes each code point (NFD)
//     and drops Mn marks; lowercase maps each code point to its full lower
//     case (Unicode, no context: 'Σ' -> 'σ'; 'İ' -> "i̇").
//  2. Pre-tokenizer (BertPreTokenizer): split on White_Space, and isolate every
//     punctuation character (ASCII 33-47, 58-64, 91-96, 123-126 and Unicode
//     category P*) as its own word.
//  3. WordPiece: greedy longest-match-first; pieces after the first carry
//     `continuing_prefix`; a word longer than max_input_chars_per_word code
//     points, or with any part that matches no vocabulary entry, becomes the
//     single unk token.
// Invalid UTF-8: each byte that does not start a valid sequence is replaced by
// U+FFFD, which clean_text then drops (so with the default options invalid
// bytes are dropped; with clean_text off they give [UNK]). Never crashes.
// Differences from Hugging Face (documented limits): canonical reordering of
// NFD is not applied to combining marks that survive accent stripping (only
// non-Mn marks with a non-zero combining class, which are very rare);
// character properties come from ICU's Unicode version.
//
// Thread-safety: immutable after construction; all const methods are safe to
// call concurrently. Movable, not copyable (use Clone()).
// Cost: Encode allocates O(1) buffers per call; a short ASCII title is a few
// microseconds. Memory: the vocabulary strings plus two open-addressing tables.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace souk::lm {

struct WordPieceOptions {
  // Behavior: normalizer.
  bool lowercase = true;              // lower-case every code point
  std::optional<bool> strip_accents;  // NFD + drop Mn; unset = same as lowercase
  bool handle_chinese_chars = true;   // put CJK ideographs in words of their own
  bool clean_text = true;             // drop control chars, map whitespace to ' '
  // Behavior: model.
  int max_length = 512;                  // Encode's default limit incl. specials (<= 0: none)
  int max_input_chars_per_word = 100;    // longer words become unk_token
  std::string continuing_prefix = "##";  // marks a piece that continues a word
  // Special tokens (looked up in the vocabulary; unk_token must be present).
  std::string unk_token = "[UNK]";
  std::string cls_token = "[CLS]";
  std::string sep_token = "[SEP]";
  std::string pad_token = "[PAD]";
  std::string mask_token = "[MASK]";

  bool StripAccents() const { return strip_accents.value_or(lowercase); }
};

// Normalizes `text` and splits it into words (steps 1 and 2 above; special
// tokens are not recognized). Calls `on_word` for each word in order with a
// view into a buffer that is only valid during the call. Used by the
// tokenizer and by the vocabulary trainer. Thread-safe (pure function).
void BertPreTokenize(std::string_view text, const WordPieceOptions& options,
                     const std::function<void(std::string_view word)>& on_word);

class WordPieceTokenizer {
 public:
  // A model folder: tokenizer.json when present, else vocab.txt plus the
  // optional tokenizer_config.json (do_lower_case, strip_accents,
  // tokenize_chinese_chars, model_max_length (values above 1e6 mean "unset" ->
  // 512), *_token). When tokenizer.json has no truncation section, a sane
  // model_max_length of tokenizer_config.json sets max_length; the *_token
  // names of tokenizer_config.json apply in both cases.
  // Errors: NotFound when neither file exists; see the loaders below.
  static StatusOr<WordPieceTokenizer> FromDirectory(const std::filesystem::path& dir);

  // A Hugging Face tokenizer.json whose model.type is "WordPiece". Reads the
  // normalizer (BertNormalizer, null, or a Sequence of BertNormalizer / NFD /
  // StripAccents / Lowercase), the pre-tokenizer (BertPreTokenizer or null),
  // model.vocab/unk_token/continuing_subword_prefix/max_input_chars_per_word,
  // truncation.max_length, the [CLS]/[SEP] of the post-processor, the padding
  // token and added_tokens. Errors (naming the file and the field):
  // NotFound (missing file), InvalidArgument (bad JSON, another model type such
  // as "BPE", an unsupported normalizer or pre-tokenizer, missing vocab, ids
  // that are negative, repeated or leave gaps, unk token not in the vocab).
  static StatusOr<WordPieceTokenizer> FromTokenizerJson(const std::filesystem::path& file);

  // vocab.txt: one token per line, id = line number (a trailing '\r' is
  // stripped; a repeated token keeps its last id for lookups, as in Hugging
  // Face). Errors: NotFound, InvalidArgument (empty file, unk token missing).
  static StatusOr<WordPieceTokenizer> FromVocabFile(const std::filesystem::path& vocab,
                                                    WordPieceOptions options);

  // The vocabulary of a GGUF file (tokenizer.ggml.tokens; tokenizer.ggml.model
  // must be "bert"), special tokens from tokenizer.ggml.{cls_token_id,
  // seperator_token_id, padding_token_id, unknown_token_id, mask_token_id}
  // when present, max_length from bert.context_length when present. GGUF has
  // no normalizer flags: the default options (uncased BERT) are used.
  // Vocabularies in llama.cpp's "phantom space" form (word-initial tokens
  // prefixed with U+2581, continuation tokens without "##", "[...]" tokens
  // as is) are converted back to WordPiece form; tokens() returns that form.
  // Errors: those of GgufFile::Open; InvalidArgument for another model or a
  // special token id outside the vocabulary.
  static StatusOr<WordPieceTokenizer> FromGguf(const std::filesystem::path& file);

  // From tokens in id order. Errors: InvalidArgument (empty vocabulary, more
  // than 2^31-1 tokens, options.unk_token not in the vocabulary,
  // max_input_chars_per_word < 1).
  static StatusOr<WordPieceTokenizer> FromTokens(std::vector<std::string> tokens,
                                                 WordPieceOptions options);

  WordPieceTokenizer(WordPieceTokenizer&&) noexcept = default;
  WordPieceTokenizer& operator=(WordPieceTokenizer&&) noexcept = default;
  WordPieceTokenizer(const WordPieceTokenizer&) = delete;
  WordPieceTokenizer& operator=(const WordPieceTokenizer&) = delete;
  WordPieceTokenizer Clone() const;

  // Token ids of `text`. With add_special_tokens: [CLS] ids [SEP] (a special
  // token missing from the vocabulary is left out). max_length < 0 means
  // options().max_length; 0 (or options().max_length <= 0) means no limit.
  // When longer, the word-piece ids are cut so that the result has max_length
  // ids and still ends with [SEP] (with specials, max_length is at least 2).
  // "" -> [CLS][SEP].
  std::vector<int32_t> Encode(std::string_view text, bool add_special_tokens = true,
                              int max_length = -1) const;

  // The pieces of `text` as strings, without [CLS]/[SEP] and without
  // truncation (for debugging and explanations).
  std::vector<std::string> Tokenize(std::string_view text) const;

  // Writes tokenizer.json (Hugging Face `tokenizers`), vocab.txt and
  // tokenizer_config.json (BertTokenizer) into `dir` (created when missing;
  // existing files are replaced atomically), so that FromDirectory(dir) and
  // Hugging Face both load an identical tokenizer (max_length <= 0 is saved
  // as "no truncation" and reloads as 512). Errors: InvalidArgument for a
  // token with a line break or invalid UTF-8; Unavailable when a file cannot
  // be written.
  Status Save(const std::filesystem::path& dir) const;

  int32_t vocab_size() const { return static_cast<int32_t>(tokens_.size()); }
  // -1 when `token` is not in the vocabulary.
  int32_t TokenId(std::string_view token) const;
  // The token of `id`; an empty string for an id outside [0, vocab_size()).
  const std::string& Token(int32_t id) const;
  const std::vector<std::string>& tokens() const { return tokens_; }
  // -1 when the token is not in the vocabulary (unk_id() is always valid).
  int32_t cls_id() const { return cls_id_; }
  int32_t sep_id() const { return sep_id_; }
  int32_t pad_id() const { return pad_id_; }
  int32_t unk_id() const { return unk_id_; }
  int32_t mask_id() const { return mask_id_; }
  const WordPieceOptions& options() const { return options_; }
  // Tokens matched verbatim in raw text (step 0), with their ids.
  const std::vector<std::pair<std::string, int32_t>>& special_tokens() const { return specials_; }

 private:
  WordPieceTokenizer() = default;
  static StatusOr<WordPieceTokenizer> FromDirectoryUnchecked(const std::filesystem::path& dir);
  // Builds lookups; `added` are the verbatim tokens (empty: the options' five).
  Status Init(std::vector<std::string> tokens, WordPieceOptions options,
              std::vector<std::pair<std::string, int32_t>> added);

  // Open-addressing table from token bytes to id (heterogeneous by design).
  // Keys are tokens_[id] without their first `skip` bytes.
  struct TokenTable {
    std::vector<int32_t> slots;    // -1 = empty; else an id
    std::vector<uint32_t> hashes;  // low bits of the key's hash (fast reject)
    uint64_t mask = 0;
    size_t skip = 0;
    size_t max_key_bytes = 0;
    // Indexes the tokens that start with `prefix` (all when empty), keyed
    // without it; a repeated key keeps its last id.
    void Build(const std::vector<std::string>& tokens, std::string_view prefix);
    int32_t Find(std::string_view key, const std::vector<std::string>& tokens) const;
  };

  // Appends the ids of one word (step 3).
  void WordPiece(std::string_view word, std::vector<int32_t>* ids) const;
  // Steps 0-3 over `text`, stopping once `limit` ids were produced (< 0: none).
  void EncodeInto(std::string_view text, std::vector<int32_t>* ids, long limit) const;

  std::vector<std::string> tokens_;
  WordPieceOptions options_;
  TokenTable whole_;       // every token, as is
  TokenTable continuing_;  // tokens starting with the prefix, keyed without it
  std::vector<std::pair<std::string, int32_t>> specials_;
  bool special_first_byte_[256] = {};
  int32_t unk_id_ = -1, cls_id_ = -1, sep_id_ = -1, pad_id_ = -1, mask_id_ = -1;
};

}  // namespace souk::lm
