#include "eval/rec_data.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <unordered_map>

#include "eval/splits.h"
#include "ingest/csv_reader.h"

namespace souk::eval {
namespace {

namespace fs = std::filesystem;
using recommend::EventType;
using recommend::Interaction;
using recommend::InteractionData;
using recommend::ItemInfo;

constexpr int64_t kDayMs = 86'400'000;

std::vector<std::string_view> SplitOn(std::string_view line, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t pos = line.find(sep, start);
    if (pos == std::string_view::npos) {
      out.push_back(line.substr(start));
      return out;
    }
    out.push_back(line.substr(start, pos - start));
    start = pos + 1;
  }
}

std::string_view StripCr(std::string_view s) {
  if (!s.empty() && s.back() == '\r') s.remove_suffix(1);
  return s;
}

bool ParseIndex(std::string_view token, int64_t* out) {
  if (token.empty()) return false;
  auto [ptr, ec] = std::from_chars(token.data(), token.data() + token.size(), *out);
  return ec == std::errc() && ptr == token.data() + token.size() && *out >= 0;
}

// "EXTERNAL<TAB>index" lines -> dense index -> external id.
StatusOr<std::vector<std::string>> ReadIndexFile(const fs::path& path) {
  std::ifstream in(path);
  if (!in) return NotFoundError(fmt::format("no such file: {}", path.string()));
  std::vector<std::string> ids;
  std::vector<uint8_t> seen;
  std::string line;
  int64_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    std::string_view text = StripCr(line);
    if (text.empty()) continue;
    auto fields = SplitOn(text, '\t');
    int64_t index = 0;
    if (fields.size() != 2 || !ParseIndex(fields[1], &index)) {
      return DataLossError(fmt::format("{}:{}: expected 'ID<TAB>index', got '{}'", path.string(),
                                       line_no, text.substr(0, 80)));
    }
    if (index >= 100'000'000) {
      return DataLossError(fmt::format("{}:{}: index {} is too large", path.string(), line_no,
                                       index));
    }
    if (static_cast<size_t>(index) >= ids.size()) {
      ids.resize(index + 1);
      seen.resize(index + 1, 0);
    }
    if (seen[index]) {
      return DataLossError(
          fmt::format("{}:{}: index {} appears twice", path.string(), line_no, index));
    }
    seen[index] = 1;
    ids[index] = std::string(fields[0]);
  }
  for (size_t i = 0; i < seen.size(); ++i) {
    if (!seen[i]) {
      return DataLossError(
          fmt::format("{}: index {} is missing (indices must be 0..n-1)", path.string(), i));
    }
  }
  return ids;
}

StatusOr<std::vector<UnisrecRow>> ReadInterFile(const fs::path& path, int32_t num_users,
                                                int32_t num_items) {
  std::ifstream in(path);
  if (!in) return NotFoundError(fmt::format("no such file: {}", path.string()));
  std::string line;
  if (!std::getline(in, line)) {
    return DataLossError(fmt::format("{}:1: empty file (expected a RecBole header)", path.string()));
  }
  int user_col = -1, list_col = -1, item_col = -1;
  auto header = SplitOn(StripCr(line), '\t');
  for (size_t c = 0; c < header.size(); ++c) {
    std::string_view name = header[c].substr(0, header[c].find(':'));
    if (name == "user_id") user_col = static_cast<int>(c);
    if (name == "item_id_list") list_col = static_cast<int>(c);
    if (name == "item_id") item_col = static_cast<int>(c);
  }
  if (user_col < 0 || list_col < 0 || item_col < 0) {
    return DataLossError(fmt::format(
        "{}:1: header must name user_id, item_id_list and item_id columns, got '{}'",
        path.string(), StripCr(line)));
  }
  auto parse_id = [&](std::string_view token, int32_t limit, std::string_view what,
                      int64_t line_no) -> StatusOr<int32_t> {
    int64_t v = 0;
    if (!ParseIndex(token, &v)) {
      return DataLossError(fmt::format("{}:{}: {} '{}' is not a non-negative integer",
                                       path.string(), line_no, what, token));
    }
    if (v >= limit) {
      return DataLossError(fmt::format("{}:{}: {} {} is outside the index file (0..{})",
                                       path.string(), line_no, what, v, limit - 1));
    }
    return static_cast<int32_t>(v);
  };
  std::vector<UnisrecRow> rows;
  int64_t line_no = 1;
  while (std::getline(in, line)) {
    ++line_no;
    std::string_view text = StripCr(line);
    if (text.empty()) continue;
    auto fields = SplitOn(text, '\t');
    if (fields.size() != header.size()) {
      return DataLossError(fmt::format("{}:{}: expected {} tab-separated columns, got {}",
                                       path.string(), line_no, header.size(), fields.size()));
    }
    UnisrecRow row;
    row.line = line_no;
    ASSIGN_OR_RETURN(row.user, parse_id(fields[user_col], num_users, "user id", line_no));
    ASSIGN_OR_RETURN(row.target, parse_id(fields[item_col], num_items, "item id", line_no));
    for (std::string_view token : SplitOn(fields[list_col], ' ')) {
      if (token.empty()) continue;
      ASSIGN_OR_RETURN(int32_t item, parse_id(token, num_items, "item id", line_no));
      row.history.push_back(item);
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace

StatusOr<UnisrecDataset> ReadUnisrecDir(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return NotFoundError(fmt::format("no such folder: {}", dir));
  std::vector<std::string> prefixes;
  constexpr std::string_view kTrainSuffix = ".train.inter";
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    if (name.size() > kTrainSuffix.size() && name.ends_with(kTrainSuffix)) {
      prefixes.push_back(name.substr(0, name.size() - kTrainSuffix.size()));
    }
  }
  if (prefixes.empty()) {
    return NotFoundError(fmt::format("{}: no *.train.inter file (UniSRec format expected)", dir));
  }
  if (prefixes.size() > 1) {
    std::sort(prefixes.begin(), prefixes.end());
    return InvalidArgumentError(fmt::format("{}: several datasets ({}); give a folder with one",
                                            dir, fmt::join(prefixes, ", ")));
  }
  UnisrecDataset data;
  data.name = prefixes[0];
  const fs::path base = fs::path(dir) / data.name;
  auto file = [&](std::string_view ext) { return fs::path(base.string() + std::string(ext)); };

  ASSIGN_OR_RETURN(data.item_tokens, ReadIndexFile(file(".item2index")));
  ASSIGN_OR_RETURN(data.user_tokens, ReadIndexFile(file(".user2index")));
  if (data.item_tokens.empty()) {
    return DataLossError(fmt::format("{}: no items", file(".item2index").string()));
  }

  // Item texts by external id.
  std::unordered_map<std::string, int32_t> item_of;
  for (int32_t i = 0; i < data.num_items(); ++i) item_of.emplace(data.item_tokens[i], i);
  data.item_texts.assign(data.item_tokens.size(), "");
  {
    const fs::path path = file(".text");
    std::ifstream in(path);
    if (!in) return NotFoundError(fmt::format("no such file: {}", path.string()));
    std::string line;
    int64_t line_no = 0;
    while (std::getline(in, line)) {
      ++line_no;
      std::string_view text = StripCr(line);
      if (line_no == 1 && text.starts_with("item_id")) continue;  // RecBole header
      if (text.empty()) continue;
      size_t tab = text.find('\t');
      if (tab == std::string_view::npos) {
        return DataLossError(
            fmt::format("{}:{}: expected 'item_id<TAB>text'", path.string(), line_no));
      }
      auto it = item_of.find(std::string(text.substr(0, tab)));
      if (it == item_of.end()) continue;  // text of an item outside the index: unused
      std::string body(text.substr(tab + 1));
      while (!body.empty() && body.back() == ' ') body.pop_back();
      data.item_texts[it->second] = std::move(body);
    }
  }
  data.items_without_text =
      std::count_if(data.item_texts.begin(), data.item_texts.end(),
                    [](const std::string& s) { return s.empty(); });

  ASSIGN_OR_RETURN(data.train, ReadInterFile(file(".train.inter"), data.num_users(),
                                             data.num_items()));
  ASSIGN_OR_RETURN(data.valid, ReadInterFile(file(".valid.inter"), data.num_users(),
                                             data.num_items()));
  ASSIGN_OR_RETURN(data.test, ReadInterFile(file(".test.inter"), data.num_users(),
                                            data.num_items()));
  return data;
}

std::vector<std::vector<int32_t>> UnisrecTrainSequences(const UnisrecDataset& data) {
  std::vector<std::vector<int32_t>> seqs(data.num_users());
  std::vector<int64_t> best(data.num_users(), -1);
  for (const UnisrecRow& row : data.train) {
    const int64_t len = static_cast<int64_t>(row.history.size());
    if (len <= best[row.user]) continue;
    best[row.user] = len;
    seqs[row.user] = row.history;
    seqs[row.user].push_back(row.target);
  }
  return seqs;
}

InteractionData UnisrecInteractions(const UnisrecDataset& data,
                                    std::span<const std::vector<int32_t>> sequences) {
  InteractionData out;
  for (int32_t i = 0; i < data.num_items(); ++i) {
    ItemInfo info;
    info.external_id = std::to_string(i);  // the .inter id (the cold hash is over this)
    info.title = data.item_texts[i];
    info.text = data.item_texts[i];
    out.AddItem(std::move(info));
  }
  for (int32_t u = 0; u < data.num_users(); ++u) out.AddUser(data.user_tokens[u]);
  for (size_t u = 0; u < sequences.size() && u < static_cast<size_t>(data.num_users()); ++u) {
    for (size_t p = 0; p < sequences[u].size(); ++p) {
      Interaction x;
      x.user = static_cast<int32_t>(u);
      x.item = sequences[u][p];
      x.type = EventType::kPurchase;
      x.timestamp_ms = static_cast<int64_t>(p) * kDayMs;
      out.Add(x).IgnoreError();  // ids were range-checked by the reader
    }
  }
  out.Finalize();
  return out;
}

// ---------------------------------------------------------------------------
// F

namespace {

bool ParseFloat(std::string_view s, float* out) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  if (s.empty()) return false;
  if (s.front() == '+') s.remove_prefix(1);
  double v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || !std::isfinite(v)) return false;
  *out = static_cast<float>(v);
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// "17850.0" -> "17850" (pandas wrote the ids as floats); other text unchanged.
std::string NormalizeCustomer(std::string_view s) {
  s = Trim(s);
  if (s.ends_with(".0")) {
    std::string_view head = s.substr(0, s.size() - 2);
    if (!head.empty() && std::all_of(head.begin(), head.end(),
                                     [](char c) { return c >= '0' && c <= '9'; })) {
      s = head;
    }
  }
  return std::string(s);
}

class Interner {
 public:
  explicit Interner(std::vector<std::string>* names) : names_(names) {}
  int32_t Get(std::string_view key, bool* created = nullptr) {
    auto it = index_.find(std::string(key));
    if (created) *created = it == index_.end();
    if (it != index_.end()) return it->second;
    int32_t id = static_cast<int32_t>(names_->size());
    names_->emplace_back(key);
    index_.emplace(std::string(key), id);
    return id;
  }

 private:
  std::vector<std::string>* names_;
  std::unordered_map<std::string, int32_t> index_;
};

}  // namespace

StatusOr<RetailLog> ReadOnlineRetail(std::span<const std::string> paths,
                                     const ProgressOptions& progress) {
  if (paths.empty()) return InvalidArgumentError("--data is required for protocol online-retail");
  RetailLog log;
  Interner customers(&log.customer_ids), items(&log.item_codes), invoices(&log.invoice_ids);
  auto malformed = [&](const std::string& path, uint64_t line, std::string_view detail) {
    ++log.malformed_rows;
    if (log.malformed_examples.size() < 10) {
      log.malformed_examples.push_back(fmt::format("{}:{}: {}", path, line, detail));
    }
  };
  for (const std::string& path : paths) {
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) {
      return NotFoundError(fmt::format("--data: no such file: {}", path));
    }
    ingest::CsvOptions csv;
    csv.validate_utf8 = false;  // descriptions are only used as item titles
    ASSIGN_OR_RETURN(auto reader, ingest::CsvReader::Open(path, csv));
    const char* kColumns[] = {"InvoiceNo", "StockCode", "Description", "Quantity",
                              "InvoiceDate", "UnitPrice", "CustomerID", "Country"};
    int col[8];
    for (int c = 0; c < 8; ++c) {
      col[c] = reader->Column(kColumns[c]);
      if (col[c] < 0) {
        return InvalidArgumentError(fmt::format("{}: missing column {} (header: {})", path,
                                                kColumns[c], fmt::join(reader->header(), ",")));
      }
    }
    Progress bar(fmt::format("read {}", fs::path(path).filename().string()),
                 reader->total_bytes(), [&] {
                   ProgressOptions p = progress;
                   p.bytes = true;
                   return p;
                 }());
    ingest::CsvRecord rec;
    uint64_t last_bytes = 0;
    while (reader->Next(&rec)) {
      ++log.rows;
      if ((log.rows & 0xFFF) == 0) {
        bar.Add(reader->bytes_read() - last_bytes);
        last_bytes = reader->bytes_read();
      }
      if (rec.error != ingest::RecordError::kNone) {
        malformed(path, rec.line, rec.error_detail);
        continue;
      }
      std::string_view invoice = Trim(rec.fields[col[0]]);
      std::string_view code = Trim(rec.fields[col[1]]);
      std::string_view customer = Trim(rec.fields[col[6]]);
      float quantity = 0, price = 0;
      if (invoice.empty() || code.empty()) {
        malformed(path, rec.line, "empty InvoiceNo or StockCode");
        continue;
      }
      if (!ParseFloat(rec.fields[col[3]], &quantity)) {
        malformed(path, rec.line, fmt::format("Quantity '{}' is not a number", rec.fields[col[3]]));
        continue;
      }
      auto time = ParseDateTime(Trim(rec.fields[col[4]]));
      if (!time.ok()) {
        malformed(path, rec.line, time.status().message());
        continue;
      }
      if (!ParseFloat(rec.fields[col[5]], &price)) {
        malformed(path, rec.line,
                  fmt::format("UnitPrice '{}' is not a number", rec.fields[col[5]]));
        continue;
      }
      if (customer.empty()) {
        ++log.rows_without_customer;
        continue;
      }
      if (quantity <= 0 || invoice.front() == 'C' || invoice.front() == 'c') {
        ++log.rows_not_purchase;
        continue;
      }
      RetailPurchase p;
      bool new_customer = false, new_item = false;
      p.customer = customers.Get(NormalizeCustomer(customer), &new_customer);
      if (new_customer) log.customer_countries.emplace_back(Trim(rec.fields[col[7]]));
      p.item = items.Get(code, &new_item);
      if (new_item) log.item_descriptions.emplace_back();
      std::string& description = log.item_descriptions[p.item];
      if (description.empty()) description = std::string(Trim(rec.fields[col[2]]));
      p.invoice = invoices.Get(invoice);
      p.time_s = *time;
      p.quantity = quantity;
      p.unit_price = price;
      log.purchases.push_back(p);
    }
    RETURN_IF_ERROR(reader->status().WithContext(path));
    bar.Finish();
  }
  if (log.purchases.empty()) {
    return InvalidArgumentError(fmt::format(
        "--data: no usable purchase rows in {} ({} rows: {} malformed, {} without CustomerID, {} "
        "returns/cancellations){}",
        fmt::join(paths, ", "), log.rows, log.malformed_rows, log.rows_without_customer,
        log.rows_not_purchase,
        log.malformed_examples.empty() ? std::string()
                                       : "; first malformed row: " + log.malformed_examples[0]));
  }
  std::stable_sort(log.purchases.begin(), log.purchases.end(),
                   [](const RetailPurchase& a, const RetailPurchase& b) {
                     return a.time_s < b.time_s;
                   });
  return log;
}

InteractionData RetailInteractions(const RetailLog& log, int64_t before_s) {
  InteractionData out;
  for (size_t i = 0; i < log.item_codes.size(); ++i) {
    ItemInfo info;
    info.external_id = log.item_codes[i];
    info.title = log.item_descriptions[i];
    out.AddItem(std::move(info));
  }
  for (const std::string& c : log.customer_ids) out.AddUser(c);
  for (const RetailPurchase& p : log.purchases) {
    if (p.time_s >= before_s) break;  // purchases are in time order
    Interaction x;
    x.user = p.customer;
    x.item = p.item;
    x.type = EventType::kPurchase;
    x.timestamp_ms = p.time_s * 1000;
    x.session = out.SessionIndex(log.invoice_ids[p.invoice]);
    x.quantity = p.quantity;
    out.Add(x).IgnoreError();  // ids come from the log itself
  }
  out.Finalize();
  return out;
}

}  // namespace souk::eval
