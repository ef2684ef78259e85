// Adapters for the remaining public datasets of ../shared/data (see its README):
// amazon-seq, amazon-unisrec, flipkart, dunnhumby, diginetica, yoochoose,
// movielens, tafeng, cn-reviews, multi-cpr, wands.
//
// Shared rules (as in adapters_datasets.cc): a file that cannot be read at all
// (missing, wrong header, unparsable JSON document) is an error naming the
// file; a record that cannot be mapped is quarantined with a stable reason and
// a detail naming the field and value; files of a dataset folder that are not
// imported are named in a summary note. Datasets without timestamps get
// synthetic ones from kSyntheticEpochMs that keep their order.
#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "common/utf8.h"
#include "ingest/adapter.h"
#include "ingest/adapters_internal.h"
#include "ingest/jsonl_reader.h"
#include "ingest/parse.h"

namespace souk::ingest {
namespace {

using nlohmann::json;

constexpr int64_t kMinuteMs = 60'000;
constexpr int64_t kDayMs = 86'400'000;

std::string FileName(const std::string& p) { return std::filesystem::path(p).filename().string(); }

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool Contains(std::string_view s, std::string_view part) { return s.find(part) != std::string_view::npos; }

// JSON text of `j`; invalid UTF-8 (never expected: the readers validate) is replaced, not thrown.
std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// Shortens a value quoted in a quarantine detail.
std::string_view Clip(std::string_view s, size_t n = 60) { return Utf8Prefix(s, n); }

// The event type of datasets whose rows do not say (AdapterOptions::event_type).
StatusOr<store::EventType> EventTypeOption(const AdapterOptions& o, std::string_view adapter) {
  if (o.event_type.empty()) return store::EventType::kPurchase;
  auto t = store::ParseEventType(o.event_type);
  if (!t) {
    return InvalidArgumentError(fmt::format("{}: unknown event type '{}' (expected view, click, add_to_cart, "
                                            "purchase, rating, ...)",
                                            adapter, o.event_type));
  }
  return *t;
}

Status RejectNumber(Importer& sink, const CsvRecord& rec, std::string_view field, std::string_view value) {
  if (Trim(value).empty()) {
    return sink.Reject(RefOf(rec), "missing_field", fmt::format("required field '{}' is empty", field));
  }
  return sink.Reject(RefOf(rec), "invalid_number",
                     fmt::format("field '{}' = '{}' is not a number", field, Clip(value)));
}

// Epoch seconds (integer or with a fraction, any number of digits) -> ms; on
// failure quarantines the record (bad_timestamp / missing_field).
std::optional<int64_t> EpochSecondsOrReject(Importer& sink, const CsvRecord& rec, std::string_view field,
                                            std::string_view value, Status* status) {
  auto v = ParseNumber(value);
  if (!v || *v < 0 || *v > 1e11) {
    *status = Trim(value).empty()
                  ? sink.Reject(RefOf(rec), "missing_field", fmt::format("required field '{}' is empty", field))
                  : sink.Reject(RefOf(rec), "bad_timestamp",
                                fmt::format("field '{}' = '{}' is not epoch seconds", field, Clip(value)));
    return std::nullopt;
  }
  return static_cast<int64_t>(std::llround(*v * 1000.0));
}

// A column by name, also accepting the name with stray spaces around it in the
// header ("genres " in MovieLens movies.csv).
StatusOr<int> RequireLoose(const CsvColumns& cols, std::string_view name) {
  for (const std::string& variant :
       {std::string(name), std::string(name) + " ", " " + std::string(name), std::string(name) + "\r"}) {
    if (int i = cols.Optional(variant); i >= 0) return i;
  }
  return cols.Require(name);
}

// Reads a line-based text file (no CSV quoting): calls `fn` with each non-blank
// line (without its terminator and a trailing '\r') and its RecordRef. Lines
// that are not valid UTF-8 are quarantined (invalid_utf8).
Status ForEachLine(Importer& sink, const std::string& path,
                   const std::function<Status(std::string_view line, const RecordRef& ref)>& fn) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError(fmt::format("cannot open '{}'", path));
  ASSIGN_OR_RETURN(std::string source, sink.OpenSource(path));
  std::string line;
  int64_t line_no = 0, offset = 0, records = 0;
  while (std::getline(in, line)) {
    ++line_no;
    const int64_t start = offset;
    offset += static_cast<int64_t>(line.size()) + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line_no == 1 && line.size() >= 3 && line.compare(0, 3, "\xEF\xBB\xBF") == 0) line.erase(0, 3);
    if (Trim(line).empty()) continue;
    ++records;
    RecordRef ref;
    ref.line = line_no;
    ref.byte_offset = start;
    ref.raw = line;
    if (size_t bad = ValidateUtf8(line); bad != std::string_view::npos) {
      RETURN_IF_ERROR(sink.Reject(ref, "invalid_utf8", fmt::format("invalid UTF-8 at byte {} of the line", bad)));
    } else {
      RETURN_IF_ERROR(fn(line, ref));
    }
    if ((records & 4095) == 0) sink.SetSourceProgress(static_cast<uint64_t>(offset));
  }
  if (in.bad()) return DataLossError(fmt::format("{}: read error", source));
  sink.SetSourceProgress(static_cast<uint64_t>(offset));
  if (records == 0) sink.Note("no records: " + source + " is empty");
  return OkStatus();
}

std::vector<std::string_view> SplitWhitespace(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    size_t j = i;
    while (j < s.size() && s[j] != ' ' && s[j] != '\t') ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

bool IsDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// A minimal reader of Python literals as Flipkart writes them (repr of lists,
// dicts and strings): "['a', \"b's\"]", "[{'key': 'k', 'value': 'v'}]".
// Numbers, True/False/None are accepted too. nullopt on anything else.
class PyLiteral {
 public:
  static std::optional<json> Parse(std::string_view s) {
    PyLiteral p(s);
    auto v = p.Value(0);
    p.Ws();
    if (!v || p.i_ != s.size()) return std::nullopt;
    return v;
  }

 private:
  explicit PyLiteral(std::string_view s) : s_(s) {}
  void Ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\t' || s_[i_] == '\r')) ++i_;
  }
  bool Eat(char c) {
    Ws();
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  std::optional<json> Value(int depth) {
    if (depth > 32) return std::nullopt;
    Ws();
    if (i_ >= s_.size()) return std::nullopt;
    const char c = s_[i_];
    if (c == '\'' || c == '"') return String();
    if (c == '[' || c == '(') {
      const char close = c == '[' ? ']' : ')';
      ++i_;
      json arr = json::array();
      if (Eat(close)) return arr;
      for (;;) {
        auto v = Value(depth + 1);
        if (!v) return std::nullopt;
        arr.push_back(std::move(*v));
        if (Eat(close)) return arr;
        if (!Eat(',')) return std::nullopt;
        if (Eat(close)) return arr;  // trailing comma
      }
    }
    if (c == '{') {
      ++i_;
      json obj = json::object();
      if (Eat('}')) return obj;
      for (;;) {
        Ws();
        auto k = String();
        if (!k || !Eat(':')) return std::nullopt;
        auto v = Value(depth + 1);
        if (!v) return std::nullopt;
        obj[k->get<std::string>()] = std::move(*v);
        if (Eat('}')) return obj;
        if (!Eat(',')) return std::nullopt;
        if (Eat('}')) return obj;
      }
    }
    size_t j = i_;
    while (j < s_.size() && s_[j] != ',' && s_[j] != ']' && s_[j] != '}' && s_[j] != ')' && s_[j] != ' ') ++j;
    std::string_view word = s_.substr(i_, j - i_);
    i_ = j;
    if (word == "True") return json(true);
    if (word == "False") return json(false);
    if (word == "None") return json(nullptr);
    if (auto n = ParseNumber(word)) return json(*n);
    return std::nullopt;
  }
  std::optional<json> String() {
    if (i_ >= s_.size() || (s_[i_] != '\'' && s_[i_] != '"')) return std::nullopt;
    const char q = s_[i_++];
    std::string out;
    while (i_ < s_.size()) {
      char c = s_[i_++];
      if (c == q) return json(std::move(out));
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (i_ >= s_.size()) return std::nullopt;
      char e = s_[i_++];
      switch (e) {
        case 'n': out.push_back('\n'); break;
        case 't': out.push_back('\t'); break;
        case 'r': out.push_back('\r'); break;
        case '\\': case '\'': case '"': out.push_back(e); break;
        default: out.push_back('\\'); out.push_back(e);  // kept literally, as Python does
      }
    }
    return std::nullopt;  // unterminated
  }

  std::string_view s_;
  size_t i_ = 0;
};

// ---------------------------------------------------------------------------
// amazon-seq: S3-Rec sequences (Beauty.txt) + optional item2attributes JSON.
class AmazonSeqAdapter final : public Adapter {
 public:
  std::string_view Name() const override { return "amazon-seq"; }
  std::string_view Description() const override {
    return "Amazon S3-Rec sequences: `user item1 item2 ...` lines -> one event per item (--event-type, default "
           "purchase; synthetic time 1 min apart); *_item2attributes.json -> items with attribute_ids";
  }
  Status Import(const std::vector<std::string>& paths, const AdapterOptions& options, Importer& sink) override {
    ASSIGN_OR_RETURN(store::EventType type, EventTypeOption(options, Name()));
    ASSIGN_OR_RETURN(auto files, ExpandPaths(paths));
    // The attributes file first, so the items are real catalog entries, not stubs.
    std::stable_sort(files.begin(), files.end(), [](const std::string& a, const std::string& b) {
      return EndsWith(a, ".json") > EndsWith(b, ".json");
    });
    for (const auto& f : files) {
      if (EndsWith(f, ".json")) {
        RETURN_IF_ERROR(ImportAttributes(f, sink));
        continue;
      }
      RETURN_IF_ERROR(ForEachLine(sink, f, [&](std::string_view line, const RecordRef& ref) -> Status {
        auto tok = SplitWhitespace(line);
        if (tok.size() < 2) {
          return sink.Reject(ref, "missing_item",
                             fmt::format("user '{}' has no items on its line (expected `user item1 item2 ...`)",
                                         Clip(tok.empty() ? std::string_view() : tok[0])));
        }
        for (size_t k = 1; k < tok.size(); ++k) {
          store::Event e;
          e.type = type;
          e.user_id = std::string(tok[0]);
          e.session_id = e.user_id;
          e.item_id = std::string(tok[k]);
          e.timestamp_ms = kSyntheticEpochMs + static_cast<int64_t>(k - 1) * kMinuteMs;
          RETURN_IF_ERROR(sink.AddEvent(std::move(e), ref));
        }
        return OkStatus();
      }));
    }
    return OkStatus();
  }

 private:
  // {"item": [attribute ids], ...} -> kMerge items {"attribute_ids": [...]}.
  static Status ImportAttributes(const std::string& path, Importer& sink) {
    ASSIGN_OR_RETURN(std::string source, sink.OpenSource(path));
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (auto err = parser.load(path).get(doc); err != simdjson::SUCCESS) {
      return InvalidArgumentError(fmt::format("{}: not a JSON document: {}", source, simdjson::error_message(err)));
    }
    simdjson::dom::object obj;
    if (doc.get(obj) != simdjson::SUCCESS) {
      return InvalidArgumentError(fmt::format("{}: expected a JSON object item -> [attribute ids]", source));
    }
    for (auto field : obj) {
      std::string raw = JsonQuote(field.key) + ": " + ToJsonString(field.value);
      RecordRef ref;
      ref.raw = raw;
      simdjson::dom::array ids;
      if (field.value.get(ids) != simdjson::SUCCESS) {
        RETURN_IF_ERROR(sink.Reject(ref, "invalid_json",
                                    fmt::format("item '{}': attributes must be a JSON array of ids, got {}",
                                                Clip(field.key), Clip(ToJsonString(field.value)))));
        continue;
      }
      store::Item it;
      it.external_id = std::string(field.key);
      it.attributes_json = "{\"attribute_ids\":" + ToJsonString(field.value) + "}";
      RETURN_IF_ERROR(sink.AddItem(std::move(it), store::ItemWriteMode::kMerge, ref));
    }
    sink.SetSourceProgress(std::filesystem::file_size(path));
    return OkStatus();
  }
};

// ---------------------------------------------------------------------------
// amazon-unisrec: X.text, X.item2index, X.user2index, X.{train,valid,test}.inter.
class AmazonUniSRecAdapter final : public Adapter {
 public:
  std::string_view Name() const override { return "amazon-unisrec"; }
  std::string_view Description() const override {
    return "Amazon UniSRec: X.text -> items (title = text); X.{train,valid,test}.inter -> each user's full "
           "sequence (longest row + target) as events with ASINs and user ids from X.item2index/X.user2index";
  }
  Status Import(const std::vector<std::string>& paths, const AdapterOptions& options, Importer& sink) override {
    ASSIGN_OR_RETURN(store::EventType type, EventTypeOption(options, Name()));
    ASSIGN_OR_RETURN(auto files, ExpandPaths(paths));
    std::vector<std::string> texts, inters;
    std::string item_index_file, user_index_file;
    for (const auto& f : files) {
      if (EndsWith(f, ".text")) texts.push_back(f);
      else if (EndsWith(f, ".inter")) inters.push_back(f);
      else if (EndsWith(f, ".item2index")) item_index_file = f;
      else if (EndsWith(f, ".user2index")) user_index_file = f;
      else sink.Note("not imported: " + f + " (not a UniSRec .text/.inter/.item2index/.user2index file)");
    }
    // Index files: index -> external id. Their lines are mappings, not records.
    std::unordered_map<std::string, std::string> item_of, user_of;
    if (!inters.empty() && (item_index_file.empty() || user_index_file.empty())) {
      return InvalidArgumentError(fmt::format(
          "{}: .inter files name items and users by index: give the .item2index and .user2index files too",
          Name()));
    }
    if (!item_index_file.empty()) RETURN_IF_ERROR(ReadIndex(item_index_file, &item_of));
    if (!user_index_file.empty()) RETURN_IF_ERROR(ReadIndex(user_index_file, &user_of));

    for (const auto& f : texts) {
      int c_id = -1, c_text = -1;
      CsvOptions o;
      o.delimiter = '\t';
      o.quote = '\0';  // text is raw: a leading '"' (12" ruler) is literal
      RETURN_IF_ERROR(ForEachCsvRecord(
          sink, f, o,
          [&](const CsvColumns& cols) -> Status {
            ASSIGN_OR_RETURN(c_id, cols.Require("item_id:token"));
            ASSIGN_OR_RETURN(c_text, cols.Require("text:token_seq"));
            return OkStatus();
          },
          [&](const CsvRecord& rec) -> Status {
            store::Item it;
            it.external_id = std::string(Trim(Field(rec, c_id)));
            it.title = std::string(Trim(Field(rec, c_text)));
            it.language = "en";
            return sink.AddItem(std::move(it), store::ItemWriteMode::kCatalog, RefOf(rec));
          }));
    }
    return ImportSequences(inters, item_of, user_of, type, sink);
  }

 private:
  // One row of an .inter file as read in the first pass.
  struct Row {
    int64_t line = 0, offset = 0;
    std::string raw;
    std::string user;                   // index
    std::vector<std::string> seq;       // item indexes, target last
    std::string reason, detail;         // set when the row is quarantined
    bool emit = false;                  // the longest row of its user: emits the sequence
  };

  static Status ReadIndex(const std::string& path, std::unordered_map<std::string, std::string>* index_to_id) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return NotFoundError(fmt::format("cannot open '{}'", path));
    std::string line;
    int64_t n = 0;
    while (std::getline(in, line)) {
      ++n;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (Trim(line).empty()) continue;
      size_t tab = line.find('\t');
      std::string_view id = tab == std::string::npos ? std::string_view() : Trim(std::string_view(line).substr(0, tab));
      std::string_view idx = tab == std::string::npos ? std::string_view() : Trim(std::string_view(line).substr(tab + 1));
      if (id.empty() || !IsDigits(idx)) {
        return InvalidArgumentError(fmt::format("{}:{}: expected `id<TAB>index`, got '{}'", path, n, Clip(line)));
      }
      auto [it, fresh] = index_to_id->emplace(std::string(idx), std::string(id));
      if (!fresh) {
        return InvalidArgumentError(fmt::format("{}:{}: index {} is given twice ('{}' and '{}')", path, n, idx,
                                                it->second, id));
      }
    }
    return OkStatus();
  }

  static Status ImportSequences(const std::vector<std::string>& inters,
                                const std::unordered_map<std::string, std::string>& item_of,
                                const std::unordered_map<std::string, std::string>& user_of,
                                store::EventType type, Importer& sink) {
    // Pass 1: read every row, find each user's longest row (its full sequence).
    std::vector<std::vector<Row>> rows(inters.size());
    std::unordered_map<std::string, std::pair<size_t, size_t>> best;  // user index -> (file, row)
    for (size_t fi = 0; fi < inters.size(); ++fi) {
      CsvOptions o;
      o.delimiter = '\t';
      o.quote = '\0';
      ASSIGN_OR_RETURN(auto reader, CsvReader::Open(inters[fi], o));
      CsvColumns cols(*reader, inters[fi]);
      ASSIGN_OR_RETURN(int c_user, cols.Require("user_id:token"));
      ASSIGN_OR_RETURN(int c_list, cols.Require("item_id_list:token_seq"));
      ASSIGN_OR_RETURN(int c_target, cols.Require("item_id:token"));
      CsvRecord rec;
      while (reader->Next(&rec)) {
        Row r;
        r.line = static_cast<int64_t>(rec.line);
        r.offset = static_cast<int64_t>(rec.byte_offset);
        r.raw = std::string(rec.raw);
        if (rec.error != RecordError::kNone) {
          r.reason = std::string(RecordErrorName(rec.error));
          r.detail = rec.error_detail;
          rows[fi].push_back(std::move(r));
          continue;
        }
        r.user = std::string(Trim(Field(rec, c_user)));
        for (auto t : SplitWhitespace(Field(rec, c_list))) r.seq.emplace_back(t);
        std::string_view target = Trim(Field(rec, c_target));
        if (!target.empty()) r.seq.emplace_back(target);
        if (!user_of.count(r.user)) {
          r.reason = "unknown_index";
          r.detail = fmt::format("user_id '{}' is not in the .user2index file", Clip(r.user));
        } else if (r.seq.empty()) {
          r.reason = "missing_item";
          r.detail = "the row has no items (item_id_list and item_id are empty)";
        } else {
          for (const auto& i : r.seq) {
            if (!item_of.count(i)) {
              r.reason = "unknown_index";
              r.detail = fmt::format("item index '{}' is not in the .item2index file", Clip(i));
              break;
            }
          }
        }
        rows[fi].push_back(std::move(r));
        const Row& added = rows[fi].back();
        if (!added.reason.empty()) continue;
        auto [it, fresh] = best.emplace(added.user, std::make_pair(fi, rows[fi].size() - 1));
        if (!fresh && rows[it->second.first][it->second.second].seq.size() < added.seq.size()) {
          it->second = {fi, rows[fi].size() - 1};
        }
      }
      RETURN_IF_ERROR(reader->status().WithContext(inters[fi]));
    }
    // Every other row of a user must be a prefix of the longest one (the
    // splits are leave-one-out views of one sequence); a row that is not is
    // quarantined rather than silently folded in.
    int64_t folded = 0;
    for (auto& [user, pos] : best) rows[pos.first][pos.second].emit = true;
    for (size_t fi = 0; fi < inters.size(); ++fi) {
      for (Row& r : rows[fi]) {
        if (!r.reason.empty() || r.emit) continue;
        const Row& full = rows[best[r.user].first][best[r.user].second];
        if (!std::equal(r.seq.begin(), r.seq.end(), full.seq.begin())) {
          r.reason = "inconsistent_sequence";
          r.detail = fmt::format("user '{}': this row's items are not a prefix of the user's longest row ({} line {})",
                                 Clip(r.user), FileName(inters[best[r.user].first]), full.line);
        } else {
          ++folded;
        }
      }
    }
    // Pass 2: emit, file by file in line order.
    for (size_t fi = 0; fi < inters.size(); ++fi) {
      RETURN_IF_ERROR(sink.OpenSource(inters[fi]).status());
      for (const Row& r : rows[fi]) {
        RecordRef ref;
        ref.line = r.line;
        ref.byte_offset = r.offset;
        ref.raw = r.raw;
        if (!r.reason.empty()) {
          RETURN_IF_ERROR(sink.Reject(ref, r.reason, r.detail));
          continue;
        }
        if (!r.emit) continue;
        const std::string& user = user_of.at(r.user);
        for (size_t k = 0; k < r.seq.size(); ++k) {
          store::Event e;
          e.type = type;
          e.user_id = user;
          e.session_id = user;
          e.item_id = item_of.at(r.seq[k]);
          e.timestamp_ms = kSyntheticEpochMs + static_cast<int64_t>(k) * kMinuteMs;
          RETURN_IF_ERROR(sink.AddEvent(std::move(e), ref));
        }
      }
      std::error_code ec;
      sink.SetSourceProgress(std::filesystem::file_size(inters[fi], ec));
    }
    if (folded > 0) {
      sink.Note(fmt::format("{} .inter rows are prefixes of a longer row of the same user: their items are part "
                            "of that user's full sequence and add no events of their own",
                            folded));
    }
    return OkStatus();
  }
};

// ---------------------------------------------------------------------------
// flipkart: flipkart_product.csv -> catalog items.
class FlipkartAdapter final : public Adapter {
 public:
  std::string_view Name() const override { return "flipkart"; }
  std::string_view Description() const override {
    return "Flipkart products CSV -> items (pid, name, category tree, discounted price in INR, images, "
           "description, brand, specifications as attributes)";
  }
  Status Import(const std::vector<std::string>& paths, const AdapterOptions&, Importer& sink) override {
    ASSIGN_OR_RETURN(auto files, ExpandPaths(paths));
    for (const auto& f : files) {
      int c_pid, c_name, c_tree = -1, c_price = -1, c_retail = -1, c_images = -1, c_desc = -1, c_brand = -1,
                         c_specs = -1, c_uniq = -1, c_url = -1, c_rating = -1, c_overall = -1, c_fk = -1,
                         c_crawl = -1;
      RETURN_IF_ERROR(ForEachCsvRecord(
          sink, f, CsvOptions{},
          [&](const CsvColumns& cols) -> Status {
            ASSIGN_OR_RETURN(c_pid, cols.Require("pid"));
            ASSIGN_OR_RETURN(c_name, cols.Require("product_name"));
            c_tree = cols.Optional("product_category_tree");
            c_price = cols.Optional("discounted_price");
            c_retail = cols.Optional("retail_price");
            c_images = cols.Optional("image");
            c_desc = cols.Optional("description");
            c_brand = cols.Optional("brand");
            c_specs = cols.Optional("product_specifications");
            c_uniq = cols.Optional("uniq_id");
            c_url = cols.Optional("product_url");
            c_rating = cols.Optional("product_rating");
            c_overall = cols.Optional("overall_rating");
            c_fk = cols.Optional("is_FK_Advantage_product");
            c_crawl = cols.Optional("crawl_timestamp");
            return OkStatus();
          },
          [&](const CsvRecord& rec) -> Status {
            store::Item it;
            it.external_id = std::string(Trim(Field(rec, c_pid)));
            if (it.external_id.empty()) {
              return sink.Reject(RefOf(rec), "missing_field", "required field 'pid' is empty");
            }
            it.title = std::string(Trim(Field(rec, c_name)));
            it.description = std::string(Trim(Field(rec, c_desc)));
            it.brand = std::string(Trim(Field(rec, c_brand)));
            it.currency = "INR";
            it.language = "en";
            json attrs = json::object();
            if (std::string_view p = Field(rec, c_price); !Trim(p).empty()) {
              auto v = ParseNumber(p);
              if (!v) return RejectNumber(sink, rec, "discounted_price", p);
              it.price = *v;
            }
            if (std::string_view p = Field(rec, c_retail); !Trim(p).empty()) {
              auto v = ParseNumber(p);
              if (!v) return RejectNumber(sink, rec, "retail_price", p);
              attrs["retail_price"] = *v;
              if (!it.price) it.price = *v;  // no discount: the retail price is the price
            }
            // Category tree: a Python list literal; entries may themselves be "a >> b" paths.
            if (std::string_view tree = Trim(Field(rec, c_tree)); !tree.empty()) {
              auto parsed = PyLiteral::Parse(tree);
              if (!parsed || !parsed->is_array()) {
                return sink.Reject(RefOf(rec), "invalid_category",
                                   fmt::format("product_category_tree '{}' is not a list of strings", Clip(tree)));
              }
              std::vector<std::string> path;
              for (const auto& e : *parsed) {
                if (!e.is_string()) continue;
                std::string s = e.get<std::string>();
                for (size_t start = 0;;) {
                  size_t sep = s.find(">>", start);
                  std::string_view part = Trim(std::string_view(s).substr(start, sep == std::string::npos ? std::string::npos : sep - start));
                  if (!part.empty()) path.emplace_back(part);
                  if (sep == std::string::npos) break;
                  start = sep + 2;
                }
              }
              // Flipkart often ends the tree with the product's own name: that is not a category.
              if (path.size() > 1 && path.back() == it.title) path.pop_back();
              for (size_t k = 0; k < path.size(); ++k) it.category += (k ? " > " : "") + path[k];
            }
            if (std::string_view img = Trim(Field(rec, c_images)); !img.empty()) {
              json arr = json::parse(img.begin(), img.end(), nullptr, /*allow_exceptions=*/false);
              bool ok = arr.is_array();
              if (ok) {
                for (const auto& u : arr) ok &= u.is_string();
              }
              if (!ok) {
                return sink.Reject(RefOf(rec), "invalid_json",
                                   fmt::format("field 'image' = '{}' is not a JSON array of URLs", Clip(img)));
              }
              it.images_json = Dump(arr);
            }
            if (std::string_view specs = Trim(Field(rec, c_specs)); !specs.empty()) {
              AddSpecifications(specs, &attrs);
            }
            auto put = [&](const char* key, int col) {
              if (std::string_view v = Trim(Field(rec, col)); !v.empty() && !attrs.contains(key)) attrs[key] = std::string(v);
            };
            put("uniq_id", c_uniq);
            put("product_url", c_url);
            put("product_rating", c_rating);
            put("overall_rating", c_overall);
            put("is_fk_advantage_product", c_fk);
            put("crawl_timestamp", c_crawl);
            it.attributes_json = Dump(attrs);
            return sink.AddItem(std::move(it), store::ItemWriteMode::kCatalog, RefOf(rec));
          }));
    }
    return OkStatus();
  }

 private:
  // "{\"product_specification\"=>[{\"key\"=>...}]}" (the original Kaggle file) or a
  // Python list "[{'key': 'Color', 'value': 'Red'}, {'value': 'One Pair'}]":
  // key/value pairs become attributes; values without a key are collected in
  // "specification_notes"; anything unparsable is kept raw under "specifications".
  static void AddSpecifications(std::string_view specs, json* attrs) {
    auto parsed = PyLiteral::Parse(specs);
    if (!parsed) {  // the Ruby-hash spelling of the original Kaggle file
      std::string text(specs);
      for (size_t p = 0; (p = text.find("=>", p)) != std::string::npos;) text.replace(p, 2, ":");
      parsed = PyLiteral::Parse(text);
    }
    const json* list = nullptr;
    if (parsed && parsed->is_array()) list = &*parsed;
    else if (parsed && parsed->is_object() && parsed->contains("product_specification")) {
      const json& inner = (*parsed)["product_specification"];
      if (inner.is_array()) list = &inner;
    }
    if (!list) {
      (*attrs)["specifications"] = std::string(specs);
      return;
    }
    json notes = json::array();
    for (const auto& e : *list) {
      if (!e.is_object() || !e.contains("value")) continue;
      const json& v = e["value"];
      std::string value = v.is_string() ? v.get<std::string>() : v.dump();
      if (e.contains("key") && e["key"].is_string() && !e["key"].get<std::string>().empty()) {
        std::string key = e["key"].get<std::string>();
        if (!attrs->contains(key)) (*attrs)[key] = value;
      } else {
        notes.push_back(value);
      }
    }
    if (!notes.empty()) (*attrs)["specification_notes"] = std::move(notes);
  }
};

// ---------------------------------------------------------------------------
// dunnhumby "The Complete Journey": products, demographics, transactions.
class DunnhumbyAdapter final : public Adapter {
 public:
  std::string_view Name() const override { return "dunnhumby"; }
  std::string_view Description() const override {
    return "dunnhumby Complete Journey: products.csv -> items, demographics.csv -> users, transactions*.csv -> "
           "purchase events (basket = session); campaigns/coupons are not imported";
  }
  Status Import(const std::vector<std::string>& paths, const AdapterOptions&, Importer& sink) override {
    ASSIGN_OR_RETURN(auto files, ExpandPaths(paths));
    auto rank = [](const std::string& f) {
      const std::string n = FileName(f);
      if (n.rfind("products", 0) == 0) return 0;
      if (n.rfind("demographics", 0) == 0) return 1;
      if (n.rfind("transactions", 0) == 0) return 2;
      return 3;
    };
    std::stable_sort(files.begin(), files.end(),
                     [&](const std::string& a, const std::string& b) { return rank(a) < rank(b); });
    for (const auto& f : files) {
      switch (rank(f)) {
        case 0: RETURN_IF_ERROR(Products(f, sink)); break;
        case 1: RETURN_IF_ERROR(Demographics(f, sink)); break;
        case 2: RETURN_IF_ERROR(Transactions(f, sink)); break;
        default:
          sink.Note("not imported: " + f +
                    " (dunnhumby campaigns, coupons and other files are not catalog, user or event records)");
      }
    }
    return OkStatus();
  }

 private:
  static Status Products(const std::string& f, Importer& sink) {
    int c_id, c_man = -1, c_dep = -1, c_brand = -1, c_cat = -1, c_type = -1, c_size = -1;
    return ForEachCsvRecord(
        sink, f, CsvOptions{},
        [&](const CsvColumns& cols) -> Status {
          ASSIGN_OR_RETURN(c_id, cols.Require("product_id"));
          c_man = cols.Optional("manufacturer_id");
          c_dep = cols.Optional("department");
          c_brand = cols.Optional("brand");
          c_cat = cols.Optional("product_category");
          c_type = cols.Optional("product_type");
          c_size = cols.Optional("package_size");
          return OkStatus();
        },
        [&](const CsvRecord& rec) -> Status {
          store::Item it;
          it.external_id = NormalizeNumericId(Field(rec, c_id));
          it.brand = std::string(Trim(Field(rec, c_brand)));
          it.language = "en";
          it.currency = "USD";
          std::string_view levels[] = {Trim(Field(rec, c_dep)), Trim(Field(rec, c_cat)), Trim(Field(rec, c_type))};
          for (std::string_view l : levels) {
            if (!l.empty()) it.category += (it.category.empty() ? "" : " > ") + std::string(l);
          }
          // The dataset has no product names: the most specific category label stands in.
          for (int k = 2; k >= 0 && it.title.empty(); --k) it.title = std::string(levels[k]);
          json attrs = json::object();
          if (auto v = Trim(Field(rec, c_man)); !v.empty()) attrs["manufacturer_id"] = std::string(v);
          if (auto v = Trim(Field(rec, c_size)); !v.empty()) attrs["package_size"] = std::string(v);
          it.attributes_json = Dump(attrs);
          return sink.AddItem(std::move(it), store::ItemWriteMode::kCatalog, RefOf(rec));
        });
  }

  static Status Demographics(const std::string& f, Importer& sink) {
    int c_id;
    std::vector<std::pair<std::string, int>> others;
    return ForEachCsvRecord(
        sink, f, CsvOptions{},
        [&](const CsvColumns& cols) -> Status {
          ASSIGN_OR_RETURN(c_id, cols.Require("household_id"));
          for (const char* name : {"age", "income", "home_ownership", "marital_status", "household_size",
                                   "household_comp", "kids_count"}) {
            if (int i = cols.Optional(name); i >= 0) others.emplace_back(name, i);
          }
          return OkStatus();
        },
        [&](const CsvRecord& rec) -> Status {
          store::User u;
          u.external_id = NormalizeNumericId(Field(rec, c_id));
          json attrs = json::object();
          for (const auto& [name, i] : others) {
            if (auto v = Trim(Field(rec, i)); !v.empty()) attrs[name] = std::string(v);
          }
          u.attributes_json = Dump(attrs);
          return sink.AddUser(std::move(u), RefOf(rec));
        });
  }

  static Status Transactions(const std::string& f, Importer& sink) {
    int c_user, c_store = -1, c_basket, c_item, c_qty, c_sales, c_ts, c_week = -1;
    std::vector<std::pair<std::string, int>> discounts;
    return ForEachCsvRecord(
        sink, f, CsvOptions{},
        [&](const CsvColumns& cols) -> Status {
          ASSIGN_OR_RETURN(c_user, cols.Require("household_id"));
          ASSIGN_OR_RETURN(c_basket, cols.Require("basket_id"));
          ASSIGN_OR_RETURN(c_item, cols.Require("product_id"));
          ASSIGN_OR_RETURN(c_qty, cols.Require("quantity"));
          ASSIGN_OR_RETURN(c_sales, cols.Require("sales_value"));
          ASSIGN_OR_RETURN(c_ts, cols.Require("transaction_timestamp"));
          c_store = cols.Optional("store_id");
          c_week = cols.Optional("week");
          for (const char* name : {"retail_disc", "coupon_disc", "coupon_match_disc"}) {
            if (int i = cols.Optional(name); i >= 0) discounts.emplace_back(name, i);
          }
          return OkStatus();
        },
        [&](const CsvRecord& rec) -> Status {
          Status st;
          auto ts = TimestampOrReject(sink, rec, "transaction_timestamp", Field(rec, c_ts), &st);
          if (!ts) return st;
          auto qty = ParseNumber(Field(rec, c_qty));
          if (!qty) return RejectNumber(sink, rec, "quantity", Field(rec, c_qty));
          auto sales = ParseNumber(Field(rec, c_sales));
          if (!sales) return RejectNumber(sink, rec, "sales_value", Field(rec, c_sales));
          if (*qty <= 0) {
            // Lines with quantity 0 are price adjustments without units (no purchase of an item).
            return sink.Reject(RefOf(rec), "invalid_quantity",
                               fmt::format("field 'quantity' is {} (sales_value {}): a purchase needs quantity > 0",
                                           Field(rec, c_qty), Field(rec, c_sales)));
          }
          json ctx = json::object();
          if (auto v = Trim(Field(rec, c_store)); !v.empty()) ctx["store_id"] = std::string(v);
          ctx["sales_value"] = *sales;
          for (const auto& [name, i] : discounts) {
            std::string_view v = Field(rec, i);
            if (Trim(v).empty()) continue;
            auto d = ParseNumber(v);
            if (!d) return RejectNumber(sink, rec, name, v);
            ctx[name] = *d;
          }
          if (auto v = Trim(Field(rec, c_week)); !v.empty()) ctx["week"] = std::string(v);
          store::Event e;
          e.type = store::EventType::kPurchase;
          e.timestamp_ms = *ts;
          e.user_id = NormalizeNumericId(Field(rec, c_user));
          e.session_id = NormalizeNumericId(Field(rec, c_basket));
          e.item_id = NormalizeNumericId(Field(rec, c_item));
          e.quantity = *qty;
          e.price = *sales / *qty;
          e.context_json = Dump(ctx);
          return sink.AddEvent(std::move(e), RefOf(rec));
        });
  }
};

// ---------------------------------------------------------------------------
// diginetica (CIKM Cup 2016): ';'-separated categories, purchases, item views.
class DigineticaAdapter final : public Adapter {
 public:
  std::string_view Name() const override { return "diginetica"; }
  std::string_view Description() const override {
    return "DIGINETICA: product-categories.csv -> item categories; train-purchases.csv -> purchase events; "
           "*item-views.csv -> view events (';'-separated, time = eventdate + timeframe ms)";
  }
  Status Import(const std::vector<std::string>& paths, const AdapterOptions& options, Importer& sink) override {
    ASSIGN_OR_RETURN(auto files, ExpandPaths(paths));
    auto rank = [](const std::string& f) {
      const std::string n = FileName(f);
      if (Contains(n, "categor")) return 0;
      if (Contains(n, "purchase")) return 1;
      if (Contains(n, "view")) return 2;
      return 3;
    };
    std::stable_sort(files.begin(), files.end(),
                     [&](const std::string& a, const std::string& b) { return rank(a) < rank(b); });
    CsvOptions o;
    o.delimiter = options.delimiter ? options.delimiter : ';';
    for (const auto& f : files) {
      if (rank(f) == 3) {
        sink.Note("not imported: " + f + " (not a DIGINETICA categories, purchases or item-views file)");
        continue;
      }
      if (rank(f) == 0) {
        int c_item, c_cat;
        RETURN_IF_ERROR(ForEachCsvRecord(
            sink, f, o,
            [&](const CsvColumns& cols) -> Status {
              ASSIGN_OR_RETURN(c_item, cols.Require("itemId"));
              ASSIGN_OR_RETURN(c_cat, cols.Require("categoryId"));
              return OkStatus();
            },
            [&](const CsvRecord& rec) -> Status {
              store::Item it;
              it.external_id = std::string(Trim(Field(rec, c_item)));
              it.category = std::string(Trim(Field(rec, c_cat)));
              return sink.AddItem(std::move(it), store::ItemWriteMode::kMerge, RefOf(rec));
            }));
        continue;
      }
      const bool purchases = rank(f) == 1;
      int c_sess, c_user, c_frame, c_date, c_item, c_order = -1;
      RETURN_IF_ERROR(ForEachCsvRecord(
          sink, f, o,
          [&](const CsvColumns& cols) -> Status {
            if (purchases) {
              ASSIGN_OR_RETURN(c_sess, cols.Require("sessionId"));
              ASSIGN_OR_RETURN(c_user, cols.Require("userId"));
              ASSIGN_OR_RETURN(c_item, cols.Require("itemId"));
              ASSIGN_OR_RETURN(c_order, cols.Require("ordernumber"));
            } else {
              ASSIGN_OR_RETURN(c_sess, cols.Require("session_id"));
              ASSIGN_OR_RETURN(c_user, cols.Require("user_id"));
              ASSIGN_OR_RETURN(c_item, cols.Require("item_id"));
            }
            ASSIGN_OR_RETURN(c_frame, cols.Require("timeframe"));
            ASSIGN_OR_RETURN(c_date, cols.Require("eventdate"));
            return OkStatus();
          },
          [&](const CsvRecord& rec) -> Status {
            Status st;
            auto day = TimestampOrReject(sink, rec, "eventdate", Field(rec, c_date), &st);
            if (!day) return st;
            auto frame = ParseNumber(Field(rec, c_frame));
            if (!frame || *frame < 0) return RejectNumber(sink, rec, "timeframe", Field(rec, c_frame));
            store::Event e;
            e.type = purchases ? store::EventType::kPurchase : store::EventType::kView;
            e.timestamp_ms = *day + static_cast<int64_t>(std::llround(*frame));
            e.session_id = std::string(Trim(Field(rec, c_sess)));
            std::string_view user = Trim(Field(rec, c_user));
            if (user != "NA") e.user_id = std::string(user);
            e.item_id = std::string(Trim(Field(rec, c_item)));
            if (purchases) {
              e.quantity = 1;
              if (auto v = Trim(Field(rec, c_order)); !v.empty()) e.context_json = "{\"ordernumber\":" + JsonQuote(v) + "}";
            }
            return sink.AddEvent(std::move(e), RefOf(rec));
          }));
    }
    return OkStatus();
  }
};

// ---------------------------------------------------------------------------
// yoochoose (RecSys Challenge 2015 clicks): SessionId<TAB>ItemId<TAB>Time.
class YoochooseAdapter final : public Adapter {
 public:
  std::string_view Name() const override { return "yoochoose"; }
  std::string_view Description() const override {
    return "YooChoose clicks: tab-separated SessionId, ItemId, Time (epoch seconds) -> anonymous click events";
  }
  Status Import(const std::vector<std::string>& paths, const AdapterOptions& options, Importer& sink) override {
    ASSIGN_OR_RETURN(auto files, ExpandPaths(paths));
    CsvOptions o;
    o.delimiter = options.delimiter ? options.delimiter : '\t';
    for (const auto& f : files) {
      int c_sess, c_item, c_time;
      RETURN_IF_ERROR(ForEachCsvRecord(
          sink, f, o,
          [&](const CsvColumns& cols) -> Status {
            ASSIGN_OR_RETURN(c_sess, cols.Require("SessionId"));
            ASSIGN_OR_RETURN(c_item, cols.Require("ItemId"));
            ASSIGN_OR_RETURN(c_time, cols.Require("Time"));
            return OkStatus();
          },
          [&](const CsvRecord& rec) -> Status {
            Status st;
            auto ts = EpochSecondsOrReject(sink, rec, "Time", Field(rec, c_time), &st);
            if (!ts) return st;
            store::Event e;
            e.type = store::EventType::kClick;
            e.timestamp_ms = *ts;
            e.session_id = std::string(Trim(Field(rec, c_sess)));
            e.item_id = std::string(Trim(Field(rec, c_item)));
            return sink.AddEvent(std::move(e), RefOf(rec));
          }));
    }
    return OkStatus();
  }
};

// ---------------------------------------------------------------------------
// MovieLens (latest-small): movies.csv -> items, ratings.csv -> rating events.
class MovieLensAdapter final : public Adapter {
 public:
  std::string_view Name() const override { return "movielens"; }
  std::string_view Description() const override {
    return "MovieLens: movies.csv -> items (category = first genre, attributes genres); ratings.csv -> rating "
           "events; tags.csv and links.csv are not imported";
  }
  Status Import(const std::vector<std::string>& paths, const AdapterOptions&, Importer& sink) override {
    ASSIGN_OR_RETURN(auto files, ExpandPaths(paths));
    auto rank = [](const std::string& f) {
      const std::string n = FileName(f);
      if (n.rfind("movies", 0) == 0) return 0;
      if (n.rfind("ratings", 0) == 0) return 1;
      return 2;
    };
    std::stable_sort(files.begin(), files.end(),
                     [&](const std::string& a, const std::string& b) { return rank(a) < rank(b); });
    for (const auto& f : files) {
      const std::string n = FileName(f);
      if (rank(f) == 0) {
        RETURN_IF_ERROR(Movies(f, sink));
      } else if (rank(f) == 1) {
        RETURN_IF_ERROR(Ratings(f, sink));
      } else if (n.rfind("tags", 0) == 0) {
        sink.Note("not imported: " + f + " (free-text user tags: not behavior events, and not catalog data)");
      } else if (n.rfind("links", 0) == 0) {
        sink.Note("not imported: " + f + " (IMDb/TMDb cross-reference ids)");
      } else {
        sink.Note("not imported: " + f + " (not a MovieLens movies/ratings file)");
      }
    }
    return OkStatus();
  }

 private:
  static Status Movies(const std::string& f, Importer& sink) {
    int c_id, c_title, c_genres;
    return ForEachCsvRecord(
        sink, f, CsvOptions{},
        [&](const CsvColumns& cols) -> Status {
          ASSIGN_OR_RETURN(c_id, RequireLoose(cols, "movieId"));
          ASSIGN_OR_RETURN(c_title, RequireLoose(cols, "title"));
          ASSIGN_OR_RETURN(c_genres, RequireLoose(cols, "genres"));
          return OkStatus();
        },
        [&](const CsvRecord& rec) -> Status {
          store::Item it;
          it.external_id = std::string(Trim(Field(rec, c_id)));
          it.title = std::string(Trim(Field(rec, c_title)));
          it.language = "en";
          json genres = json::array();
          std::string_view g = Trim(Field(rec, c_genres));
          if (g != "(no genres listed)") {
            for (size_t start = 0; start <= g.size();) {
              size_t bar = g.find('|', start);
              std::string_view one = Trim(g.substr(start, bar == std::string_view::npos ? std::string_view::npos : bar - start));
              if (!one.empty()) genres.push_back(std::string(one));
              if (bar == std::string_view::npos) break;
              start = bar + 1;
            }
          }
          if (!genres.empty()) it.category = genres[0].get<std::string>();
          it.attributes_json = Dump(json{{"genres", genres}});
          return sink.AddItem(std::move(it), store::ItemWriteMode::kCatalog, RefOf(rec));
        });
  }

  static Status Ratings(const std::string& f, Importer& sink) {
    int c_user, c_item, c_rating, c_ts;
    return ForEachCsvRecord(
        sink, f, CsvOptions{},
        [&](const CsvColumns& cols) -> Status {
          ASSIGN_OR_RETURN(c_user, RequireLoose(cols, "userId"));
          ASSIGN_OR_RETURN(c_item, RequireLoose(cols, "movieId"));
          ASSIGN_OR_RETURN(c_rating, RequireLoose(cols, "rating"));
          ASSIGN_OR_RETURN(c_ts, RequireLoose(cols, "timestamp"));
          return OkStatus();
        },
        [&](const CsvRecord& rec) -> Status {
          Status st;
          auto ts = EpochSecondsOrReject(sink, rec, "timestamp", Field(rec, c_ts), &st);
          if (!ts) return st;
          auto rating = ParseNumber(Field(rec, c_rating));
          if (!rating) return RejectNumber(sink, rec, "rating", Field(rec, c_rating));
          store::Event e;
          e.type = store::EventType::kRating;
          e.timestamp_ms = *ts;
          e.user_id = std::string(Trim(Field(rec, c_user)));
          e.item_id = std::string(Trim(Field(rec, c_item)));
          e.value = *rating;
          return sink.AddEvent(std::move(e), RefOf(rec));
        });
  }
};

// ---------------------------------------------------------------------------
// Ta Feng (next-basket format): {"user": [[item, ...], ...], ...}.
class TafengAdapter final : public Adapter {
 public:
  std::string_view Name() const override { return "tafeng"; }
  std::string_view Description() const override {
    return "Ta Feng next-basket JSON {user: [[items] per basket]} -> events (--event-type, default purchase); "
           "basket k at a synthetic day k, session = user-k";
  }
  Status Import(const std::vector<std::string>& paths, const AdapterOptions& options, Importer& sink) override {
    ASSIGN_OR_RETURN(store::EventType type, EventTypeOption(options, Name()));
    ASSIGN_OR_RETURN(auto files, ExpandPaths(paths));
    simdjson::dom::parser parser;
    for (const auto& f : files) {
      ASSIGN_OR_RETURN(std::string source, sink.OpenSource(f));
      simdjson::dom::element doc;
      if (auto err = parser.load(f).get(doc); err != simdjson::SUCCESS) {
        return InvalidArgumentError(fmt::format("{}: not a JSON document: {}", source, simdjson::error_message(err)));
      }
      simdjson::dom::object users;
      if (doc.get(users) != simdjson::SUCCESS) {
        return InvalidArgumentError(fmt::format("{}: expected a JSON object user -> [[items] per basket]", source));
      }
      for (auto user : users) {
        std::string raw_user = JsonQuote(user.key);
        const std::string user_id(user.key);
        simdjson::dom::array baskets;
        if (user.value.get(baskets) != simdjson::SUCCESS) {
          std::string raw = raw_user + ": " + ToJsonString(user.value);
          RecordRef ref;
          ref.raw = raw;
          RETURN_IF_ERROR(sink.Reject(ref, "invalid_json",
                                      fmt::format("user '{}': expected a list of baskets, got {}", Clip(user_id),
                                                  Clip(ToJsonString(user.value)))));
          continue;
        }
        int64_t k = 0;
        for (auto basket : baskets) {
          std::string raw = raw_user + "[" + std::to_string(k) + "]: " + ToJsonString(basket);
          RecordRef ref;
          ref.raw = raw;
          simdjson::dom::array items;
          if (basket.get(items) != simdjson::SUCCESS) {
            RETURN_IF_ERROR(sink.Reject(ref, "invalid_json",
                                        fmt::format("user '{}' basket {}: expected a list of item ids, got {}",
                                                    Clip(user_id), k, Clip(ToJsonString(basket)))));
            ++k;
            continue;
          }
          if (items.size() == 0) {
            RETURN_IF_ERROR(sink.Reject(ref, "missing_item",
                                        fmt::format("user '{}' basket {} is empty", Clip(user_id), k)));
          }
          const std::string session = user_id + "-" + std::to_string(k);
          for (auto item : items) {
            std::string item_id;
            int64_t i64;
            std::string_view s;
            if (item.get(i64) == simdjson::SUCCESS) item_id = std::to_string(i64);
            else if (item.get(s) == simdjson::SUCCESS) item_id = std::string(s);
            if (item_id.empty()) {
              RETURN_IF_ERROR(sink.Reject(ref, "invalid_id",
                                          fmt::format("user '{}' basket {}: item {} is not an integer or string id",
                                                      Clip(user_id), k, Clip(ToJsonString(item)))));
              continue;
            }
            store::Event e;
            e.type = type;
            e.user_id = user_id;
            e.session_id = session;
            e.item_id = std::move(item_id);
            e.timestamp_ms = kSyntheticEpochMs + k * kDayMs;
            RETURN_IF_ERROR(sink.AddEvent(std::move(e), ref));
          }
          ++k;
        }
      }
      std::error_code ec;
      sink.SetSourceProgress(std::filesystem::file_size(f, ec));
    }
    return OkStatus();
  }
};

// ---------------------------------------------------------------------------
// Chinese shopping reviews: cat,label,review -> ratings of one item per category.
class CnReviewsAdapter final : public Adapter {
 public:
  std::string_view Name() const override { return "cn-reviews"; }
  std::string_view Description() const override {
    return "Chinese reviews (cat,label,review) -> rating events (label 1 -> 5, 0 -> 1) on one item per category "
           "\"cn-reviews:<cat>\", review text in the context";
  }
  Status Import(const std::vector<std::string>& paths, const AdapterOptions&, Importer& sink) override {
    ASSIGN_OR_RETURN(auto files, ExpandPaths(paths));
    std::set<std::string> categories;  // items already added in this import
    for (const auto& f : files) {
      int c_cat, c_label, c_review;
      int64_t row = 0;
      RETURN_IF_ERROR(ForEachCsvRecord(
          sink, f, CsvOptions{},
          [&](const CsvColumns& cols) -> Status {
            ASSIGN_OR_RETURN(c_cat, cols.Require("cat"));
            ASSIGN_OR_RETURN(c_label, cols.Require("label"));
            ASSIGN_OR_RETURN(c_review, cols.Require("review"));
            return OkStatus();
          },
          [&](const CsvRecord& rec) -> Status {
            const int64_t ordinal = row++;  // counts every row, so times stay stable
            std::string_view cat = Trim(Field(rec, c_cat));
            std::string_view label = Trim(Field(rec, c_label));
            std::string_view review = Trim(Field(rec, c_review));
            if (cat.empty()) return sink.Reject(RefOf(rec), "missing_field", "required field 'cat' is empty");
            if (label != "0" && label != "1") {
              return sink.Reject(RefOf(rec), "invalid_rating",
                                 fmt::format("field 'label' = '{}' is not 0 (negative) or 1 (positive)", Clip(label)));
            }
            if (review.empty()) {
              return sink.Reject(RefOf(rec), "missing_field", "required field 'review' is empty");
            }
            const std::string item_id = "cn-reviews:" + std::string(cat);
            if (categories.insert(item_id).second) {
              store::Item it;
              it.external_id = item_id;
              it.title = std::string(cat);
              it.category = std::string(cat);
              it.language = "zh";
              RETURN_IF_ERROR(sink.AddItem(std::move(it), store::ItemWriteMode::kMerge, RefOf(rec)));
            }
            store::Event e;
            e.type = store::EventType::kRating;
            e.item_id = item_id;
            e.session_id = "cnr-" + std::to_string(rec.line);  // each review stands alone
            e.value = label == "1" ? 5.0 : 1.0;
            e.timestamp_ms = kSyntheticEpochMs + ordinal * kMinuteMs;
            e.context_json = "{\"review\":" + JsonQuote(review) + "}";
            return sink.AddEvent(std::move(e), RefOf(rec));
          }));
    }
    return OkStatus();
  }
};

// ---------------------------------------------------------------------------
// Search-query datasets: Multi-CPR (qid<TAB>query, no header) and WANDS query.csv.
class MultiCprAdapter final : public Adapter {
 public:
  std::string_view Name() const override { return "multi-cpr"; }
  std::string_view Description() const override {
    return "Multi-CPR queries (qid<TAB>query, no header) -> anonymous search events, session mcpr-<qid>";
  }
  Status Import(const std::vector<std::string>& paths, const AdapterOptions&, Importer& sink) override {
    ASSIGN_OR_RETURN(auto files, ExpandPaths(paths));
    for (const auto& f : files) {
      int64_t row = 0;
      RETURN_IF_ERROR(ForEachLine(sink, f, [&](std::string_view line, const RecordRef& ref) -> Status {
        const int64_t ordinal = row++;
        size_t tab = line.find('\t');
        if (tab == std::string_view::npos) {
          return sink.Reject(ref, "wrong_column_count", "expected `qid<TAB>query`, found no tab");
        }
        std::string_view qid = Trim(line.substr(0, tab));
        std::string_view query = Trim(line.substr(tab + 1));
        if (qid.empty()) return sink.Reject(ref, "missing_field", "required field 'qid' is empty");
        store::Event e;
        e.type = store::EventType::kSearch;
        e.session_id = "mcpr-" + std::string(qid);
        e.query = std::string(query);
        e.timestamp_ms = kSyntheticEpochMs + ordinal * kMinuteMs;
        return sink.AddEvent(std::move(e), ref);
      }));
    }
    return OkStatus();
  }
};

class WandsAdapter final : public Adapter {
 public:
  std::string_view Name() const override { return "wands"; }
  std::string_view Description() const override {
    return "WANDS query.csv (query_id, query, query_class; tab-separated) -> anonymous search events with the "
           "query class in the context; the enriched attribute file is not imported";
  }
  Status Import(const std::vector<std::string>& paths, const AdapterOptions&, Importer& sink) override {
    ASSIGN_OR_RETURN(auto files, ExpandPaths(paths));
    for (const auto& f : files) {
      if (Contains(FileName(f), "attributes")) {
        sink.Note("not imported: " + f + " (LLM-enriched query attributes: evaluation material, not events)");
        continue;
      }
      int c_id, c_query, c_class = -1;
      int64_t row = 0;
      CsvOptions o;
      o.delimiter = '\t';
      RETURN_IF_ERROR(ForEachCsvRecord(
          sink, f, o,
          [&](const CsvColumns& cols) -> Status {
            ASSIGN_OR_RETURN(c_id, cols.Require("query_id"));
            ASSIGN_OR_RETURN(c_query, cols.Require("query"));
            c_class = cols.Optional("query_class");
            return OkStatus();
          },
          [&](const CsvRecord& rec) -> Status {
            const int64_t ordinal = row++;
            std::string_view id = Trim(Field(rec, c_id));
            if (id.empty()) return sink.Reject(RefOf(rec), "missing_field", "required field 'query_id' is empty");
            store::Event e;
            e.type = store::EventType::kSearch;
            e.session_id = "wands-" + std::string(id);
            e.query = std::string(Trim(Field(rec, c_query)));
            e.timestamp_ms = kSyntheticEpochMs + ordinal * kMinuteMs;
            if (auto c = Trim(Field(rec, c_class)); !c.empty()) e.context_json = "{\"query_class\":" + JsonQuote(c) + "}";
            return sink.AddEvent(std::move(e), RefOf(rec));
          }));
    }
    return OkStatus();
  }
};

}  // namespace

void RegisterMoreDatasetAdapters(AdapterRegistry& r) {
  r.Register(std::make_unique<AmazonSeqAdapter>());
  r.Register(std::make_unique<AmazonUniSRecAdapter>());
  r.Register(std::make_unique<FlipkartAdapter>());
  r.Register(std::make_unique<DunnhumbyAdapter>());
  r.Register(std::make_unique<DigineticaAdapter>());
  r.Register(std::make_unique<YoochooseAdapter>());
  r.Register(std::make_unique<MovieLensAdapter>());
  r.Register(std::make_unique<TafengAdapter>());
  r.Register(std::make_unique<CnReviewsAdapter>());
  r.Register(std::make_unique<MultiCprAdapter>());
  r.Register(std::make_unique<WandsAdapter>());
}

}  // namespace souk::ingest
