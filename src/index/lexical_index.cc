#include "index/lexical_index.h"

#include <sys/stat.h>
#include <xapian.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <mutex>
#include <set>
#include <system_error>
#include <unordered_map>
#include <unordered_set>

#include "common/utf8.h"
#include "text/utf8.h"

namespace souk::index {
namespace {

// Term prefixes of the text fields (Field order) and of the boolean filter terms.
constexpr const char* kFieldPrefix[kNumFields] = {"S", "B", "K", "D", "A"};
constexpr std::string_view kBrandTerm = "XB";     // + folded brand
constexpr std::string_view kCategoryTerm = "XK";  // + folded category level
constexpr std::string_view kAttributeTerm = "XA"; // + folded key "=" folded value
constexpr std::string_view kInStockTerm = "XS1";
constexpr std::string_view kOutOfStockTerm = "XS0";

// Value slots.
constexpr Xapian::valueno kSlotPrice = 0;       // sortable_serialise(price)
constexpr Xapian::valueno kSlotPopularity = 1;  // sortable_serialise(popularity)
constexpr Xapian::valueno kSlotBrand = 2;       // original brand
constexpr Xapian::valueno kSlotCategories = 3;  // EncodeList(original path levels)
constexpr Xapian::valueno kSlotInStock = 4;     // "1" / "0"
constexpr Xapian::valueno kSlotAttributes = 5;  // EncodeList(folded key, original value, ...)
constexpr Xapian::valueno kSlotNumericBase = 16;  // + index in numeric_attributes

constexpr size_t kMaxLimit = 10000;
constexpr size_t kMaxOffset = 1000000;
constexpr size_t kMaxBooleanTermBytes = 200;  // Xapian glass terms must stay under 245 bytes
constexpr Xapian::termpos kFieldPartGap = 100;  // position gap between category levels / values

constexpr char kMetaFormat[] = "souk:format";
constexpr char kFormatName[] = "souk-lexical-1";
constexpr char kMetaStem[] = "souk:stem_language";
constexpr char kMetaNumeric[] = "souk:numeric_attributes";
constexpr char kMetaAttributeKeys[] = "souk:attribute_keys";

constexpr double kPriceEdges[] = {0, 10, 25, 50, 100, 250, 500, 1000};
constexpr const char* kPriceLabels[] = {"0-10",    "10-25",    "25-50",     "50-100",
                                        "100-250", "250-500", "500-1000", "1000+"};

Status FromXapian(const Xapian::Error& e, std::string_view what) {
  std::string msg = std::string(what) + ": " + e.get_description();
  // Xapian::Error is not polymorphic: classify by its type name.
  const std::string_view type = e.get_type();
  if (type == "DatabaseLockError" || type == "DatabaseModifiedError" ||
      type == "DatabaseOpeningError" || type == "DatabaseNotFoundError") {
    return UnavailableError(msg);
  }
  if (type == "DatabaseCorruptError" || type == "DatabaseVersionError") return DataLossError(msg);
  if (type == "DocNotFoundError") return NotFoundError(msg);
  if (type == "InvalidArgumentError") return InvalidArgumentError(msg);
  return InternalError(msg);
}

// Length-prefixed list of strings stored in one value slot.
std::string EncodeList(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) {
    uint32_t n = static_cast<uint32_t>(s.size());
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
    out += s;
  }
  return out;
}
template <typename Fn>
void ForEachListItem(const std::string& encoded, Fn&& fn) {
  size_t pos = 0;
  while (pos + 4 <= encoded.size()) {
    uint32_t n = 0;
    for (int i = 0; i < 4; ++i) n |= uint32_t(static_cast<unsigned char>(encoded[pos + i])) << (8 * i);
    pos += 4;
    if (pos + n > encoded.size()) return;  // truncated: ignore the rest
    fn(std::string_view(encoded).substr(pos, n));
    pos += n;
  }
}

uint64_t Fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) { h ^= c; h *= 1099511628211ull; }
  return h;
}

// prefix + value, with over-long values cut at a character boundary and made
// unique by a hash of the full value.
std::string BooleanTerm(std::string_view prefix, std::string_view folded) {
  std::string term(prefix);
  if (folded.size() <= kMaxBooleanTermBytes) {
    term += folded;
    return term;
  }
  term += Utf8Prefix(folded, kMaxBooleanTermBytes);
  char hex[20];
  std::snprintf(hex, sizeof(hex), "#%016llx", static_cast<unsigned long long>(Fnv1a(folded)));
  term += hex;
  return term;
}

// Analyzed terms never start with an ASCII capital (case folding), which keeps
// unprefixed terms apart from the prefixed ones; anything else is not indexed.
bool Indexable(std::string_view term) {
  return !term.empty() && !(term[0] >= 'A' && term[0] <= 'Z') && term.size() < 200;
}

// Words for the spelling dictionary: no digits, no CJK, at least 3 bytes.
bool SpellingEligible(std::string_view term) {
  if (term.size() < 3 || !Indexable(term)) return false;
  for (unsigned char c : term) {
    if (c >= '0' && c <= '9') return false;
  }
  for (const text::CodePoint& cp : text::DecodeUtf8(term)) {
    if (cp.cp >= 0x2E80) return false;  // CJK, Hangul and beyond: edit distance is meaningless
  }
  return true;
}

size_t CodePointCount(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string JoinTerms(const std::vector<std::string>& terms) {
  std::string out;
  for (const std::string& t : terms) {
    if (!out.empty()) out.push_back(' ');
    out += t;
  }
  return out;
}

std::string PriceBucket(double price) {
  int i = 0;
  for (int b = 0; b < static_cast<int>(std::size(kPriceEdges)); ++b) {
    if (price >= kPriceEdges[b]) i = b;
  }
  return kPriceLabels[i];
}

// Counts facet values over every matching document (the match is exhaustive).
class FacetSpy : public Xapian::MatchSpy {
 public:
  enum class Kind { kBrand, kCategory, kPrice, kInStock, kAttribute };
  struct Request {
    std::string name;
    Kind kind;
    std::string folded_key;  // kAttribute
    std::unordered_map<std::string, uint64_t> counts;  // by original value
  };

  explicit FacetSpy(std::vector<Request> requests) : requests_(std::move(requests)) {}

  void operator()(const Xapian::Document& doc, double) override {
    for (Request& r : requests_) {
      switch (r.kind) {
        case Kind::kBrand: {
          std::string v = doc.get_value(kSlotBrand);
          if (!v.empty()) ++r.counts[v];
          break;
        }
        case Kind::kCategory: {
          seen_.clear();
          ForEachListItem(doc.get_value(kSlotCategories), [&](std::string_view level) {
            if (seen_.insert(std::string(level)).second) ++r.counts[std::string(level)];
          });
          break;
        }
        case Kind::kPrice: {
          std::string v = doc.get_value(kSlotPrice);
          if (!v.empty()) ++r.counts[PriceBucket(Xapian::sortable_unserialise(v))];
          break;
        }
        case Kind::kInStock: {
          std::string v = doc.get_value(kSlotInStock);
          if (!v.empty()) ++r.counts[v == "1" ? "true" : "false"];
          break;
        }
        case Kind::kAttribute: {
          seen_.clear();
          bool is_key = true, match = false;
          ForEachListItem(doc.get_value(kSlotAttributes), [&](std::string_view item) {
            if (is_key) {
              match = item == r.folded_key;
            } else if (match && seen_.insert(std::string(item)).second) {
              ++r.counts[std::string(item)];
            }
            is_key = !is_key;
          });
          break;
        }
      }
    }
  }

  std::vector<Request>& requests() { return requests_; }
  void ClearCounts() {
    for (Request& r : requests_) r.counts.clear();
  }

 private:
  std::vector<Request> requests_;
  std::unordered_set<std::string> seen_;
};

}  // namespace

std::string_view FieldName(Field f) {
  switch (f) {
    case Field::kTitle: return "title";
    case Field::kBrand: return "brand";
    case Field::kCategory: return "category";
    case Field::kDescription: return "description";
    case Field::kAttributes: return "attributes";
  }
  return "unknown";
}

bool Filter::Empty() const {
  return brands.empty() && categories.empty() && !price_min && !price_max && !in_stock &&
         attributes.empty() && numeric.empty();
}

namespace {

// A read-only handle on the database, used by one call at a time.
struct ReaderHandle {
  Xapian::Database db;
  uint64_t generation = 0;  // LexicalIndex::Impl::generation when db was last (re)opened
};

// Reads retried after Xapian::DatabaseModifiedError (the writer committed past
// the revision a handle was reading), each after reopening at the newest one.
constexpr int kMaxReadRetries = 10;

}  // namespace

// Writes go to one WritableDatabase under write_mu. Reads take a read-only
// handle from a pool (one handle per concurrent reader, opened lazily), so they
// run in parallel with each other and with a writer. Every commit bumps
// `generation`; a handle older than that is reopened when it is taken, so a
// read sees the last commit.
struct LexicalIndex::Impl {
  // --- writer side ---
  mutable std::mutex write_mu;
  Xapian::WritableDatabase db;     // GUARDED_BY(write_mu)
  std::string path;                // the database directory (immutable after Open)
  // Identity of `path` at Open. Reader handles are opened by path, so when the
  // directory was replaced underneath (an index rebuilt and swapped in by
  // another process) they would read another database: from then on reads go
  // to the writer's handle, which keeps the original files open.
  dev_t dir_device = 0;
  ino_t dir_inode = 0;
  mutable std::atomic<bool> path_replaced{false};
  std::filesystem::path temp_dir;  // non-empty when the database is private and temporary
  std::unordered_map<std::string, Xapian::valueno> numeric_slot;  // folded key -> slot; immutable
  // Folded attribute keys seen. Written under write_mu and keys_mu; writers
  // read it under write_mu, searches under keys_mu.
  mutable std::mutex keys_mu;
  std::set<std::string> attribute_keys;
  const text::Analyzer* analyzer = nullptr;
  const LexicalIndexOptions* options = nullptr;

  // --- reader side ---
  std::atomic<uint64_t> generation{0};  // number of commits since Open
  mutable std::mutex pool_mu;
  mutable std::vector<std::unique_ptr<ReaderHandle>> idle_readers;  // GUARDED_BY(pool_mu)

  // Commits the writer and tells readers to reopen. Requires write_mu.
  void CommitLocked() {
    db.commit();
    generation.fetch_add(1, std::memory_order_release);
  }
  // False once `path` no longer names the directory opened by Open.
  bool PathStillOurs() const;
  // An idle pooled handle (any generation), or null when none is idle.
  std::unique_ptr<ReaderHandle> TakeIdleReader() const;
  // Back to the pool, or closed when max_idle_readers are already idle.
  void ReturnReader(std::unique_ptr<ReaderHandle> handle) const;
  // Runs fn(const Xapian::Database&) on a pooled handle brought to the current
  // generation, retrying on DatabaseModifiedError (fn may run more than once:
  // it must reset what it fills); every other Xapian::Error propagates. Each
  // run of fn sees one revision.
  template <typename Fn>
  auto Read(Fn&& fn) const -> decltype(fn(std::declval<const Xapian::Database&>()));

  std::string Fold(std::string_view s) const { return analyzer->normalizer().Normalize(s); }

  Status Validate(const IndexDoc& d) const;
  Xapian::Document Build(const IndexDoc& d, std::vector<std::string>* spelling,
                         std::vector<std::string>* new_keys) const;
  // Spelling additions of a batch, applied once per distinct word.
  using SpellingCounts = std::unordered_map<std::string, uint32_t>;
  bool Exists(Xapian::docid id) const;
  void FlushSpelling(SpellingCounts* pending);
  void RemoveSpellingOf(Xapian::docid id);
  Status UpsertLocked(const IndexDoc& d, SpellingCounts* pending = nullptr);
  Status ValidateQuery(const LexicalQuery& q) const;
  Xapian::Query TermQuery(const std::string& term, bool wildcard) const;
  Xapian::Query FilterQuery(const Filter& f) const;
};

std::unique_ptr<ReaderHandle> LexicalIndex::Impl::TakeIdleReader() const {
  std::lock_guard<std::mutex> lock(pool_mu);
  if (idle_readers.empty()) return nullptr;
  std::unique_ptr<ReaderHandle> handle = std::move(idle_readers.back());
  idle_readers.pop_back();
  return handle;
}

void LexicalIndex::Impl::ReturnReader(std::unique_ptr<ReaderHandle> handle) const {
  std::lock_guard<std::mutex> lock(pool_mu);
  if (idle_readers.size() < options->max_idle_readers) idle_readers.push_back(std::move(handle));
}

bool LexicalIndex::Impl::PathStillOurs() const {
  if (path_replaced.load(std::memory_order_relaxed)) return false;
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && st.st_dev == dir_device && st.st_ino == dir_inode) {
    return true;
  }
  path_replaced.store(true, std::memory_order_relaxed);
  return false;
}

template <typename Fn>
auto LexicalIndex::Impl::Read(Fn&& fn) const
    -> decltype(fn(std::declval<const Xapian::Database&>())) {
  if (path_replaced.load(std::memory_order_relaxed)) {
    std::lock_guard<std::mutex> lock(write_mu);
    return fn(static_cast<const Xapian::Database&>(db));
  }
  struct Lease {
    const Impl* impl;
    std::unique_ptr<ReaderHandle> handle;
    ~Lease() {
      if (handle != nullptr) impl->ReturnReader(std::move(handle));
    }
  } lease{this, TakeIdleReader()};
  for (int attempt = 0;; ++attempt) {
    try {
      // Read the generation before (re)opening: a commit racing with the
      // reopen leaves the handle marked older than what it sees, so it is
      // merely reopened once more next time.
      const uint64_t current = generation.load(std::memory_order_acquire);
      const bool open = lease.handle == nullptr;
      if ((open || attempt > 0 || lease.handle->generation != current) && !PathStillOurs()) {
        lease.handle.reset();  // it may hold the other database's files
        std::lock_guard<std::mutex> lock(write_mu);
        return fn(static_cast<const Xapian::Database&>(db));
      }
      if (open) {
        auto handle = std::make_unique<ReaderHandle>();
        handle->db = Xapian::Database(path, Xapian::DB_BACKEND_GLASS);
        handle->generation = current;
        lease.handle = std::move(handle);
      } else if (attempt > 0 || lease.handle->generation != current) {
        lease.handle->db.reopen();
        lease.handle->generation = current;
      }
      return fn(static_cast<const Xapian::Database&>(lease.handle->db));
    } catch (const Xapian::DatabaseModifiedError&) {
      // The writer committed past the revision being read (or being opened).
      if (attempt >= kMaxReadRetries) throw;
    }
  }
}

namespace {

Status CheckFinite(double v, std::string_view what) {
  if (!std::isfinite(v)) return InvalidArgumentError(std::string(what) + " is not a finite number");
  return OkStatus();
}

}  // namespace

Status LexicalIndex::Impl::Validate(const IndexDoc& d) const {
  const std::string where = "doc " + std::to_string(d.doc);
  if (d.doc == std::numeric_limits<uint32_t>::max()) {
    return InvalidArgumentError(where + ": doc number 4294967295 is reserved");
  }
  if (d.price) {
    RETURN_IF_ERROR(CheckFinite(*d.price, where + ": price"));
    if (*d.price < 0) return InvalidArgumentError(where + ": negative price " + std::to_string(*d.price));
  }
  RETURN_IF_ERROR(CheckFinite(d.popularity, where + ": popularity"));
  for (const auto& [key, value] : d.numeric) {
    if (!numeric_slot.count(Fold(key))) {
      return InvalidArgumentError(where + ": numeric attribute '" + key +
                                  "' is not declared in LexicalIndexOptions::numeric_attributes");
    }
    RETURN_IF_ERROR(CheckFinite(value, where + ": numeric attribute '" + key + "'"));
  }
  return OkStatus();
}

Xapian::Document LexicalIndex::Impl::Build(const IndexDoc& d, std::vector<std::string>* spelling,
                                           std::vector<std::string>* new_keys) const {
  Xapian::Document doc;
  doc.set_data(d.external_id);
  auto add_text = [&](Field f, std::string_view text, Xapian::termpos* pos) {
    const std::string prefix = kFieldPrefix[static_cast<int>(f)];
    for (std::string& t : analyzer->Terms(text)) {
      if (!Indexable(t)) continue;
      doc.add_posting(prefix + t, ++*pos);
      doc.add_term(t, 0);
      if ((f == Field::kTitle || f == Field::kBrand) && SpellingEligible(t)) spelling->push_back(t);
    }
  };
  Xapian::termpos pos = 0;
  add_text(Field::kTitle, d.title, &pos);
  pos = 0;
  add_text(Field::kBrand, d.brand, &pos);
  pos = 0;
  std::vector<std::string> levels;
  for (const std::string& level : d.category_path) {
    add_text(Field::kCategory, level, &pos);
    pos += kFieldPartGap;
    std::string folded = Fold(level);
    if (folded.empty()) continue;
    doc.add_boolean_term(BooleanTerm(kCategoryTerm, folded));
    levels.push_back(level);
  }
  pos = 0;
  add_text(Field::kDescription, d.description, &pos);
  pos = 0;
  std::vector<std::string> attrs;
  for (const auto& [key, value] : d.attributes) {
    add_text(Field::kAttributes, value, &pos);
    pos += kFieldPartGap;
    std::string fk = Fold(key), fv = Fold(value);
    if (fk.empty() || fv.empty()) continue;
    doc.add_boolean_term(BooleanTerm(kAttributeTerm, fk + "=" + fv));
    if (!attribute_keys.count(fk)) new_keys->push_back(fk);
    attrs.push_back(fk);
    attrs.push_back(value);
  }

  std::string brand = Fold(d.brand);
  if (!brand.empty()) {
    doc.add_boolean_term(BooleanTerm(kBrandTerm, brand));
    doc.add_value(kSlotBrand, d.brand);
  }
  if (!levels.empty()) doc.add_value(kSlotCategories, EncodeList(levels));
  if (!attrs.empty()) doc.add_value(kSlotAttributes, EncodeList(attrs));
  if (d.in_stock) {
    doc.add_boolean_term(std::string(*d.in_stock ? kInStockTerm : kOutOfStockTerm));
    doc.add_value(kSlotInStock, *d.in_stock ? "1" : "0");
  }
  if (d.price) doc.add_value(kSlotPrice, Xapian::sortable_serialise(*d.price));
  doc.add_value(kSlotPopularity, Xapian::sortable_serialise(d.popularity));
  for (const auto& [key, value] : d.numeric) {
    doc.add_value(numeric_slot.at(Fold(key)), Xapian::sortable_serialise(value));
  }
  return doc;
}

bool LexicalIndex::Impl::Exists(Xapian::docid id) const {
  if (id > db.get_lastdocid()) return false;
  try {
    (void)db.get_doclength(id);
    return true;
  } catch (const Xapian::DocNotFoundError&) {
    return false;
  }
}

void LexicalIndex::Impl::FlushSpelling(SpellingCounts* pending) {
  if (pending == nullptr) return;
  for (const auto& [word, count] : *pending) db.add_spelling(word, count);
  pending->clear();
}

void LexicalIndex::Impl::RemoveSpellingOf(Xapian::docid id) {
  Xapian::TermIterator end = db.termlist_end(id);
  for (int f : {static_cast<int>(Field::kTitle), static_cast<int>(Field::kBrand)}) {
    const char prefix = kFieldPrefix[f][0];
    Xapian::TermIterator t = db.termlist_begin(id);
    t.skip_to(std::string(1, prefix));
    for (; t != end; ++t) {
      const std::string term = *t;
      if (term.empty() || term[0] != prefix) break;
      std::string word = term.substr(1);
      if (SpellingEligible(word)) db.remove_spelling(word, t.get_wdf());
    }
  }
}

Status LexicalIndex::Impl::UpsertLocked(const IndexDoc& d, SpellingCounts* pending) {
  std::vector<std::string> spelling, new_keys;
  Xapian::Document doc = Build(d, &spelling, &new_keys);
  const Xapian::docid id = d.doc + 1;
  if (Exists(id)) {
    FlushSpelling(pending);  // removals must see every earlier addition
    RemoveSpellingOf(id);
  }
  db.replace_document(id, doc);
  if (pending != nullptr) {
    for (std::string& w : spelling) ++(*pending)[std::move(w)];
  } else {
    for (const std::string& w : spelling) db.add_spelling(w, 1);
  }
  if (!new_keys.empty()) {
    std::vector<std::string> keys;
    {
      std::lock_guard<std::mutex> lock(keys_mu);
      for (std::string& k : new_keys) attribute_keys.insert(std::move(k));
      keys.assign(attribute_keys.begin(), attribute_keys.end());
    }
    db.set_metadata(kMetaAttributeKeys, EncodeList(keys));
  }
  return OkStatus();
}

LexicalIndex::LexicalIndex(LexicalIndexOptions o, std::unique_ptr<text::Analyzer> analyzer,
                           std::unique_ptr<Impl> impl)
    : options_(std::move(o)), analyzer_(std::move(analyzer)), impl_(std::move(impl)) {
  impl_->analyzer = analyzer_.get();
  impl_->options = &options_;
}

LexicalIndex::~LexicalIndex() {
  if (!impl_) return;
  impl_->idle_readers.clear();  // no call is running: every handle is idle
  try {
    if (impl_->temp_dir.empty()) impl_->db.commit();
    impl_->db.close();
  } catch (const Xapian::Error&) {
    // Best effort: the caller had Commit() to learn about errors.
  }
  if (!impl_->temp_dir.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(impl_->temp_dir, ec);
  }
}

StatusOr<std::unique_ptr<LexicalIndex>> LexicalIndex::Open(const std::string& dir,
                                                           LexicalIndexOptions o) {
  for (int f = 0; f < kNumFields; ++f) {
    if (!std::isfinite(o.field_weight[f]) || o.field_weight[f] < 0) {
      return InvalidArgumentError("LexicalIndexOptions::field_weight[" +
                                  std::string(FieldName(static_cast<Field>(f))) +
                                  "] must be a finite number >= 0");
    }
  }
  if (!std::isfinite(o.bm25_k1) || o.bm25_k1 < 0) {
    return InvalidArgumentError("LexicalIndexOptions::bm25_k1 must be >= 0");
  }
  if (!std::isfinite(o.bm25_b) || o.bm25_b < 0 || o.bm25_b > 1) {
    return InvalidArgumentError("LexicalIndexOptions::bm25_b must be in [0, 1]");
  }
  if (o.commit_every == 0) return InvalidArgumentError("LexicalIndexOptions::commit_every must be > 0");

  text::Analyzer::Options ao;
  ao.stem_language = o.stem_language;
  ASSIGN_OR_RETURN(std::unique_ptr<text::Analyzer> analyzer, text::Analyzer::Create(ao));

  auto impl = std::make_unique<Impl>();
  impl->analyzer = analyzer.get();
  std::vector<std::string> numeric_folded;
  for (size_t i = 0; i < o.numeric_attributes.size(); ++i) {
    std::string k = analyzer->normalizer().Normalize(o.numeric_attributes[i]);
    if (k.empty()) return InvalidArgumentError("numeric_attributes[" + std::to_string(i) + "] is empty");
    if (!impl->numeric_slot.emplace(k, kSlotNumericBase + static_cast<Xapian::valueno>(i)).second) {
      return InvalidArgumentError("numeric_attributes has '" + o.numeric_attributes[i] + "' twice");
    }
    numeric_folded.push_back(k);
  }
  const std::string numeric_meta = EncodeList(numeric_folded);

  std::string path = dir;
  if (path.empty()) {
    std::error_code ec;
    std::filesystem::path base = std::filesystem::temp_directory_path(ec);
    if (ec) base = "/tmp";
    std::string tmpl = (base / "souk-lexical-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr) {
      return UnavailableError("cannot create a temporary directory under " + base.string() +
                              ": " + std::strerror(errno));
    }
    impl->temp_dir = tmpl;
    path = tmpl;
  } else {
    std::error_code ec;
    std::filesystem::create_directories(path, ec);
    if (ec) return UnavailableError("cannot create index directory " + path + ": " + ec.message());
  }

  // Removes the temporary directory when Open fails after creating it.
  struct TempDirGuard {
    Impl* impl;
    ~TempDirGuard() {
      if (impl != nullptr && !impl->temp_dir.empty()) {
        std::error_code ec;
        std::filesystem::remove_all(impl->temp_dir, ec);
      }
    }
  } guard{impl.get()};
  try {
    // A private temporary database needs no fsync: it dies with the process.
    const int flags = Xapian::DB_CREATE_OR_OPEN | Xapian::DB_BACKEND_GLASS |
                      (impl->temp_dir.empty() ? 0 : Xapian::DB_NO_SYNC);
    impl->db = Xapian::WritableDatabase(path, flags);
    const std::string format = impl->db.get_metadata(kMetaFormat);
    const bool fresh = impl->db.get_doccount() == 0;
    if (!format.empty() && format != kFormatName) {
      return FailedPreconditionError("index " + path + " has format '" + format + "', expected '" +
                                     kFormatName + "'");
    }
    const std::string stem = impl->db.get_metadata(kMetaStem);
    if (!fresh && !stem.empty() && stem != o.stem_language) {
      return FailedPreconditionError("index " + path + " was built with stem_language '" + stem +
                                     "', options ask for '" + o.stem_language + "'");
    }
    const std::string stored_numeric = impl->db.get_metadata(kMetaNumeric);
    if (!fresh && !format.empty() && stored_numeric != numeric_meta) {
      std::string stored;
      ForEachListItem(stored_numeric, [&](std::string_view k) {
        stored += (stored.empty() ? "" : ",") + std::string(k);
      });
      return FailedPreconditionError("index " + path + " was built with numeric_attributes [" +
                                     stored + "], options differ (reindex to change them)");
    }
    ForEachListItem(impl->db.get_metadata(kMetaAttributeKeys),
                    [&](std::string_view k) { impl->attribute_keys.emplace(k); });
    impl->db.set_metadata(kMetaFormat, kFormatName);
    impl->db.set_metadata(kMetaStem, o.stem_language);
    impl->db.set_metadata(kMetaNumeric, numeric_meta);
    impl->db.commit();
  } catch (const Xapian::Error& e) {
    return FromXapian(e, "opening lexical index " + path);
  }
  impl->path = path;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return UnavailableError("cannot stat index directory " + path + ": " + std::strerror(errno));
  }
  impl->dir_device = st.st_dev;
  impl->dir_inode = st.st_ino;
  guard.impl = nullptr;  // the index owns the directory now
  return std::unique_ptr<LexicalIndex>(
      new LexicalIndex(std::move(o), std::move(analyzer), std::move(impl)));
}

const text::Analyzer& LexicalIndex::analyzer() const { return *analyzer_; }

Status LexicalIndex::Upsert(const IndexDoc& doc) {
  std::lock_guard<std::mutex> lock(impl_->write_mu);
  RETURN_IF_ERROR(impl_->Validate(doc));
  try {
    return impl_->UpsertLocked(doc);
  } catch (const Xapian::Error& e) {
    return FromXapian(e, "indexing doc " + std::to_string(doc.doc));
  }
}

Status LexicalIndex::Delete(uint32_t doc) {
  std::lock_guard<std::mutex> lock(impl_->write_mu);
  if (doc == std::numeric_limits<uint32_t>::max()) return NotFoundError("doc 4294967295 is not indexed");
  try {
    const Xapian::docid id = doc + 1;
    if (!impl_->Exists(id)) return NotFoundError("doc " + std::to_string(doc) + " is not indexed");
    impl_->RemoveSpellingOf(id);
    impl_->db.delete_document(id);
    return OkStatus();
  } catch (const Xapian::DocNotFoundError&) {
    return NotFoundError("doc " + std::to_string(doc) + " is not indexed");
  } catch (const Xapian::Error& e) {
    return FromXapian(e, "deleting doc " + std::to_string(doc));
  }
}

Status LexicalIndex::AddBatch(std::span<const IndexDoc> docs, ProgressOptions* progress) {
  std::lock_guard<std::mutex> lock(impl_->write_mu);
  for (const IndexDoc& d : docs) RETURN_IF_ERROR(impl_->Validate(d));
  std::unique_ptr<Progress> bar;
  if (progress != nullptr) {
    ProgressOptions po = *progress;
    if (po.unit.empty()) po.unit = "docs";
    bar = std::make_unique<Progress>("index documents", docs.size(), po);
  }
  size_t since_commit = 0;
  Impl::SpellingCounts spelling;
  for (const IndexDoc& d : docs) {
    try {
      RETURN_IF_ERROR(impl_->UpsertLocked(d, &spelling));
      if (++since_commit >= options_.commit_every) {
        impl_->FlushSpelling(&spelling);
        impl_->CommitLocked();
        since_commit = 0;
      }
    } catch (const Xapian::Error& e) {
      return FromXapian(e, "indexing doc " + std::to_string(d.doc));
    }
    if (bar) bar->Add(1);
  }
  try {
    impl_->FlushSpelling(&spelling);
  } catch (const Xapian::Error& e) {
    return FromXapian(e, "updating the spelling dictionary");
  }
  if (bar) bar->Finish();
  return OkStatus();
}

Status LexicalIndex::Commit() {
  std::lock_guard<std::mutex> lock(impl_->write_mu);
  try {
    impl_->CommitLocked();
    return OkStatus();
  } catch (const Xapian::Error& e) {
    return FromXapian(e, "committing the lexical index");
  }
}

uint64_t LexicalIndex::DocCount() const {
  try {
    return impl_->Read([](const Xapian::Database& db) -> uint64_t { return db.get_doccount(); });
  } catch (const Xapian::Error&) {
    return 0;
  }
}

StatusOr<std::string> LexicalIndex::ExternalId(uint32_t doc) const {
  try {
    if (doc == std::numeric_limits<uint32_t>::max()) throw Xapian::DocNotFoundError("");
    return impl_->Read([doc](const Xapian::Database& db) -> std::string {
      return db.get_document(doc + 1).get_data();
    });
  } catch (const Xapian::DocNotFoundError&) {
    return NotFoundError("doc " + std::to_string(doc) + " is not indexed");
  } catch (const Xapian::Error& e) {
    return FromXapian(e, "reading doc " + std::to_string(doc));
  }
}

Status LexicalIndex::Impl::ValidateQuery(const LexicalQuery& q) const {
  if (q.limit > kMaxLimit) {
    return InvalidArgumentError("limit " + std::to_string(q.limit) + " exceeds the maximum " +
                                std::to_string(kMaxLimit));
  }
  if (q.offset > kMaxOffset) {
    return InvalidArgumentError("offset " + std::to_string(q.offset) + " exceeds the maximum " +
                                std::to_string(kMaxOffset));
  }
  if (!std::isfinite(q.alt_weight) || q.alt_weight < 0 || q.alt_weight > 1) {
    return InvalidArgumentError("alt_weight must be in [0, 1]");
  }
  if (q.alternatives.size() > q.terms.size()) {
    return InvalidArgumentError("alternatives has " + std::to_string(q.alternatives.size()) +
                                " entries for " + std::to_string(q.terms.size()) + " terms");
  }
  const Filter& f = q.filter;
  auto check_range = [](const std::optional<double>& lo, const std::optional<double>& hi,
                        const std::string& what) -> Status {
    if (lo && std::isnan(*lo)) return InvalidArgumentError(what + " minimum is NaN");
    if (hi && std::isnan(*hi)) return InvalidArgumentError(what + " maximum is NaN");
    if (lo && hi && *lo > *hi) {
      return InvalidArgumentError(what + " range is inverted: min " + std::to_string(*lo) +
                                  " > max " + std::to_string(*hi));
    }
    return OkStatus();
  };
  RETURN_IF_ERROR(check_range(f.price_min, f.price_max, "price"));
  for (const Filter::Range& r : f.numeric) {
    if (!numeric_slot.count(Fold(r.key))) {
      return InvalidArgumentError("numeric filter on '" + r.key +
                                  "', which is not a declared numeric attribute");
    }
    RETURN_IF_ERROR(check_range(r.min, r.max, "numeric attribute '" + r.key + "'"));
  }
  for (const std::string& name : q.facets) {
    if (name == "brand" || name == "category" || name == "price" || name == "in_stock") continue;
    const std::string folded = Fold(name);
    bool known;
    {
      std::lock_guard<std::mutex> lock(keys_mu);
      known = attribute_keys.count(folded) > 0;
    }
    if (!known) {
      return InvalidArgumentError("unknown facet '" + name +
                                  "' (expected brand, category, price, in_stock or an attribute key)");
    }
  }
  return OkStatus();
}

Xapian::Query LexicalIndex::Impl::TermQuery(const std::string& term, bool wildcard) const {
  std::vector<Xapian::Query> parts;
  for (int f = 0; f < kNumFields; ++f) {
    const double w = options->field_weight[f];
    if (w == 0) continue;
    const std::string t = kFieldPrefix[f] + term;
    Xapian::Query leaf =
        wildcard ? Xapian::Query(Xapian::Query::OP_WILDCARD, t,
                                 static_cast<Xapian::termcount>(options->wildcard_max_expansion),
                                 Xapian::Query::WILDCARD_LIMIT_MOST_FREQUENT)
                 : Xapian::Query(t);
    parts.emplace_back(Xapian::Query::OP_SCALE_WEIGHT, leaf, w);
  }
  return Xapian::Query(Xapian::Query::OP_OR, parts.begin(), parts.end());
}

Xapian::Query LexicalIndex::Impl::FilterQuery(const Filter& f) const {
  std::vector<Xapian::Query> conds;
  auto any_of = [&](const std::vector<std::string>& values, std::string_view prefix) {
    std::vector<Xapian::Query> terms;
    for (const std::string& v : values) {
      std::string folded = Fold(v);
      // An empty value matches nothing (the bare prefix is never indexed).
      terms.emplace_back(folded.empty() ? std::string(prefix) + "\x01" : BooleanTerm(prefix, folded));
    }
    conds.emplace_back(Xapian::Query::OP_OR, terms.begin(), terms.end());
  };
  if (!f.brands.empty()) any_of(f.brands, kBrandTerm);
  if (!f.categories.empty()) any_of(f.categories, kCategoryTerm);
  if (f.in_stock) conds.emplace_back(std::string(*f.in_stock ? kInStockTerm : kOutOfStockTerm));
  for (const auto& [key, value] : f.attributes) {
    conds.emplace_back(BooleanTerm(kAttributeTerm, Fold(key) + "=" + Fold(value)));
  }
  auto range = [&](Xapian::valueno slot, const std::optional<double>& lo,
                   const std::optional<double>& hi) {
    if (lo && hi) {
      conds.emplace_back(Xapian::Query::OP_VALUE_RANGE, slot, Xapian::sortable_serialise(*lo),
                         Xapian::sortable_serialise(*hi));
    } else if (lo) {
      conds.emplace_back(Xapian::Query::OP_VALUE_GE, slot, Xapian::sortable_serialise(*lo));
    } else if (hi) {
      conds.emplace_back(Xapian::Query::OP_VALUE_LE, slot, Xapian::sortable_serialise(*hi));
    }
  };
  range(kSlotPrice, f.price_min, f.price_max);
  for (const Filter::Range& r : f.numeric) range(numeric_slot.at(Fold(r.key)), r.min, r.max);
  return Xapian::Query(Xapian::Query::OP_AND, conds.begin(), conds.end());
}

StatusOr<LexicalResult> LexicalIndex::Search(const LexicalQuery& q) const {
  RETURN_IF_ERROR(impl_->ValidateQuery(q));
  try {
    Xapian::Query main;
    const bool browse = q.terms.empty();
    if (browse) {
      main = Xapian::Query::MatchAll;
    } else {
      std::vector<Xapian::Query> per_term;
      std::unordered_set<std::string> seen;
      for (size_t i = 0; i < q.terms.size(); ++i) {
        const std::string& t = q.terms[i];
        const bool last = i + 1 == q.terms.size();
        if (!seen.insert(t).second && !(last && q.prefix_last)) continue;
        std::vector<Xapian::Query> options;
        if (Indexable(t)) options.push_back(impl_->TermQuery(t, last && q.prefix_last));
        if (i < q.alternatives.size() && q.alt_weight > 0) {
          for (const std::string& alt : q.alternatives[i]) {
            std::vector<Xapian::Query> words;
            size_t start = 0;
            while (start <= alt.size()) {
              size_t sp = alt.find(' ', start);
              if (sp == std::string::npos) sp = alt.size();
              std::string w = alt.substr(start, sp - start);
              if (Indexable(w)) words.push_back(impl_->TermQuery(w, false));
              start = sp + 1;
            }
            if (words.empty()) continue;
            options.emplace_back(Xapian::Query::OP_SCALE_WEIGHT,
                                 Xapian::Query(Xapian::Query::OP_AND, words.begin(), words.end()),
                                 q.alt_weight);
          }
        }
        if (options.empty()) {
          // A term that cannot occur in the index: it never matches.
          if (q.mode == LexicalQuery::Mode::kAnd) per_term.push_back(Xapian::Query::MatchNothing);
          continue;
        }
        per_term.emplace_back(Xapian::Query::OP_OR, options.begin(), options.end());
      }
      main = Xapian::Query(q.mode == LexicalQuery::Mode::kAnd ? Xapian::Query::OP_AND
                                                              : Xapian::Query::OP_OR,
                           per_term.begin(), per_term.end());
    }
    if (!q.filter.Empty()) {
      main = Xapian::Query(Xapian::Query::OP_FILTER, main, impl_->FilterQuery(q.filter));
    }

    std::vector<FacetSpy::Request> requests;
    for (const std::string& name : q.facets) {
      FacetSpy::Request r;
      r.name = name;
      if (name == "brand") r.kind = FacetSpy::Kind::kBrand;
      else if (name == "category") r.kind = FacetSpy::Kind::kCategory;
      else if (name == "price") r.kind = FacetSpy::Kind::kPrice;
      else if (name == "in_stock") r.kind = FacetSpy::Kind::kInStock;
      else { r.kind = FacetSpy::Kind::kAttribute; r.folded_key = impl_->Fold(name); }
      requests.push_back(std::move(r));
    }

    // Matching, on one reader handle (a retry after a concurrent commit starts
    // the counts afresh).
    LexicalResult result;
    FacetSpy spy(std::move(requests));
    impl_->Read([&](const Xapian::Database& db) {
      Xapian::Enquire enquire(db);
      enquire.set_query(main);
      enquire.set_weighting_scheme(
          Xapian::BM25Weight(options_.bm25_k1, 0, 1, options_.bm25_b, 0.5));
      Xapian::MultiValueKeyMaker price_key;
      switch (q.sort) {
        case SortBy::kRelevance:
          if (browse) enquire.set_sort_by_value_then_relevance(kSlotPopularity, true);
          break;
        case SortBy::kPopularity:
          enquire.set_sort_by_value_then_relevance(kSlotPopularity, true);
          break;
        case SortBy::kPriceAsc:
          // Documents without a price sort as +infinity: last.
          price_key.add_value(kSlotPrice, false,
                              Xapian::sortable_serialise(std::numeric_limits<double>::infinity()));
          enquire.set_sort_by_key_then_relevance(&price_key, false);
          break;
        case SortBy::kPriceDesc:
          // Reversed, the missing (empty) value sorts last.
          price_key.add_value(kSlotPrice, true);
          enquire.set_sort_by_key_then_relevance(&price_key, false);
          break;
      }
      spy.ClearCounts();
      if (!q.facets.empty()) enquire.add_matchspy(&spy);

      const Xapian::doccount all = db.get_doccount();
      Xapian::doccount check = all;
      if (q.facets.empty() && q.exact_total_upto > 0) {
        check = static_cast<Xapian::doccount>(
            std::min<size_t>(all, std::max(q.exact_total_upto, q.offset + q.limit)));
      }
      Xapian::MSet mset = enquire.get_mset(static_cast<Xapian::doccount>(q.offset),
                                           static_cast<Xapian::doccount>(q.limit), check);
      result.total_matches = mset.get_matches_estimated();
      result.hits.clear();
      result.hits.reserve(mset.size());
      for (Xapian::MSetIterator it = mset.begin(); it != mset.end(); ++it) {
        result.hits.push_back({static_cast<uint32_t>(*it - 1), it.get_weight()});
      }
      enquire.clear_matchspies();
    });

    for (FacetSpy::Request& r : spy.requests()) {
      std::vector<FacetCount>& out = result.facets[r.name];
      if (r.kind == FacetSpy::Kind::kPrice || r.kind == FacetSpy::Kind::kInStock) {
        for (auto& [value, count] : r.counts) out.push_back({value, count});
      } else {
        // Merge spellings that fold together; show the most frequent original.
        struct Group { uint64_t total = 0; uint64_t best = 0; std::string display; };
        std::unordered_map<std::string, Group> groups;
        for (auto& [value, count] : r.counts) {
          Group& g = groups[impl_->Fold(value)];
          g.total += count;
          if (count > g.best || (count == g.best && value < g.display)) {
            g.best = count;
            g.display = value;
          }
        }
        for (auto& [folded, g] : groups) out.push_back({g.display, g.total});
      }
      std::sort(out.begin(), out.end(), [](const FacetCount& a, const FacetCount& b) {
        return a.count != b.count ? a.count > b.count : a.value < b.value;
      });
    }
    return result;
  } catch (const Xapian::Error& e) {
    return FromXapian(e, "lexical search");
  }
}

StatusOr<FieldScores> LexicalIndex::Score(uint32_t doc, const std::vector<std::string>& terms) const {
  if (doc == std::numeric_limits<uint32_t>::max()) {
    return NotFoundError("doc " + std::to_string(doc) + " is not indexed");
  }
  try {
    // Length, collection statistics and term frequencies all come from one
    // reader handle, i.e. one revision: the same numbers a Search on it uses.
    return impl_->Read([&](const Xapian::Database& db) -> StatusOr<FieldScores> {
      if (doc + 1 > db.get_lastdocid()) {
        return NotFoundError("doc " + std::to_string(doc) + " is not indexed");
      }
      const Xapian::docid id = doc + 1;
      const double length = db.get_doclength(id);  // throws DocNotFoundError
      const double n_docs = db.get_doccount();
      const double avlen = db.get_avlength();
      const double len_factor = avlen > 0 ? 1.0 / avlen : 0.0;
      const double k1 = options_.bm25_k1, b = options_.bm25_b;
      // As Xapian::BM25Weight with k2 = 0: the length is ignored when b or k1 is 0.
      const double len_part = (b == 0 || k1 == 0) ? 0.0 : length * len_factor;
      const double normlen = std::max(len_part, 0.5);

      FieldScores scores;
      std::unordered_set<std::string> seen;
      for (const std::string& t : terms) {
        if (!Indexable(t) || !seen.insert(t).second) continue;
        bool matched = false;
        for (int f = 0; f < kNumFields; ++f) {
          const std::string term = kFieldPrefix[f] + t;
          Xapian::TermIterator it = db.termlist_begin(id);
          it.skip_to(term);
          if (it == db.termlist_end(id) || *it != term) continue;
          const double wdf = it.get_wdf();
          if (wdf == 0) continue;
          matched = true;
          const double tf = db.get_termfreq(term);
          double tw = (n_docs - tf + 0.5) / (tf + 0.5);
          if (tw < 2) tw = tw * 0.5 + 1;  // Xapian's guard against negative idf
          const double termweight = std::log(tw) * (k1 + 1);
          const double denom = k1 * (normlen * b + (1 - b)) + wdf;
          scores.bm25[f] += termweight * (wdf / denom);
        }
        if (matched) ++scores.matched_terms;
      }
      for (int f = 0; f < kNumFields; ++f) scores.total += options_.field_weight[f] * scores.bm25[f];
      return scores;
    });
  } catch (const Xapian::DocNotFoundError&) {
    return NotFoundError("doc " + std::to_string(doc) + " is not indexed");
  } catch (const Xapian::Error& e) {
    return FromXapian(e, "scoring doc " + std::to_string(doc));
  }
}

StatusOr<std::vector<FieldScores>> LexicalIndex::ScoreMany(
    const std::vector<uint32_t>& docs, const std::vector<std::string>& terms) const {
  std::vector<FieldScores> out(docs.size());
  if (docs.empty()) return out;
  // Visit the docs in id order (skip_to only moves forward).
  std::vector<size_t> order(docs.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return docs[a] < docs[b]; });
  try {
    return impl_->Read([&](const Xapian::Database& db) -> StatusOr<std::vector<FieldScores>> {
      const double n_docs = db.get_doccount();
      const double avlen = db.get_avlength();
      const double len_factor = avlen > 0 ? 1.0 / avlen : 0.0;
      const double k1 = options_.bm25_k1, b = options_.bm25_b;
      const Xapian::docid last = db.get_lastdocid();
      // Normalized lengths, once per doc (0 for docs that are not indexed).
      std::vector<double> normlen(docs.size(), 0.5);
      std::vector<char> present(docs.size(), 0);
      for (size_t i : order) {
        const Xapian::docid id = docs[i] + 1;
        if (docs[i] == std::numeric_limits<uint32_t>::max() || id > last) continue;
        try {
          const double length = db.get_doclength(id);
          const double len_part = (b == 0 || k1 == 0) ? 0.0 : length * len_factor;
          normlen[i] = std::max(len_part, 0.5);
          present[i] = 1;
        } catch (const Xapian::DocNotFoundError&) {
        }
      }
      std::vector<std::vector<char>> matched(docs.size());
      std::unordered_set<std::string> seen;
      size_t t_index = 0;
      for (const std::string& t : terms) {
        if (!Indexable(t) || !seen.insert(t).second) continue;
        for (int f = 0; f < kNumFields; ++f) {
          const std::string term = kFieldPrefix[f] + t;
          const double tf = db.get_termfreq(term);
          if (tf == 0) continue;
          double tw = (n_docs - tf + 0.5) / (tf + 0.5);
          if (tw < 2) tw = tw * 0.5 + 1;  // Xapian's guard against negative idf
          const double termweight = std::log(tw) * (k1 + 1);
          Xapian::PostingIterator pl = db.postlist_begin(term);
          const Xapian::PostingIterator end = db.postlist_end(term);
          for (size_t i : order) {
            if (!present[i]) continue;
            const Xapian::docid id = docs[i] + 1;
            if (pl == end) break;
            if (*pl < id) pl.skip_to(id);
            if (pl == end) break;
            if (*pl != id) continue;
            const double wdf = pl.get_wdf();
            if (wdf == 0) continue;
            const double denom = k1 * (normlen[i] * b + (1 - b)) + wdf;
            out[i].bm25[f] += termweight * (wdf / denom);
            if (matched[i].size() <= t_index) matched[i].resize(t_index + 1, 0);
            matched[i][t_index] = 1;
          }
        }
        ++t_index;
      }
      for (size_t i = 0; i < docs.size(); ++i) {
        for (char m : matched[i]) out[i].matched_terms += m;
        for (int f = 0; f < kNumFields; ++f) out[i].total += options_.field_weight[f] * out[i].bm25[f];
      }
      return out;
    });
  } catch (const Xapian::Error& e) {
    return FromXapian(e, "scoring candidates");
  }
}

Status LexicalIndex::AddSpellingSource(std::string_view text, uint32_t freq) {
  if (freq == 0) return InvalidArgumentError("spelling source frequency must be > 0");
  std::vector<std::string> words = analyzer_->Terms(text);
  std::lock_guard<std::mutex> lock(impl_->write_mu);
  try {
    for (const std::string& w : words) {
      if (SpellingEligible(w)) impl_->db.add_spelling(w, freq);
    }
    return OkStatus();
  } catch (const Xapian::Error& e) {
    return FromXapian(e, "adding spelling source");
  }
}

std::string LexicalIndex::SuggestSpelling(std::string_view word) const {
  std::string w = impl_->Fold(word);
  if (!SpellingEligible(w)) return "";
  const unsigned max_edits = CodePointCount(w) < 4 ? 1 : 2;
  try {
    return impl_->Read([&](const Xapian::Database& db) {
      return db.get_spelling_suggestion(w, max_edits);
    });
  } catch (const Xapian::Error&) {
    return "";
  }
}

uint64_t LexicalIndex::TermFrequency(std::string_view term) const {
  if (!Indexable(term)) return 0;
  try {
    return impl_->Read([t = std::string(term)](const Xapian::Database& db) -> uint64_t {
      return db.get_termfreq(t);
    });
  } catch (const Xapian::Error&) {
    return 0;
  }
}

Status LexicalIndex::AddSynonym(std::string_view term, std::string_view synonym) {
  const std::string key = JoinTerms(analyzer_->Terms(term));
  const std::string value = JoinTerms(analyzer_->Terms(synonym));
  if (key.empty()) return InvalidArgumentError("synonym key '" + std::string(Utf8Prefix(term, 80)) + "' has no terms");
  if (value.empty()) {
    return InvalidArgumentError("synonym '" + std::string(Utf8Prefix(synonym, 80)) + "' of '" +
                                key + "' has no terms");
  }
  if (key == value) return OkStatus();
  std::lock_guard<std::mutex> lock(impl_->write_mu);
  try {
    impl_->db.add_synonym(key, value);
    return OkStatus();
  } catch (const Xapian::Error& e) {
    return FromXapian(e, "adding synonym");
  }
}

std::vector<std::string> LexicalIndex::Synonyms(std::string_view term) const {
  const std::string key = JoinTerms(analyzer_->Terms(term));
  std::vector<std::string> out;
  if (key.empty()) return out;
  try {
    impl_->Read([&](const Xapian::Database& db) {
      out.clear();
      for (auto it = db.synonyms_begin(key); it != db.synonyms_end(key); ++it) out.push_back(*it);
    });
  } catch (const Xapian::Error&) {
    out.clear();
  }
  return out;
}

std::vector<std::pair<std::string, uint64_t>> LexicalIndex::CompleteTerm(std::string_view prefix,
                                                                         size_t n) const {
  std::vector<std::pair<std::string, uint64_t>> out;
  const std::string p = impl_->Fold(prefix);
  if (p.empty() || n == 0 || !Indexable(p)) return out;
  try {
    impl_->Read([&](const Xapian::Database& db) {
      out.clear();
      for (auto it = db.allterms_begin(p); it != db.allterms_end(p); ++it) {
        out.emplace_back(*it, it.get_termfreq());
      }
    });
  } catch (const Xapian::Error&) {
    out.clear();
    return out;
  }
  auto by_freq = [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  };
  if (out.size() > n) {
    std::partial_sort(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n), out.end(), by_freq);
    out.resize(n);
  } else {
    std::sort(out.begin(), out.end(), by_freq);
  }
  return out;
}

}  // namespace souk::index
