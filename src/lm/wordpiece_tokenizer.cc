#include "lm/wordpiece_tokenizer.h"

#include <fmt/format.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <system_error>

#include "common/file.h"
#include "lm/gguf.h"

namespace souk::lm {

namespace {

using json = nlohmann::json;

// ---------------------------------------------------------------------------
// Character classes.

enum AsciiClass : uint8_t { kPlain = 0, kSpace = 1, kPunct = 2, kControl = 3 };

struct AsciiTable {
  uint8_t cls[128];
  constexpr AsciiTable() : cls() {
    for (int c = 0; c < 128; ++c) {
      uint8_t k = kPlain;
      if (c < 0x20 || c == 0x7F) k = kControl;
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0x0B || c == 0x0C) k = kSpace;
      if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) ||
          (c >= 123 && c <= 126)) {
        k = kPunct;
      }
      cls[c] = k;
    }
  }
};
constexpr AsciiTable kAscii;

bool IsChineseChar(UChar32 c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
         (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

// General category C* (what `tokenizers` removes in clean_text, besides \t\n\r).
bool IsOther(UChar32 c) {
  switch (u_charType(c)) {
    case U_CONTROL_CHAR:
    case U_FORMAT_CHAR:
    case U_UNASSIGNED:
    case U_PRIVATE_USE_CHAR:
    case U_SURROGATE:
      return true;
    default:
      return false;
  }
}

// Decodes one code point at s[*i]; an invalid sequence consumes one byte and
// yields U+FFFD.
inline UChar32 DecodeUtf8(const unsigned char* s, size_t n, size_t* i) {
  const unsigned char c = s[*i];
  if (c < 0x80) {
    ++*i;
    return c;
  }
  size_t len;
  UChar32 cp;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
    cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    cp = c & 0x0F;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    cp = c & 0x07;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    ++*i;
    return 0xFFFD;
  }
  if (*i + len > n || s[*i + 1] < lo || s[*i + 1] > hi) {
    ++*i;
    return 0xFFFD;
  }
  for (size_t k = 1; k < len; ++k) {
    if ((s[*i + k] & 0xC0) != 0x80) {
      ++*i;
      return 0xFFFD;
    }
    cp = (cp << 6) | (s[*i + k] & 0x3F);
  }
  *i += len;
  return cp;
}

inline void AppendUtf8(UChar32 c, std::string* out) {
  if (c < 0x80) {
    out->push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (c >> 6)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (c >> 12)));
    out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (c >> 18)));
    out->push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

// Normalizer + pre-tokenizer over `text`; on_word(std::string_view) returns
// false to stop early.
template <typename OnWord>
void PreTokenizeImpl(std::string_view text, const WordPieceOptions& o, OnWord&& on_word) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  const bool clean = o.clean_text, chinese = o.handle_chinese_chars, lower = o.lowercase,
             strip = o.StripAccents();
  const icu::Normalizer2* nfd = nullptr;
  if (strip) {
    UErrorCode status = U_ZERO_ERROR;
    nfd = icu::Normalizer2::getNFDInstance(status);
    if (U_FAILURE(status)) nfd = nullptr;  // ICU data missing: no decomposition
  }
  std::string word;
  word.reserve(64);
  bool stop = false;
  auto flush = [&] {
    if (!word.empty()) {
      if (!on_word(std::string_view(word))) stop = true;
      word.clear();
    }
  };
  // A normalized code point enters the pre-tokenizer.
  auto emit = [&](UChar32 c) {
    if (c < 0x80) {
      const uint8_t k = kAscii.cls[c];
      if (k == kSpace) {
        flush();
      } else if (k == kPunct) {
        flush();
        word.push_back(static_cast<char>(c));
        flush();
      } else {
        word.push_back(static_cast<char>(c));
      }
      return;
    }
    if (u_isUWhiteSpace(c)) {
      flush();
    } else if (u_ispunct(c)) {
      flush();
      AppendUtf8(c, &word);
      flush();
    } else {
      AppendUtf8(c, &word);
    }
  };
  auto emit_lower = [&](UChar32 c) {
    if (lower) {
      if (c < 0x80) {
        if (c >= 'A' && c <= 'Z') c += 'a' - 'A';
      } else if (c == 0x130) {  // 'İ': the one unconditional multi-code-point lower case
        emit('i');
        emit(0x307);
        return;
      } else {
        c = u_tolower(c);
      }
    }
    emit(c);
  };
  icu::UnicodeString decomposition;
  size_t i = 0;
  while (i < n && !stop) {
    UChar32 c = DecodeUtf8(s, n, &i);
    if (c < 0x80) {
      // Cc except \t \n \r (incl. U+0000, \v, \f) is dropped, not split on.
      if (clean && (c < 0x20 || c == 0x7F) && c != '\t' && c != '\n' && c != '\r') continue;
      if (lower && c >= 'A' && c <= 'Z') c += 'a' - 'A';
      emit(c);
      continue;
    }
    if (clean) {
      if (c == 0xFFFD || IsOther(c)) continue;
      if (u_isUWhiteSpace(c)) {
        flush();
        continue;
      }
    }
    const bool isolate = chinese && IsChineseChar(c);
    if (isolate) flush();
    if (strip && c >= 0xC0) {
      if (nfd != nullptr && nfd->getDecomposition(c, decomposition)) {
        for (int32_t k = 0; k < decomposition.length();) {
          const UChar32 d = decomposition.char32At(k);
          k += U16_LENGTH(d);
          if (u_charType(d) == U_NON_SPACING_MARK) continue;
          emit_lower(d);
        }
      } else if (u_charType(c) != U_NON_SPACING_MARK) {
        emit_lower(c);
      }
    } else if (!strip || u_charType(c) != U_NON_SPACING_MARK) {
      emit_lower(c);
    }
    if (isolate) flush();
  }
  if (!stop) flush();
}

// ---------------------------------------------------------------------------
// Files and JSON.

Status ReadFile(const std::filesystem::path& path, std::string* out) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return NotFoundError(fmt::format("{}: file not found", path.string()));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError(fmt::format("{}: cannot open", path.string()));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return UnavailableError(fmt::format("{}: read error", path.string()));
  *out = std::move(ss).str();
  return OkStatus();
}

// Parses JSON; the one place that turns nlohmann exceptions into a Status.
Status ParseJson(const std::string& text, const std::filesystem::path& file, json* out) {
  try {
    *out = json::parse(text);
  } catch (const json::exception& e) {
    return InvalidArgumentError(fmt::format("{}: invalid JSON: {}", file.string(), e.what()));
  }
  if (!out->is_object()) {
    return InvalidArgumentError(
        fmt::format("{}: expected a JSON object at the top level", file.string()));
  }
  return OkStatus();
}

std::string FieldError(const std::filesystem::path& file, std::string_view field,
                       std::string_view wanted) {
  return fmt::format("{}: field '{}' must be {}", file.string(), field, wanted);
}

// Optional typed fields of an object: absent or null keep *out.
Status GetBool(const json& obj, const char* key, const std::filesystem::path& file,
               std::string_view path, bool* out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return OkStatus();
  if (!it->is_boolean()) {
    return InvalidArgumentError(FieldError(file, fmt::format("{}{}", path, key), "true or false"));
  }
  *out = it->get<bool>();
  return OkStatus();
}

Status GetOptBool(const json& obj, const char* key, const std::filesystem::path& file,
                  std::string_view path, std::optional<bool>* out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    out->reset();
    return OkStatus();
  }
  if (!it->is_boolean()) {
    return InvalidArgumentError(
        FieldError(file, fmt::format("{}{}", path, key), "true, false or null"));
  }
  *out = it->get<bool>();
  return OkStatus();
}

Status GetString(const json& obj, const char* key, const std::filesystem::path& file,
                 std::string_view path, std::string* out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return OkStatus();
  if (it->is_object()) {  // an AddedToken: {"content": "...", ...}
    auto c = it->find("content");
    if (c != it->end() && c->is_string()) {
      *out = c->get<std::string>();
      return OkStatus();
    }
  }
  if (!it->is_string()) {
    return InvalidArgumentError(FieldError(file, fmt::format("{}{}", path, key), "a string"));
  }
  *out = it->get<std::string>();
  return OkStatus();
}

Status GetPositiveInt(const json& obj, const char* key, const std::filesystem::path& file,
                      std::string_view path, int* out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return OkStatus();
  if (!it->is_number_integer() || it->get<int64_t>() <= 0 ||
      it->get<int64_t>() > std::numeric_limits<int>::max()) {
    return InvalidArgumentError(
        FieldError(file, fmt::format("{}{}", path, key), "a positive integer"));
  }
  *out = static_cast<int>(it->get<int64_t>());
  return OkStatus();
}

// model_max_length of tokenizer_config.json: Hugging Face writes 1e30 for
// "unset"; anything absurd or non-numeric means unset.
std::optional<int> SaneModelMaxLength(const json& cfg) {
  auto it = cfg.find("model_max_length");
  if (it == cfg.end() || !it->is_number()) return std::nullopt;
  const double v = it->get<double>();
  if (!(v >= 1.0) || v > 1e6) return std::nullopt;
  return static_cast<int>(v);
}

Status ApplyNormalizer(const json& norm, const std::filesystem::path& file, WordPieceOptions* o) {
  // Start from "no normalization"; each component switches steps on.
  o->clean_text = false;
  o->handle_chinese_chars = false;
  o->lowercase = false;
  o->strip_accents = false;
  if (norm.is_null()) return OkStatus();
  auto type_of = [&](const json& n, std::string_view where) -> StatusOr<std::string> {
    if (!n.is_object() || !n.contains("type") || !n["type"].is_string()) {
      return InvalidArgumentError(FieldError(file, where, "an object with a string \"type\""));
    }
    return n["type"].get<std::string>();
  };
  auto apply_bert = [&](const json& n, std::string_view where) -> Status {
    const std::string p = fmt::format("{}.", where);
    o->clean_text = true;
    o->handle_chinese_chars = true;
    o->lowercase = true;
    RETURN_IF_ERROR(GetBool(n, "clean_text", file, p, &o->clean_text));
    RETURN_IF_ERROR(GetBool(n, "handle_chinese_chars", file, p, &o->handle_chinese_chars));
    RETURN_IF_ERROR(GetBool(n, "lowercase", file, p, &o->lowercase));
    RETURN_IF_ERROR(GetOptBool(n, "strip_accents", file, p, &o->strip_accents));
    return OkStatus();
  };
  ASSIGN_OR_RETURN(std::string type, type_of(norm, "normalizer"));
  if (type == "BertNormalizer") return apply_bert(norm, "normalizer");
  if (type != "Sequence") {
    return InvalidArgumentError(fmt::format(
        "{}: normalizer type \"{}\" is not supported (expected BertNormalizer, or a Sequence of "
        "BertNormalizer/NFD/StripAccents/Lowercase)",
        file.string(), type));
  }
  auto items = norm.find("normalizers");
  if (items == norm.end() || !items->is_array()) {
    return InvalidArgumentError(FieldError(file, "normalizer.normalizers", "an array"));
  }
  bool nfd = false, bert = false;
  for (size_t k = 0; k < items->size(); ++k) {
    const std::string where = fmt::format("normalizer.normalizers[{}]", k);
    ASSIGN_OR_RETURN(std::string t, type_of((*items)[k], where));
    if (t == "BertNormalizer" && !bert) {
      const bool lower = o->lowercase;
      RETURN_IF_ERROR(apply_bert((*items)[k], where));
      o->lowercase = o->lowercase || lower;
      bert = true;
    } else if (t == "Lowercase") {
      o->lowercase = true;
    } else if (t == "NFD") {
      nfd = true;
    } else if (t == "StripAccents" && nfd) {
      o->strip_accents = true;
    } else {
      return InvalidArgumentError(fmt::format(
          "{}: {} of type \"{}\" cannot be mapped onto the BERT normalizer (supported: one "
          "BertNormalizer, Lowercase, NFD followed by StripAccents)",
          file.string(), where, t));
    }
  }
  if (nfd && !o->strip_accents.value_or(false)) {
    return InvalidArgumentError(fmt::format(
        "{}: normalizer Sequence has NFD without StripAccents, which the BERT normalizer "
        "cannot express",
        file.string()));
  }
  return OkStatus();
}

Status CheckPreTokenizer(const json& pre, const std::filesystem::path& file) {
  auto is_bert = [](const json& p) {
    return p.is_object() && p.contains("type") && p["type"] == "BertPreTokenizer";
  };
  if (is_bert(pre)) return OkStatus();
  if (pre.is_object() && pre.contains("type") && pre["type"] == "Sequence" &&
      pre.contains("pretokenizers") && pre["pretokenizers"].is_array() &&
      pre["pretokenizers"].size() == 1 && is_bert(pre["pretokenizers"][0])) {
    return OkStatus();
  }
  std::string type = pre.is_null() ? std::string("null") : pre.dump();
  if (pre.is_object() && pre.contains("type") && pre["type"].is_string()) {
    type = pre["type"].get<std::string>();
  }
  if (type.size() > 80) type = type.substr(0, 80) + "...";
  return InvalidArgumentError(
      fmt::format("{}: pre_tokenizer \"{}\" is not supported (expected BertPreTokenizer)",
                  file.string(), type));
}

// Reads cls/sep from a TemplateProcessing / BertProcessing / RobertaProcessing.
Status ApplyPostProcessor(const json& post, const std::filesystem::path& file,
                          WordPieceOptions* o) {
  if (!post.is_object()) return OkStatus();
  const std::string type = post.value("type", "");
  if (type == "TemplateProcessing") {
    auto single = post.find("single");
    if (single == post.end() || !single->is_array()) return OkStatus();
    std::vector<std::string> specials;
    bool seen_sequence = false;
    std::string before, after;
    for (const json& piece : *single) {
      if (piece.contains("Sequence")) {
        seen_sequence = true;
      } else if (piece.contains("SpecialToken") && piece["SpecialToken"].is_object() &&
                 piece["SpecialToken"].contains("id") && piece["SpecialToken"]["id"].is_string()) {
        std::string id = piece["SpecialToken"]["id"].get<std::string>();
        if (!seen_sequence && before.empty()) before = id;
        if (seen_sequence && after.empty()) after = id;
      }
    }
    if (!before.empty()) o->cls_token = before;
    if (!after.empty()) o->sep_token = after;
  } else if (type == "BertProcessing" || type == "RobertaProcessing") {
    for (const char* key : {"cls", "sep"}) {
      auto it = post.find(key);
      if (it == post.end()) continue;
      if (!it->is_array() || it->empty() || !(*it)[0].is_string()) {
        return InvalidArgumentError(
            FieldError(file, fmt::format("post_processor.{}", key), "[token, id]"));
      }
      (std::string_view(key) == "cls" ? o->cls_token : o->sep_token) = (*it)[0].get<std::string>();
    }
  }
  return OkStatus();
}

// Reads tokenizer_config.json options into *o (fields absent keep defaults).
Status ApplyTokenizerConfig(const json& cfg, const std::filesystem::path& file,
                            WordPieceOptions* o) {
  RETURN_IF_ERROR(GetBool(cfg, "do_lower_case", file, "", &o->lowercase));
  RETURN_IF_ERROR(GetOptBool(cfg, "strip_accents", file, "", &o->strip_accents));
  RETURN_IF_ERROR(GetBool(cfg, "tokenize_chinese_chars", file, "", &o->handle_chinese_chars));
  RETURN_IF_ERROR(GetBool(cfg, "clean_text", file, "", &o->clean_text));
  RETURN_IF_ERROR(
      GetPositiveInt(cfg, "max_input_chars_per_word", file, "", &o->max_input_chars_per_word));
  RETURN_IF_ERROR(GetString(cfg, "continuing_subword_prefix", file, "", &o->continuing_prefix));
  RETURN_IF_ERROR(GetString(cfg, "unk_token", file, "", &o->unk_token));
  RETURN_IF_ERROR(GetString(cfg, "cls_token", file, "", &o->cls_token));
  RETURN_IF_ERROR(GetString(cfg, "sep_token", file, "", &o->sep_token));
  RETURN_IF_ERROR(GetString(cfg, "pad_token", file, "", &o->pad_token));
  RETURN_IF_ERROR(GetString(cfg, "mask_token", file, "", &o->mask_token));
  if (auto m = SaneModelMaxLength(cfg)) o->max_length = *m;
  return OkStatus();
}

struct TokenizerJson {
  std::vector<std::string> tokens;
  WordPieceOptions options;
  std::vector<std::pair<std::string, int32_t>> added;
  bool has_truncation = false;
};

StatusOr<TokenizerJson> ReadTokenizerJsonUnchecked(const std::filesystem::path& file) {
  std::string text;
  RETURN_IF_ERROR(ReadFile(file, &text));
  json j;
  RETURN_IF_ERROR(ParseJson(text, file, &j));
  TokenizerJson out;
  WordPieceOptions& o = out.options;
  auto model = j.find("model");
  if (model == j.end() || !model->is_object()) {
    return InvalidArgumentError(FieldError(file, "model", "an object"));
  }
  const std::string type = model->contains("type") && (*model)["type"].is_string()
                               ? (*model)["type"].get<std::string>()
                               : std::string("(missing)");
  if (type != "WordPiece") {
    return InvalidArgumentError(
        fmt::format("{}: model.type is \"{}\"; only \"WordPiece\" tokenizers are supported",
                    file.string(), type));
  }
  RETURN_IF_ERROR(GetString(*model, "unk_token", file, "model.", &o.unk_token));
  RETURN_IF_ERROR(
      GetString(*model, "continuing_subword_prefix", file, "model.", &o.continuing_prefix));
  RETURN_IF_ERROR(GetPositiveInt(*model, "max_input_chars_per_word", file, "model.",
                                 &o.max_input_chars_per_word));
  RETURN_IF_ERROR(ApplyNormalizer(j.value("normalizer", json()), file, &o));
  RETURN_IF_ERROR(CheckPreTokenizer(j.value("pre_tokenizer", json()), file));
  RETURN_IF_ERROR(ApplyPostProcessor(j.value("post_processor", json()), file, &o));
  if (auto t = j.find("truncation"); t != j.end() && t->is_object()) {
    RETURN_IF_ERROR(GetPositiveInt(*t, "max_length", file, "truncation.", &o.max_length));
    out.has_truncation = t->contains("max_length");
  }
  if (auto p = j.find("padding"); p != j.end() && p->is_object()) {
    RETURN_IF_ERROR(GetString(*p, "pad_token", file, "padding.", &o.pad_token));
  }

  // Vocabulary: token -> id, plus added tokens (which may extend it).
  auto vocab = model->find("vocab");
  if (vocab == model->end() || !vocab->is_object() || vocab->empty()) {
    return InvalidArgumentError(FieldError(file, "model.vocab", "a non-empty object"));
  }
  std::vector<std::pair<int64_t, std::string>> entries;
  entries.reserve(vocab->size());
  for (auto it = vocab->begin(); it != vocab->end(); ++it) {
    if (!it.value().is_number_integer()) {
      return InvalidArgumentError(
          FieldError(file, fmt::format("model.vocab[\"{}\"]", it.key()), "an integer id"));
    }
    entries.emplace_back(it.value().get<int64_t>(), it.key());
  }
  if (auto a = j.find("added_tokens"); a != j.end() && !a->is_null()) {
    if (!a->is_array()) return InvalidArgumentError(FieldError(file, "added_tokens", "an array"));
    for (size_t k = 0; k < a->size(); ++k) {
      const json& t = (*a)[k];
      if (!t.is_object() || !t.contains("id") || !t["id"].is_number_integer() ||
          !t.contains("content") || !t["content"].is_string()) {
        return InvalidArgumentError(FieldError(file, fmt::format("added_tokens[{}]", k),
                                               "an object with integer id and string content"));
      }
      const int64_t id = t["id"].get<int64_t>();
      std::string content = t["content"].get<std::string>();
      if (id < 0 || id > std::numeric_limits<int32_t>::max()) {
        return InvalidArgumentError(
            FieldError(file, fmt::format("added_tokens[{}].id", k), "a non-negative 32-bit id"));
      }
      out.added.emplace_back(content, static_cast<int32_t>(id));
      if (id >= static_cast<int64_t>(vocab->size())) entries.emplace_back(id, std::move(content));
    }
  }
  std::sort(entries.begin(), entries.end());
  out.tokens.reserve(entries.size());
  for (size_t k = 0; k < entries.size(); ++k) {
    const auto& [id, token] = entries[k];
    if (k > 0 && entries[k - 1].first == id) {
      if (entries[k - 1].second == token) continue;  // an added token repeated in the vocab
      return InvalidArgumentError(fmt::format("{}: id {} is used by both \"{}\" and \"{}\"",
                                              file.string(), id, entries[k - 1].second, token));
    }
    if (id != static_cast<int64_t>(out.tokens.size())) {
      return InvalidArgumentError(fmt::format(
          "{}: model.vocab ids must be 0..n-1 without gaps; \"{}\" has id {} where {} was "
          "expected",
          file.string(), token, id, out.tokens.size()));
    }
    out.tokens.push_back(token);
  }
  return out;
}

// The nlohmann adapter boundary: any type error escaping the checks above
// becomes InvalidArgument naming the file.
StatusOr<TokenizerJson> ReadTokenizerJson(const std::filesystem::path& file) {
  try {
    return ReadTokenizerJsonUnchecked(file);
  } catch (const json::exception& e) {
    return InvalidArgumentError(
        fmt::format("{}: unexpected tokenizer.json content: {}", file.string(), e.what()));
  }
}

}  // namespace

void BertPreTokenize(std::string_view text, const WordPieceOptions& options,
                     const std::function<void(std::string_view word)>& on_word) {
  PreTokenizeImpl(text, options, [&](std::string_view w) {
    on_word(w);
    return true;
  });
}

// ---------------------------------------------------------------------------
// TokenTable.

void WordPieceTokenizer::TokenTable::Build(const std::vector<std::string>& tokens,
                                           std::string_view prefix) {
  skip = prefix.size();
  size_t n = 0;
  for (const std::string& t : tokens) {
    if (t.size() > skip && t.compare(0, skip, prefix) == 0) ++n;
  }
  size_t cap = 16;
  while (cap < 2 * n + 1) cap *= 2;
  mask = cap - 1;
  slots.assign(cap, -1);
  hashes.assign(cap, 0);
  max_key_bytes = 0;
  std::hash<std::string_view> hasher;
  for (size_t id = 0; id < tokens.size(); ++id) {
    const std::string& t = tokens[id];
    if (t.size() <= skip || t.compare(0, skip, prefix) != 0) continue;
    const std::string_view key(t.data() + skip, t.size() - skip);
    max_key_bytes = std::max(max_key_bytes, key.size());
    const uint64_t h = hasher(key);
    for (uint64_t i = h & mask;; i = (i + 1) & mask) {
      if (slots[i] < 0) {
        slots[i] = static_cast<int32_t>(id);
        hashes[i] = static_cast<uint32_t>(h);
        break;
      }
      const std::string& other = tokens[slots[i]];
      if (hashes[i] == static_cast<uint32_t>(h) &&
          std::string_view(other.data() + skip, other.size() - skip) == key) {
        slots[i] = static_cast<int32_t>(id);  // a repeated token keeps its last id
        break;
      }
    }
  }
}

int32_t WordPieceTokenizer::TokenTable::Find(std::string_view key,
                                             const std::vector<std::string>& tokens) const {
  if (key.size() > max_key_bytes || slots.empty()) return -1;
  const uint64_t h = std::hash<std::string_view>()(key);
  for (uint64_t i = h & mask;; i = (i + 1) & mask) {
    const int32_t id = slots[i];
    if (id < 0) return -1;
    if (hashes[i] == static_cast<uint32_t>(h)) {
      const std::string& t = tokens[id];
      if (t.size() == key.size() + skip &&
          std::memcmp(t.data() + skip, key.data(), key.size()) == 0) {
        return id;
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Construction.

Status WordPieceTokenizer::Init(std::vector<std::string> tokens, WordPieceOptions options,
                                std::vector<std::pair<std::string, int32_t>> added) {
  if (tokens.empty()) return InvalidArgumentError("WordPiece vocabulary is empty");
  if (tokens.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    return InvalidArgumentError("WordPiece vocabulary has more than 2^31-1 tokens");
  }
  if (options.max_input_chars_per_word < 1) {
    return InvalidArgumentError(fmt::format("max_input_chars_per_word must be >= 1 (got {})",
                                            options.max_input_chars_per_word));
  }
  tokens_ = std::move(tokens);
  options_ = std::move(options);
  whole_.Build(tokens_, "");
  continuing_.Build(tokens_, options_.continuing_prefix);
  unk_id_ = TokenId(options_.unk_token);
  if (unk_id_ < 0) {
    return InvalidArgumentError(
        fmt::format("unknown token \"{}\" is not in the vocabulary ({} "
                    "tokens)",
                    options_.unk_token, tokens_.size()));
  }
  cls_id_ = TokenId(options_.cls_token);
  sep_id_ = TokenId(options_.sep_token);
  pad_id_ = TokenId(options_.pad_token);
  mask_id_ = TokenId(options_.mask_token);
  specials_.clear();
  if (!added.empty()) {
    for (auto& [content, id] : added) {
      if (content.empty()) continue;
      if (id < 0 || id >= vocab_size()) {
        return InvalidArgumentError(
            fmt::format("special token \"{}\" has id {} outside the "
                        "vocabulary (size {})",
                        content, id, vocab_size()));
      }
      specials_.emplace_back(std::move(content), id);
    }
  } else {
    for (const std::string* t : {&options_.pad_token, &options_.unk_token, &options_.cls_token,
                                 &options_.sep_token, &options_.mask_token}) {
      const int32_t id = TokenId(*t);
      if (id >= 0 && !t->empty()) specials_.emplace_back(*t, id);
    }
  }
  // Longest first so that matching is leftmost-longest.
  std::stable_sort(specials_.begin(), specials_.end(),
                   [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
  std::fill(std::begin(special_first_byte_), std::end(special_first_byte_), false);
  for (const auto& s : specials_)
    special_first_byte_[static_cast<unsigned char>(s.first[0])] = true;
  return OkStatus();
}

WordPieceTokenizer WordPieceTokenizer::Clone() const {
  WordPieceTokenizer t;
  t.Init(tokens_, options_, specials_).IgnoreError();  // succeeded for *this already
  return t;
}

StatusOr<WordPieceTokenizer> WordPieceTokenizer::FromTokens(std::vector<std::string> tokens,
                                                            WordPieceOptions options) {
  WordPieceTokenizer t;
  RETURN_IF_ERROR(t.Init(std::move(tokens), std::move(options), {}));
  return t;
}

StatusOr<WordPieceTokenizer> WordPieceTokenizer::FromVocabFile(const std::filesystem::path& vocab,
                                                               WordPieceOptions options) {
  std::string text;
  RETURN_IF_ERROR(ReadFile(vocab, &text));
  std::vector<std::string> tokens;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    size_t stop = end;
    if (stop > pos && text[stop - 1] == '\r') --stop;
    tokens.emplace_back(text, pos, stop - pos);
    pos = end + 1;
  }
  if (tokens.empty()) {
    return InvalidArgumentError(fmt::format("{}: vocabulary file is empty", vocab.string()));
  }
  auto t = FromTokens(std::move(tokens), std::move(options));
  if (!t.ok()) return t.status().WithContext(vocab.string());
  return t;
}

StatusOr<WordPieceTokenizer> WordPieceTokenizer::FromTokenizerJson(
    const std::filesystem::path& file) {
  ASSIGN_OR_RETURN(TokenizerJson tj, ReadTokenizerJson(file));
  WordPieceTokenizer t;
  Status s = t.Init(std::move(tj.tokens), std::move(tj.options), std::move(tj.added));
  if (!s.ok()) return s.WithContext(file.string());
  return t;
}

StatusOr<WordPieceTokenizer> WordPieceTokenizer::FromDirectory(const std::filesystem::path& dir) {
  try {
    return FromDirectoryUnchecked(dir);
  } catch (const json::exception& e) {
    return InvalidArgumentError(
        fmt::format("{}: unexpected tokenizer file content: {}", dir.string(), e.what()));
  }
}

StatusOr<WordPieceTokenizer> WordPieceTokenizer::FromDirectoryUnchecked(
    const std::filesystem::path& dir) {
  std::error_code ec;
  const auto tj_path = dir / "tokenizer.json";
  const auto cfg_path = dir / "tokenizer_config.json";
  const auto vocab_path = dir / "vocab.txt";
  json cfg;
  bool has_cfg = false;
  if (std::filesystem::is_regular_file(cfg_path, ec)) {
    std::string text;
    RETURN_IF_ERROR(ReadFile(cfg_path, &text));
    RETURN_IF_ERROR(ParseJson(text, cfg_path, &cfg));
    has_cfg = true;
  }
  if (std::filesystem::is_regular_file(tj_path, ec)) {
    ASSIGN_OR_RETURN(TokenizerJson tj, ReadTokenizerJson(tj_path));
    if (has_cfg) {
      if (!tj.has_truncation) {
        if (auto m = SaneModelMaxLength(cfg)) tj.options.max_length = *m;
      }
      // Special token names (as transformers does: tokenizer_config.json).
      for (auto [key, field] : {std::pair{"pad_token", &tj.options.pad_token},
                                std::pair{"mask_token", &tj.options.mask_token},
                                std::pair{"cls_token", &tj.options.cls_token},
                                std::pair{"sep_token", &tj.options.sep_token}}) {
        RETURN_IF_ERROR(GetString(cfg, key, cfg_path, "", field));
      }
    }
    WordPieceTokenizer t;
    Status s = t.Init(std::move(tj.tokens), std::move(tj.options), std::move(tj.added));
    if (!s.ok()) return s.WithContext(tj_path.string());
    return t;
  }
  if (!std::filesystem::is_regular_file(vocab_path, ec)) {
    return NotFoundError(
        fmt::format("{}: no tokenizer found (neither tokenizer.json nor vocab.txt)", dir.string()));
  }
  WordPieceOptions options;
  std::vector<std::pair<std::string, int32_t>> added;
  if (has_cfg) {
    RETURN_IF_ERROR(ApplyTokenizerConfig(cfg, cfg_path, &options));
    // added_tokens_decoder: {"id": {"content": ...}} (written by Save and by
    // recent versions of transformers).
    if (auto d = cfg.find("added_tokens_decoder"); d != cfg.end() && d->is_object()) {
      for (auto it = d->begin(); it != d->end(); ++it) {
        int64_t id = -1;
        auto [p, e] = std::from_chars(it.key().data(), it.key().data() + it.key().size(), id);
        if (e != std::errc() || p != it.key().data() + it.key().size() || id < 0 ||
            id > std::numeric_limits<int32_t>::max() || !it.value().is_object() ||
            !it.value().contains("content") || !it.value()["content"].is_string()) {
          return InvalidArgumentError(
              FieldError(cfg_path, fmt::format("added_tokens_decoder[\"{}\"]", it.key()),
                         "an object with string content keyed by a token id"));
        }
        added.emplace_back(it.value()["content"].get<std::string>(), static_cast<int32_t>(id));
      }
    }
  }
  ASSIGN_OR_RETURN(WordPieceTokenizer t, FromVocabFile(vocab_path, std::move(options)));
  if (!added.empty()) {
    Status s = t.Init(std::move(t.tokens_), t.options_, std::move(added));
    if (!s.ok()) return s.WithContext(cfg_path.string());
  }
  return t;
}

StatusOr<WordPieceTokenizer> WordPieceTokenizer::FromGguf(const std::filesystem::path& file) {
  ASSIGN_OR_RETURN(GgufFile gguf, GgufFile::Open(file));
  ASSIGN_OR_RETURN(std::string model, gguf.GetString("tokenizer.ggml.model"));
  if (model != "bert") {
    return InvalidArgumentError(
        fmt::format("{}: tokenizer.ggml.model is \"{}\"; only \"bert\" (WordPiece) is supported",
                    file.string(), model));
  }
  ASSIGN_OR_RETURN(std::vector<std::string> tokens, gguf.GetStringArray("tokenizer.ggml.tokens"));
  // llama.cpp's converter stores BERT vocabularies in "phantom space" form:
  // "hello" -> "\u2581hello", "##ing" -> "ing", "[CLS]" unchanged. Undo it.
  static constexpr std::string_view kPhantom = "\xE2\x96\x81";  // U+2581
  const bool phantom = std::any_of(tokens.begin(), tokens.end(), [](const std::string& t) {
    return t.compare(0, kPhantom.size(), kPhantom) == 0;
  });
  if (phantom) {
    for (std::string& t : tokens) {
      if (t.compare(0, kPhantom.size(), kPhantom) == 0) {
        t.erase(0, kPhantom.size());
      } else if (!(t.size() >= 2 && t.front() == '[' && t.back() == ']')) {
        t.insert(0, "##");
      }
    }
  }
  WordPieceOptions options;
  struct Special {
    const char* key;
    std::string* token;
  };
  for (const Special& sp : {Special{"tokenizer.ggml.cls_token_id", &options.cls_token},
                            Special{"tokenizer.ggml.seperator_token_id", &options.sep_token},
                            Special{"tokenizer.ggml.padding_token_id", &options.pad_token},
                            Special{"tokenizer.ggml.unknown_token_id", &options.unk_token},
                            Special{"tokenizer.ggml.mask_token_id", &options.mask_token}}) {
    if (!gguf.Has(sp.key)) continue;
    ASSIGN_OR_RETURN(int64_t id, gguf.GetInt(sp.key));
    if (id < 0 || id >= static_cast<int64_t>(tokens.size())) {
      return InvalidArgumentError(
          fmt::format("{}: {} = {} lies outside the vocabulary ({} "
                      "tokens)",
                      file.string(), sp.key, id, tokens.size()));
    }
    *sp.token = tokens[static_cast<size_t>(id)];
  }
  if (gguf.Has("bert.context_length")) {
    ASSIGN_OR_RETURN(int64_t ctx, gguf.GetInt("bert.context_length"));
    if (ctx > 0 && ctx <= 1'000'000) options.max_length = static_cast<int>(ctx);
  }
  auto t = FromTokens(std::move(tokens), std::move(options));
  if (!t.ok()) return t.status().WithContext(file.string());
  return t;
}

// ---------------------------------------------------------------------------
// Encoding.

int32_t WordPieceTokenizer::TokenId(std::string_view token) const {
  return whole_.Find(token, tokens_);
}

const std::string& WordPieceTokenizer::Token(int32_t id) const {
  static const std::string kEmpty;
  if (id < 0 || id >= vocab_size()) return kEmpty;
  return tokens_[static_cast<size_t>(id)];
}

void WordPieceTokenizer::WordPiece(std::string_view word, std::vector<int32_t>* ids) const {
  // Length in code points (count the bytes that are not continuation bytes).
  size_t chars = 0;
  for (char c : word) chars += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  if (chars > static_cast<size_t>(options_.max_input_chars_per_word)) {
    ids->push_back(unk_id_);
    return;
  }
  const size_t first = ids->size();
  size_t start = 0;
  while (start < word.size()) {
    const TokenTable& table = start == 0 ? whole_ : continuing_;
    size_t end = std::min(word.size(), start + table.max_key_bytes);
    while (end < word.size() && (static_cast<unsigned char>(word[end]) & 0xC0) == 0x80) --end;
    int32_t id = -1;
    while (end > start) {
      id = table.Find(word.substr(start, end - start), tokens_);
      if (id >= 0) break;
      do {
        --end;
      } while (end > start && (static_cast<unsigned char>(word[end]) & 0xC0) == 0x80);
    }
    if (id < 0) {
      ids->resize(first);
      ids->push_back(unk_id_);
      return;
    }
    ids->push_back(id);
    start = end;
  }
}

void WordPieceTokenizer::EncodeInto(std::string_view text, std::vector<int32_t>* ids,
                                    long limit) const {
  auto segment = [&](std::string_view part) {
    PreTokenizeImpl(part, options_, [&](std::string_view w) {
      WordPiece(w, ids);
      return limit < 0 || static_cast<long>(ids->size()) < limit;
    });
  };
  auto full = [&] { return limit >= 0 && static_cast<long>(ids->size()) >= limit; };
  if (specials_.empty()) {
    segment(text);
    return;
  }
  size_t seg_start = 0, i = 0;
  while (i < text.size() && !full()) {
    if (!special_first_byte_[static_cast<unsigned char>(text[i])]) {
      ++i;
      continue;
    }
    const std::pair<std::string, int32_t>* hit = nullptr;
    for (const auto& sp : specials_) {
      if (text.compare(i, sp.first.size(), sp.first) == 0) {
        hit = &sp;
        break;
      }
    }
    if (hit == nullptr) {
      ++i;
      continue;
    }
    if (i > seg_start) segment(text.substr(seg_start, i - seg_start));
    if (full()) return;
    ids->push_back(hit->second);
    i += hit->first.size();
    seg_start = i;
  }
  if (seg_start < text.size() && !full()) segment(text.substr(seg_start));
}

std::vector<int32_t> WordPieceTokenizer::Encode(std::string_view text, bool add_special_tokens,
                                                int max_length) const {
  const int limit = max_length < 0 ? options_.max_length : max_length;
  std::vector<int32_t> ids;
  ids.reserve(std::min<size_t>(text.size() / 3 + 4, limit > 0 ? limit : 1 << 16));
  long content_limit = -1;
  if (add_special_tokens && cls_id_ >= 0) ids.push_back(cls_id_);
  if (limit > 0) {
    const int reserved = add_special_tokens ? (cls_id_ >= 0) + (sep_id_ >= 0) : 0;
    content_limit = static_cast<long>(ids.size()) + std::max(0, limit - reserved);
  }
  EncodeInto(text, &ids, content_limit);
  if (content_limit >= 0 && static_cast<long>(ids.size()) > content_limit) {
    ids.resize(static_cast<size_t>(content_limit));
  }
  if (add_special_tokens && sep_id_ >= 0) ids.push_back(sep_id_);
  return ids;
}

std::vector<std::string> WordPieceTokenizer::Tokenize(std::string_view text) const {
  std::vector<int32_t> ids;
  EncodeInto(text, &ids, -1);
  std::vector<std::string> out;
  out.reserve(ids.size());
  for (int32_t id : ids) out.push_back(tokens_[static_cast<size_t>(id)]);
  return out;
}

// ---------------------------------------------------------------------------
// Saving.

Status WordPieceTokenizer::Save(const std::filesystem::path& dir) const {
  std::string vocab;
  for (size_t id = 0; id < tokens_.size(); ++id) {
    if (tokens_[id].find_first_of("\n\r") != std::string::npos) {
      return InvalidArgumentError(
          fmt::format("token {} contains a line break and cannot be written to vocab.txt", id));
    }
    vocab += tokens_[id];
    vocab += '\n';
  }
  json cfg;
  cfg["tokenizer_class"] = "BertTokenizer";
  cfg["do_lower_case"] = options_.lowercase;
  cfg["strip_accents"] =
      options_.strip_accents.has_value() ? json(*options_.strip_accents) : json(nullptr);
  cfg["tokenize_chinese_chars"] = options_.handle_chinese_chars;
  cfg["clean_text"] = options_.clean_text;
  cfg["model_max_length"] = options_.max_length > 0 ? options_.max_length : 1000000;
  cfg["max_input_chars_per_word"] = options_.max_input_chars_per_word;
  cfg["continuing_subword_prefix"] = options_.continuing_prefix;
  cfg["unk_token"] = options_.unk_token;
  cfg["cls_token"] = options_.cls_token;
  cfg["sep_token"] = options_.sep_token;
  cfg["pad_token"] = options_.pad_token;
  cfg["mask_token"] = options_.mask_token;
  json added = json::object();
  for (const auto& [content, id] : specials_) {
    added[std::to_string(id)] = {{"content", content}, {"special", true}, {"normalized", false},
                                 {"lstrip", false},    {"rstrip", false}, {"single_word", false}};
  }
  cfg["added_tokens_decoder"] = std::move(added);
  // tokenizer.json (Hugging Face `tokenizers` format).
  json tj;
  tj["version"] = "1.0";
  if (options_.max_length > 0) {
    tj["truncation"] = {{"direction", "Right"},
                        {"max_length", options_.max_length},
                        {"strategy", "LongestFirst"},
                        {"stride", 0}};
  } else {
    tj["truncation"] = nullptr;
  }
  tj["padding"] = nullptr;
  json added_list = json::array();
  for (const auto& [content, id] : specials_) {
    added_list.push_back({{"id", id},
                          {"content", content},
                          {"single_word", false},
                          {"lstrip", false},
                          {"rstrip", false},
                          {"normalized", false},
                          {"special", true}});
  }
  std::sort(added_list.begin(), added_list.end(),
            [](const json& a, const json& b) { return a["id"] < b["id"]; });
  tj["added_tokens"] = std::move(added_list);
  tj["normalizer"] = {{"type", "BertNormalizer"},
                      {"clean_text", options_.clean_text},
                      {"handle_chinese_chars", options_.handle_chinese_chars},
                      {"strip_accents", cfg["strip_accents"]},
                      {"lowercase", options_.lowercase}};
  tj["pre_tokenizer"] = {{"type", "BertPreTokenizer"}};
  json single = json::array();
  json special_map = json::object();
  auto add_special = [&](const std::string& token, int32_t id) {
    if (id < 0) return;
    single.push_back({{"SpecialToken", {{"id", token}, {"type_id", 0}}}});
    special_map[token] = {
        {"id", token}, {"ids", json::array({id})}, {"tokens", json::array({token})}};
  };
  add_special(options_.cls_token, cls_id_);
  single.push_back({{"Sequence", {{"id", "A"}, {"type_id", 0}}}});
  add_special(options_.sep_token, sep_id_);
  tj["post_processor"] = {
      {"type", "TemplateProcessing"}, {"single", single}, {"special_tokens", special_map}};
  tj["decoder"] = {
      {"type", "WordPiece"}, {"prefix", options_.continuing_prefix}, {"cleanup", true}};
  json vocab_map = json::object();
  for (size_t id = tokens_.size(); id-- > 0;) {  // a repeated token keeps its last id
    if (!vocab_map.contains(tokens_[id])) vocab_map[tokens_[id]] = id;
  }
  tj["model"] = {{"type", "WordPiece"},
                 {"unk_token", options_.unk_token},
                 {"continuing_subword_prefix", options_.continuing_prefix},
                 {"max_input_chars_per_word", options_.max_input_chars_per_word},
                 {"vocab", std::move(vocab_map)}};
  std::string tj_text;
  try {
    tj_text = tj.dump(2) + "\n";
  } catch (const json::exception& e) {  // tokens that are not valid UTF-8
    return InvalidArgumentError(
        fmt::format("{}: cannot write tokenizer.json: {}", dir.string(), e.what()));
  }
  RETURN_IF_ERROR(WriteFileAtomically(dir / "vocab.txt", vocab));
  RETURN_IF_ERROR(WriteFileAtomically(dir / "tokenizer.json", tj_text));
  RETURN_IF_ERROR(WriteFileAtomically(dir / "tokenizer_config.json", cfg.dump(2) + "\n"));
  return OkStatus();
}

}  // namespace souk::lm
