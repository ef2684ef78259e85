#include "ingest/importer.h"

#include <filesystem>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "common/utf8.h"

namespace souk::ingest {

StatusOr<ImportOptions> ImportOptions::FromConfig(const Config& c) {
  ImportOptions o;
  ASSIGN_OR_RETURN(o.validation, ValidationOptions::FromConfig(c));
  const int64_t bs = c.GetInt("import.batch_size");
  if (bs < 1 || bs > 10'000'000) return InvalidArgumentError(fmt::format("import.batch_size must be in [1, 10000000], got {}", bs));
  o.batch_size = static_cast<size_t>(bs);
  o.quarantine_raw_bytes = static_cast<size_t>(std::max<int64_t>(0, c.GetInt("import.quarantine_raw_bytes")));
  o.defer_indexes = c.GetString("import.defer_indexes");
  if (o.defer_indexes != "auto" && o.defer_indexes != "always" && o.defer_indexes != "never") {
    return InvalidArgumentError("import.defer_indexes must be auto, always or never, got '" + o.defer_indexes + "'");
  }
  return o;
}

namespace {
std::string Truncate(std::string_view raw, size_t n) {
  if (raw.size() <= n) return std::string(raw);
  return std::string(Utf8Prefix(raw, n)) + fmt::format("... [{} bytes in all]", raw.size());
}
}  // namespace

Importer::Importer(store::Store* store, ImportOptions options)
    : store_(store), o_(std::move(options)), validator_(o_.validation) {}

Importer::~Importer() {
  if (inflight_status_.valid()) inflight_status_.wait();
  if (!finished_ && summary_.run_id) Abort(CancelledError("import ended without Finish"));
}

bool Importer::KnownItem(const std::string& id) {
  // Items added to this import are in known_items_ from the moment they are queued:
  // batches are written in order and items before events within a batch.
  if (known_items_.count(id)) return true;
  if (store_->HasItem(id)) {
    known_items_.insert(id);
    return true;
  }
  return false;
}

Status Importer::Begin(const std::string& format, const std::vector<std::string>& paths) {
  summary_.format = format;
  uint64_t total = 0;
  for (const auto& p : paths) {
    std::error_code ec;
    if (std::filesystem::is_regular_file(p, ec)) total += std::filesystem::file_size(p, ec);
  }
  std::string desc;
  for (const auto& p : paths) desc += (desc.empty() ? "" : " ") + p;
  ASSIGN_OR_RETURN(summary_.run_id, store_->BeginRun("import:" + format, desc));
  batch_.run_id = summary_.run_id;
  ProgressOptions po = o_.progress;
  po.bytes = true;
  progress_ = std::make_unique<Progress>("import " + format, total, po);
  bool defer = o_.defer_indexes == "always";
  if (o_.defer_indexes == "auto") {
    // About 80 bytes per event line in typical event files.
    const int64_t estimated = static_cast<int64_t>(total / 80);
    ASSIGN_OR_RETURN(int64_t existing, store_->MaxEventId());
    defer = estimated >= 500000 && estimated > existing;
  }
  if (defer) {
    RETURN_IF_ERROR(store_->DeferSecondaryIndexes());
    indexes_deferred_ = true;
    spdlog::info("bulk load: secondary event indexes are rebuilt at the end of this import");
  }
  start_us_ = RealClock().MonotonicMicros();
  return OkStatus();
}

StatusOr<std::string> Importer::OpenSource(const std::string& path) {
  if (progress_ && current_size_) bytes_done_before_ += current_size_;
  std::error_code ec;
  std::string canonical = path;
  auto c = std::filesystem::weakly_canonical(path, ec);
  if (!ec) canonical = c.string();
  current_size_ = std::filesystem::is_regular_file(path, ec) ? std::filesystem::file_size(path, ec) : 0;
  source_ = canonical;
  ASSIGN_OR_RETURN(source_id_, store_->SourceId(summary_.format, canonical));
  ordinal_ = 0;
  summary_.sources.push_back(canonical);
  return canonical;
}

void Importer::SetSourceProgress(uint64_t bytes) {
  if (progress_) progress_->Set(bytes_done_before_ + bytes);
}

void Importer::Count(const std::string& reason) {
  ++summary_.quarantined;
  ++summary_.reasons[reason];
}

Status Importer::Reject(const RecordRef& ref, std::string reason, std::string detail) {
  ++summary_.records;
  Count(reason);
  store::QuarantineRecord q;
  q.source = source_;
  q.line = ref.line;
  q.byte_offset = ref.byte_offset;
  q.reason = std::move(reason);
  q.detail = std::move(detail);
  q.raw = Truncate(ref.raw, o_.quarantine_raw_bytes);
  spdlog::debug("quarantine {}:{} {}: {}", source_, ref.line, q.reason, q.detail);
  batch_.quarantine.push_back(std::move(q));
  return MaybeFlush();
}

void Importer::Note(std::string note) { summary_.notes.push_back(std::move(note)); }

Status Importer::AddItem(store::Item item, store::ItemWriteMode mode, const RecordRef& ref) {
  if (auto r = validator_.CheckItem(item)) return Reject(ref, r->reason, r->detail);
  if (mode == store::ItemWriteMode::kCatalog) ++summary_.records;  // merges/stubs are derived
  known_items_.insert(item.external_id);
  store::ItemWrite w;
  w.item = std::move(item);
  w.mode = mode;
  w.line = ref.line;
  w.source = source_;
  w.raw = Truncate(ref.raw, o_.quarantine_raw_bytes);
  batch_.items.push_back(std::move(w));
  return MaybeFlush();
}

Status Importer::AddUser(store::User user, const RecordRef& ref) {
  if (auto r = validator_.CheckUser(user)) return Reject(ref, r->reason, r->detail);
  ++summary_.records;
  batch_.users.push_back(std::move(user));
  return MaybeFlush();
}

Status Importer::AddJudgment(store::Judgment j, const RecordRef& ref) {
  if (auto r = validator_.CheckJudgment(j)) return Reject(ref, r->reason, r->detail);
  ++summary_.records;
  j.source = source_;
  batch_.judgments.push_back(std::move(j));
  return MaybeFlush();
}

Status Importer::AddEvent(store::Event e, const RecordRef& ref) {
  const int64_t ordinal = ++ordinal_;  // counted before validation: keys stay stable across runs
  if (auto r = validator_.CheckEvent(e)) return Reject(ref, r->reason, r->detail);
  if (!e.item_id.empty() && !KnownItem(e.item_id)) {
    if (o_.validation.unknown_item == UnknownItemPolicy::kQuarantine) {
      return Reject(ref, "unknown_item", fmt::format("item '{}' is not in the catalog (import.unknown_item = quarantine)", e.item_id));
    }
    store::Item stub;
    stub.external_id = e.item_id;
    stub.is_stub = true;
    if (e.price) stub.price = e.price;
    store::ItemWrite w;
    w.item = std::move(stub);
    w.mode = store::ItemWriteMode::kStub;
    w.source = source_;
    w.line = ref.line;
    batch_.items.push_back(std::move(w));
    known_items_.insert(e.item_id);
  }
  if (!event_hashes_.Insert(e.ContentHash())) {
    return Reject(ref, "duplicate_event", "an identical event (same user, session, item, type, time and values) was already read in this import");
  }
  ++summary_.records;
  e.import_key = (source_id_ << 40) | ordinal;
  ++summary_.event_types[std::string(store::EventTypeName(e.type))];
  batch_.events.push_back(std::move(e));
  return MaybeFlush();
}

Status Importer::MaybeFlush() {
  if (batch_.size() >= o_.batch_size) return Flush();
  return OkStatus();
}

Status Importer::WaitInflight() {
  if (!inflight_status_.valid()) return OkStatus();
  const int64_t wait_start = RealClock().MonotonicMicros();
  Status s = inflight_status_.get();
  waited_us_ += RealClock().MonotonicMicros() - wait_start;
  if (!s.ok()) return s;
  const store::WriteResult& r = inflight_result_;
  summary_.items_inserted += r.items_inserted;
  summary_.items_updated += r.items_updated;
  summary_.items_unchanged += r.items_unchanged;
  summary_.stubs_created += r.stubs_created;
  summary_.items += r.items_inserted + r.items_updated + r.items_unchanged;
  summary_.users += static_cast<int64_t>(inflight_users_);
  summary_.users_created += r.users_inserted;
  summary_.events_new += r.events_appended;
  summary_.events_already_present += r.events_already_present;
  summary_.events += r.events_appended + r.events_already_present;
  summary_.judgments += r.judgments_written;
  for (const auto& [reason, n] : r.quarantine_reasons) {
    summary_.quarantined += n;
    summary_.reasons[reason] += n;
  }
  inflight_.clear();
  if (o_.on_commit) o_.on_commit(summary_.events, summary_.records);
  spdlog::debug("batch committed: {} events, {} records acknowledged (parser waited {:.2f}s for the writer so far)",
                summary_.events, summary_.records, waited_us_ / 1e6);
  return OkStatus();
}

Status Importer::Flush() {
  RETURN_IF_ERROR(WaitInflight());
  if (batch_.size() == 0) return OkStatus();
  std::swap(inflight_, batch_);
  batch_.run_id = inflight_.run_id;
  inflight_users_ = inflight_.users.size();
  inflight_result_ = store::WriteResult();
  inflight_status_ = std::async(std::launch::async, [this] { return store_->Write(inflight_, &inflight_result_); });
  return OkStatus();
}

StatusOr<ImportSummary> Importer::Finish() {
  Status s = Flush();
  if (s.ok()) s = WaitInflight();
  if (!s.ok()) {
    Abort(s);
    return s;
  }
  if (indexes_deferred_) {
    indexes_deferred_ = false;
    Status r = store_->RestoreSecondaryIndexes();
    if (!r.ok()) {
      Abort(r);
      return r;
    }
  }
  finished_ = true;
  summary_.accepted = summary_.items + summary_.users + summary_.events + summary_.judgments;
  summary_.seconds = (RealClock().MonotonicMicros() - start_us_) / 1e6;
  if (progress_) {
    progress_->Set(bytes_done_before_ + current_size_);
    progress_->Finish();
  }
  RETURN_IF_ERROR(store_->FinishRun(summary_.run_id, "done", summary_.ToJson().dump()));
  return summary_;
}

void Importer::Abort(const Status& why) {
  if (inflight_status_.valid()) WaitInflight().IgnoreError();
  if (indexes_deferred_) {
    indexes_deferred_ = false;
    store_->RestoreSecondaryIndexes().IgnoreError();  // else the next Open() rebuilds them
  }
  finished_ = true;
  if (progress_) progress_->Finish();
  nlohmann::json j = summary_.ToJson();
  j["error"] = why.ToString();
  store_->FinishRun(summary_.run_id, "failed", j.dump()).IgnoreError();
}

nlohmann::json ImportSummary::ToJson() const {
  nlohmann::json j;
  j["format"] = format;
  j["sources"] = sources;
  j["run_id"] = run_id;
  j["records"] = records;
  j["items"] = items;
  j["items_inserted"] = items_inserted;
  j["items_updated"] = items_updated;
  j["items_unchanged"] = items_unchanged;
  j["stub_items_created"] = stubs_created;
  j["users"] = users;
  j["users_created"] = users_created;
  j["events"] = events;
  j["events_new"] = events_new;
  j["events_already_present"] = events_already_present;
  j["judgments"] = judgments;
  j["accepted"] = accepted;
  j["quarantined"] = quarantined;
  j["reasons"] = reasons;
  j["event_types"] = event_types;
  j["notes"] = notes;
  j["seconds"] = seconds;
  j["records_per_second"] = seconds > 0 ? records / seconds : 0.0;
  return j;
}

std::string ImportSummary::ToText() const {
  std::string out = fmt::format("Imported {} ({} source{}) in {:.1f}s, {:.0f} records/s\n", format,
                                sources.size(), sources.size() == 1 ? "" : "s", seconds,
                                seconds > 0 ? records / seconds : 0.0);
  out += fmt::format("  accepted     {:>10}   (items {}, users {}, events {}, judgments {})\n", accepted,
                     items, users, events, judgments);
  out += fmt::format("  items        inserted {}, updated {}, unchanged {}, stubs created {}\n",
                     items_inserted, items_updated, items_unchanged, stubs_created);
  out += fmt::format("  events       new {}, already present {}\n", events_new, events_already_present);
  if (!event_types.empty()) {
    out += "  event types ";
    for (const auto& [t, n] : event_types) out += fmt::format(" {}={}", t, n);
    out += "\n";
  }
  out += fmt::format("  quarantined  {:>10}\n", quarantined);
  for (const auto& [reason, n] : reasons) out += fmt::format("    {:<24} {}\n", reason, n);
  for (const auto& n : notes) out += "  note: " + n + "\n";
  return out;
}

}  // namespace souk::ingest
