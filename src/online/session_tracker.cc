#include "online/session_tracker.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <sstream>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "common/hash.h"
#include "online/tracker_format_internal.h"

namespace souk::online {
namespace {

namespace fs = std::filesystem;
using internal::Decoder;
using internal::Encoder;

constexpr int64_t kMaxTimestampMs = 7258118400000LL;  // 2200-01-01T00:00:00Z
constexpr int64_t kMaxTimeoutMs = 366LL * 24 * 3600 * 1000;
constexpr int64_t kMaxRetainMs = 100LL * 366 * 24 * 3600 * 1000;
constexpr size_t kMaxIdBytes = 512;     // user_id, session_id, item_id
constexpr size_t kMaxTextBytes = 4096;  // category, brand
// How many derived sessions of a user (by start time) are tried for a join.
constexpr int kDerivedProbe = 4;

// ---------------------------------------------------------------- validation

Status ValidateEvent(const TrackedEvent& t, size_t i) {
  auto bad = [i](std::string what) {
    return InvalidArgumentError(fmt::format("event {}: {}", i, what));
  };
  const SessionEvent& e = t.event;
  if (t.user_id.empty() && t.session_id.empty()) {
    return bad("anonymous event (empty user_id) needs a session_id");
  }
  if (t.user_id.size() > kMaxIdBytes) {
    return bad(fmt::format("user_id is {} bytes (max {})", t.user_id.size(), kMaxIdBytes));
  }
  if (t.session_id.size() > kMaxIdBytes) {
    return bad(fmt::format("session_id is {} bytes (max {})", t.session_id.size(), kMaxIdBytes));
  }
  if (e.item_id.size() > kMaxIdBytes) {
    return bad(fmt::format("item_id is {} bytes (max {})", e.item_id.size(), kMaxIdBytes));
  }
  if (e.category.size() > kMaxTextBytes) {
    return bad(fmt::format("category is {} bytes (max {})", e.category.size(), kMaxTextBytes));
  }
  if (e.brand.size() > kMaxTextBytes) {
    return bad(fmt::format("brand is {} bytes (max {})", e.brand.size(), kMaxTextBytes));
  }
  if (e.ts_ms < 0 || e.ts_ms > kMaxTimestampMs) {
    return bad(fmt::format("ts_ms {} is outside [0, {}] (1970..2200)", e.ts_ms, kMaxTimestampMs));
  }
  if (static_cast<int>(e.type) >= store::kNumEventTypes) {
    return bad(fmt::format("type: unknown event type code {}", static_cast<int>(e.type)));
  }
  // NaN means "unknown" (session.h); infinities and negatives are bad input.
  if (!std::isnan(e.price) && (!std::isfinite(e.price) || e.price < 0)) {
    return bad(fmt::format("price {} is not a finite number >= 0", e.price));
  }
  if (!std::isnan(e.quantity) && (!std::isfinite(e.quantity) || e.quantity < 0)) {
    return bad(fmt::format("quantity {} is not a finite number >= 0", e.quantity));
  }
  return OkStatus();
}

Status ValidateOptions(const TrackerOptions& o) {
  if (o.session_timeout_ms <= 0 || o.session_timeout_ms > kMaxTimeoutMs) {
    return InvalidArgumentError(fmt::format("session_timeout_ms {} must be in (0, {}]",
                                            o.session_timeout_ms, kMaxTimeoutMs));
  }
  if (o.retain_closed_ms < 0 || o.retain_closed_ms > kMaxRetainMs) {
    return InvalidArgumentError(
        fmt::format("retain_closed_ms {} must be in [0, {}]", o.retain_closed_ms, kMaxRetainMs));
  }
  if (o.max_events < 1) return InvalidArgumentError("max_events must be >= 1");
  if (o.checkpoint_every < 0) {
    return InvalidArgumentError(
        fmt::format("checkpoint_every {} must be >= 0", o.checkpoint_every));
  }
  return OkStatus();
}

// ---------------------------------------------------------------- file helpers

Status ErrnoStatus(std::string_view what, const fs::path& path, int err) {
  std::string msg = fmt::format("{} {}: {}", what, path.string(), std::strerror(err));
  if (err == ENOSPC || err == EDQUOT) return ResourceExhaustedError(std::move(msg));
  return UnavailableError(std::move(msg));
}

// Writes all of `data` at `offset` (retrying short writes and EINTR).
Status PwriteAll(int fd, std::string_view data, int64_t offset, const fs::path& path) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::pwrite(fd, data.data() + done, data.size() - done,
                               static_cast<off_t>(offset + static_cast<int64_t>(done)));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("cannot write", path, errno);
    }
    done += static_cast<size_t>(n);
  }
  return OkStatus();
}

Status FsyncDir(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("cannot open folder", dir, errno);
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return ErrnoStatus("cannot fsync folder", dir, err);
  return OkStatus();
}

StatusOr<std::string> ReadWholeFile(const fs::path& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return UnavailableError(fmt::format("cannot read {}", path.string()));
  std::ostringstream ss;
  ss << f.rdbuf();
  if (f.bad()) return UnavailableError(fmt::format("read failed: {}", path.string()));
  return std::move(ss).str();
}

std::string FileHeader(const char (&magic)[8], uint32_t version) {
  Encoder enc;
  enc.Raw(magic, 8);
  enc.U32(version);
  enc.U32(0);
  return std::move(enc.bytes());
}

uint32_t LengthCheck(uint32_t len) {
  Encoder enc;
  enc.U32(len);
  return static_cast<uint32_t>(Fnv1a64(enc.bytes()));
}

// ---------------------------------------------------------------- encodings

void EncodeEvent(Encoder& enc, const SessionEvent& e) {
  enc.I64(e.ts_ms);
  enc.U8(static_cast<uint8_t>(e.type));
  enc.Str(e.item_id);
  enc.Str(e.category);
  enc.Str(e.brand);
  enc.F64(e.price);
  enc.F64(e.quantity);
}

bool DecodeEvent(Decoder& dec, SessionEvent& e) {
  uint8_t type = 0;
  if (!dec.I64(e.ts_ms) || !dec.U8(type) || !dec.Str(e.item_id) || !dec.Str(e.category) ||
      !dec.Str(e.brand) || !dec.F64(e.price) || !dec.F64(e.quantity)) {
    return false;
  }
  if (type >= store::kNumEventTypes) return false;
  e.type = static_cast<store::EventType>(type);
  return true;
}

template <typename Map>
void EncodeCountMap(Encoder& enc, const Map& m) {
  enc.U32(static_cast<uint32_t>(m.size()));
  for (const auto& [k, v] : m) {
    enc.Str(k);
    enc.U32(static_cast<uint32_t>(v));
  }
}

bool DecodeCountMap(Decoder& dec, std::unordered_map<std::string, int32_t>& m) {
  uint32_t n = 0;
  if (!dec.U32(n)) return false;
  for (uint32_t i = 0; i < n; ++i) {
    std::string k;
    uint32_t v = 0;
    if (!dec.Str(k) || !dec.U32(v)) return false;
    m[std::move(k)] = static_cast<int32_t>(v);
  }
  return true;
}

void EncodeCounters(Encoder& enc, const SessionCounters& c) {
  for (int64_t v :
       {c.events, c.views, c.clicks, c.carts, c.removes, c.purchases, c.searches, c.impressions,
        c.other, c.first_ms, c.last_ms, c.gaps, c.repeat_views, c.max_item_views}) {
    enc.I64(v);
  }
  for (double v : {c.gap_sum_s, c.gap_max_s, c.price_n, c.price_sum, c.price_sumsq, c.price_min,
                   c.price_max, c.cart_price_n, c.cart_price_sum, c.purchase_value}) {
    enc.F64(v);
  }
  EncodeCountMap(enc, c.item_views);
  EncodeCountMap(enc, c.category_views);
  enc.U32(static_cast<uint32_t>(c.carted.size()));
  for (const std::string& s : c.carted) enc.Str(s);
}

bool DecodeCounters(Decoder& dec, SessionCounters& c) {
  for (int64_t* v : {&c.events, &c.views, &c.clicks, &c.carts, &c.removes, &c.purchases,
                     &c.searches, &c.impressions, &c.other, &c.first_ms, &c.last_ms, &c.gaps,
                     &c.repeat_views, &c.max_item_views}) {
    if (!dec.I64(*v)) return false;
  }
  for (double* v :
       {&c.gap_sum_s, &c.gap_max_s, &c.price_n, &c.price_sum, &c.price_sumsq, &c.price_min,
        &c.price_max, &c.cart_price_n, &c.cart_price_sum, &c.purchase_value}) {
    if (!dec.F64(*v)) return false;
  }
  if (!DecodeCountMap(dec, c.item_views) || !DecodeCountMap(dec, c.category_views)) return false;
  uint32_t n = 0;
  if (!dec.U32(n)) return false;
  for (uint32_t i = 0; i < n; ++i) {
    std::string s;
    if (!dec.Str(s)) return false;
    c.carted.insert(std::move(s));
  }
  return true;
}

void EncodeDays(Encoder& enc, const std::vector<int32_t>& days) {
  enc.U32(static_cast<uint32_t>(days.size()));
  for (int32_t d : days) enc.U32(static_cast<uint32_t>(d));
}

bool DecodeDays(Decoder& dec, std::vector<int32_t>& days) {
  uint32_t n = 0;
  if (!dec.U32(n) || n > CustomerCounters::kMaxDays) return false;
  days.resize(n);
  for (uint32_t i = 0; i < n; ++i) {
    uint32_t d = 0;
    if (!dec.U32(d)) return false;
    days[i] = static_cast<int32_t>(d);
  }
  return true;
}

void EncodeCustomer(Encoder& enc, const CustomerCounters& c) {
  for (int64_t v : {c.sessions, c.buying_sessions, c.events, c.views, c.carts, c.purchases,
                    c.first_ms, c.last_ms, c.last_purchase_ms}) {
    enc.I64(v);
  }
  enc.F64(c.monetary);
  EncodeDays(enc, c.purchase_days);
  EncodeDays(enc, c.session_days);
}

bool DecodeCustomer(Decoder& dec, CustomerCounters& c) {
  for (int64_t* v : {&c.sessions, &c.buying_sessions, &c.events, &c.views, &c.carts, &c.purchases,
                     &c.first_ms, &c.last_ms, &c.last_purchase_ms}) {
    if (!dec.I64(*v)) return false;
  }
  return dec.F64(c.monetary) && DecodeDays(dec, c.purchase_days) && DecodeDays(dec, c.session_days);
}

// ---------------------------------------------------------------- in-memory state

struct SessionState {
  std::string key, user_id, session_id;
  std::vector<std::string> users;  // every non-empty user whose events joined (usually one)
  SessionCounters counters;
  std::deque<SessionEvent> events;  // sorted by ts_ms, ties in arrival order; newest kept
};

struct UserState {
  CustomerCounters customer;
  std::unordered_set<std::string> sessions;     // keys of the user's sessions in memory
  std::multimap<int64_t, std::string> derived;  // first_ms -> key of derived sessions
};

}  // namespace

struct SessionTracker::State {
  explicit State(const TrackerOptions& o) : options(o) {}
  ~State() {
    if (journal_fd >= 0) ::close(journal_fd);
    if (lock_fd >= 0) ::close(lock_fd);  // releases the flock
  }

  const TrackerOptions options;
  fs::path dir, journal_path, snapshot_path;

  // Lock order: writer_mu before mu. Writers (Observe, Checkpoint, ExpireIdle)
  // hold writer_mu for their whole call, so the journal is appended without
  // blocking readers; they take mu exclusively only to apply.
  std::mutex writer_mu;
  mutable std::shared_mutex mu;

  // GUARDED_BY(mu)
  std::unordered_map<std::string, SessionState> sessions;
  std::unordered_map<std::string, UserState> users;
  int64_t watermark_ms = 0;  // newest event time seen
  int64_t clock_ms = 0;      // newest now_ms given to ExpireIdle
  int64_t events_observed = 0, replayed_events = 0;
  int64_t source_position = 0;  // newest position in the event source (the store's event id) applied
  bool dropped_torn_tail = false;

  // GUARDED_BY(writer_mu)
  uint64_t next_seq = 1;  // sequence number of the next journal record
  int journal_fd = -1;
  int lock_fd = -1;
  int64_t events_since_checkpoint = 0;
  std::atomic<int64_t> journal_bytes{0};  // written under writer_mu, read anywhere

  bool persistent() const { return !options.dir.empty(); }
  int64_t Now() const { return std::max(watermark_ms, clock_ms); }
  bool IsOpen(const SessionState& s) const {
    return Now() - s.counters.last_ms <= options.session_timeout_ms;
  }

  SessionState* FindDerived(UserState& u, int64_t ts) {
    const int64_t timeout = options.session_timeout_ms;
    auto it = u.derived.upper_bound(ts + timeout);  // sessions starting <= ts + timeout
    for (int probe = 0; probe < kDerivedProbe && it != u.derived.begin(); ++probe) {
      --it;
      auto sit = sessions.find(it->second);
      if (sit == sessions.end()) continue;
      const SessionCounters& c = sit->second.counters;
      if (ts >= c.first_ms - timeout && ts <= c.last_ms + timeout) return &sit->second;
    }
    return nullptr;
  }

  void InsertEvent(SessionState& s, const SessionEvent& e) {
    auto& ev = s.events;
    if (ev.empty() || ev.back().ts_ms <= e.ts_ms) {
      ev.push_back(e);
    } else {
      auto pos = std::upper_bound(ev.begin(), ev.end(), e.ts_ms,
                                  [](int64_t ts, const SessionEvent& x) { return ts < x.ts_ms; });
      ev.insert(pos, e);
    }
    while (ev.size() > options.max_events) ev.pop_front();
  }

  // Applies one validated event; returns its session key. Deterministic given
  // the state, so journal replay rebuilds exactly what was acknowledged.
  std::string Apply(const TrackedEvent& t) {
    const SessionEvent& e = t.event;
    watermark_ms = std::max(watermark_ms, e.ts_ms);
    SessionState* s = nullptr;
    if (!t.session_id.empty()) {
      auto [it, inserted] = sessions.try_emplace(t.session_id);
      s = &it->second;
      if (inserted) {
        s->key = t.session_id;
        s->session_id = t.session_id;
      }
    } else {
      UserState& u = users[t.user_id];
      s = FindDerived(u, e.ts_ms);
      if (s == nullptr) {
        std::string key = fmt::format("u:{}:{}", t.user_id, e.ts_ms);
        if (sessions.count(key) != 0) {
          for (int n = 2;; ++n) {
            std::string alt = fmt::format("{}#{}", key, n);
            if (sessions.count(alt) == 0) {
              key = std::move(alt);
              break;
            }
          }
        }
        s = &sessions[key];
        s->key = key;
        u.derived.emplace(e.ts_ms, std::move(key));
      }
    }

    bool new_for_user = false;
    if (!t.user_id.empty() &&
        std::find(s->users.begin(), s->users.end(), t.user_id) == s->users.end()) {
      s->users.push_back(t.user_id);
      users[t.user_id].sessions.insert(s->key);
      if (s->user_id.empty()) s->user_id = t.user_id;
      new_for_user = true;
    }
    const bool first_purchase = e.type == store::EventType::kPurchase && s->counters.purchases == 0;
    const bool had_events = s->counters.events > 0;
    const int64_t old_first = s->counters.first_ms;
    s->counters.Add(e);
    InsertEvent(*s, e);
    if (s->session_id.empty() && had_events && s->counters.first_ms != old_first) {
      auto& derived = users[s->user_id].derived;
      auto [lo, hi] = derived.equal_range(old_first);
      for (auto it = lo; it != hi; ++it) {
        if (it->second == s->key) {
          derived.erase(it);
          break;
        }
      }
      derived.emplace(s->counters.first_ms, s->key);
    }
    if (!t.user_id.empty()) {
      users[t.user_id].customer.AddEvent(e, new_for_user, first_purchase);
    }
    ++events_observed;
    return s->key;
  }

  void DropSession(std::unordered_map<std::string, SessionState>::iterator it) {
    SessionState& s = it->second;
    for (const std::string& u : s.users) {
      auto uit = users.find(u);
      if (uit != users.end()) uit->second.sessions.erase(s.key);
    }
    if (s.session_id.empty()) {
      auto uit = users.find(s.user_id);
      if (uit != users.end()) {
        auto [lo, hi] = uit->second.derived.equal_range(s.counters.first_ms);
        for (auto d = lo; d != hi; ++d) {
          if (d->second == s.key) {
            uit->second.derived.erase(d);
            break;
          }
        }
      }
    }
    sessions.erase(it);
  }

  int64_t ApplyExpire(int64_t now_ms) {
    clock_ms = std::max(clock_ms, now_ms);
    int64_t dropped = 0;
    for (auto it = sessions.begin(); it != sessions.end();) {
      const int64_t idle = now_ms - it->second.counters.last_ms;
      if (idle > options.session_timeout_ms && idle > options.retain_closed_ms) {
        auto next = std::next(it);
        DropSession(it);
        it = next;
        ++dropped;
      } else {
        ++it;
      }
    }
    return dropped;
  }

  SessionSnapshot Snapshot(const SessionState& s) const {
    SessionSnapshot out;
    out.key = s.key;
    out.user_id = s.user_id;
    out.session_id = s.session_id;
    out.counters = s.counters;
    out.events.assign(s.events.begin(), s.events.end());
    out.open = IsOpen(s);
    return out;
  }

  // ---- persistence

  std::string EncodeState() const {
    Encoder enc;
    enc.I64(watermark_ms);
    enc.I64(clock_ms);
    enc.U64(next_seq);
    enc.U64(sessions.size());
    for (const auto& [key, s] : sessions) {
      enc.Str(s.key);
      enc.Str(s.user_id);
      enc.Str(s.session_id);
      enc.U32(static_cast<uint32_t>(s.users.size()));
      for (const std::string& u : s.users) enc.Str(u);
      EncodeCounters(enc, s.counters);
      enc.U32(static_cast<uint32_t>(s.events.size()));
      for (const SessionEvent& e : s.events) EncodeEvent(enc, e);
    }
    enc.U64(users.size());
    for (const auto& [id, u] : users) {
      enc.Str(id);
      EncodeCustomer(enc, u.customer);
      enc.U32(static_cast<uint32_t>(u.sessions.size()));
      for (const std::string& k : u.sessions) enc.Str(k);
      enc.U32(static_cast<uint32_t>(u.derived.size()));
      for (const auto& [first, k] : u.derived) {
        enc.I64(first);
        enc.Str(k);
      }
    }
    enc.I64(source_position);  // trailing: snapshots written before it lack it (= 0)
    return std::move(enc.bytes());
  }

  // False when the payload is malformed (offset in dec).
  bool DecodeState(Decoder& dec) {
    uint64_t n_sessions = 0;
    if (!dec.I64(watermark_ms) || !dec.I64(clock_ms) || !dec.U64(next_seq) ||
        !dec.U64(n_sessions)) {
      return false;
    }
    for (uint64_t i = 0; i < n_sessions; ++i) {
      SessionState s;
      uint32_t n_users = 0, n_events = 0;
      if (!dec.Str(s.key) || !dec.Str(s.user_id) || !dec.Str(s.session_id) || !dec.U32(n_users)) {
        return false;
      }
      for (uint32_t j = 0; j < n_users; ++j) {
        std::string u;
        if (!dec.Str(u)) return false;
        s.users.push_back(std::move(u));
      }
      if (!DecodeCounters(dec, s.counters) || !dec.U32(n_events)) return false;
      for (uint32_t j = 0; j < n_events; ++j) {
        SessionEvent e;
        if (!DecodeEvent(dec, e)) return false;
        s.events.push_back(std::move(e));
      }
      std::string key = s.key;
      if (!sessions.emplace(std::move(key), std::move(s)).second) return false;
    }
    uint64_t n_users = 0;
    if (!dec.U64(n_users)) return false;
    for (uint64_t i = 0; i < n_users; ++i) {
      std::string id;
      UserState u;
      uint32_t n_sess = 0, n_derived = 0;
      if (!dec.Str(id) || !DecodeCustomer(dec, u.customer) || !dec.U32(n_sess)) return false;
      for (uint32_t j = 0; j < n_sess; ++j) {
        std::string k;
        if (!dec.Str(k)) return false;
        u.sessions.insert(std::move(k));
      }
      if (!dec.U32(n_derived)) return false;
      for (uint32_t j = 0; j < n_derived; ++j) {
        int64_t first = 0;
        std::string k;
        if (!dec.I64(first) || !dec.Str(k)) return false;
        u.derived.emplace(first, std::move(k));
      }
      if (!users.emplace(std::move(id), std::move(u)).second) return false;
    }
    if (!dec.done() && !dec.I64(source_position)) return false;
    return dec.done();
  }

  Status LoadSnapshot() {
    std::error_code ec;
    if (!fs::exists(snapshot_path, ec)) return OkStatus();
    ASSIGN_OR_RETURN(std::string data, ReadWholeFile(snapshot_path));
    const std::string where = snapshot_path.string();
    constexpr size_t kPrefix = internal::kFileHeaderBytes + 16;
    if (data.size() < kPrefix) {
      return DataLossError(
          fmt::format("session snapshot {}: truncated header ({} bytes)", where, data.size()));
    }
    if (std::memcmp(data.data(), internal::kSnapshotMagic, 8) != 0) {
      return DataLossError(
          fmt::format("session snapshot {}: bad magic at byte offset 0 (not a snapshot)", where));
    }
    Decoder head(std::string_view(data).substr(8, kPrefix - 8));
    uint32_t version = 0, reserved = 0;
    uint64_t len = 0, check = 0;
    (void)(head.U32(version) && head.U32(reserved) && head.U64(len) && head.U64(check));
    if (version != internal::kSnapshotVersion) {
      return DataLossError(fmt::format(
          "session snapshot {}: unsupported format version {} at byte offset 8 (this build "
          "reads version {})",
          where, version, internal::kSnapshotVersion));
    }
    if (len != data.size() - kPrefix) {
      return DataLossError(fmt::format(
          "session snapshot {}: payload length {} at byte offset 16 but {} bytes follow", where,
          len, data.size() - kPrefix));
    }
    const std::string_view payload = std::string_view(data).substr(kPrefix);
    if (Fnv1a64(payload) != check) {
      return DataLossError(
          fmt::format("session snapshot {}: checksum mismatch of the payload at byte offset {}",
                      where, kPrefix));
    }
    Decoder dec(payload);
    if (!DecodeState(dec)) {
      return DataLossError(fmt::format("session snapshot {}: malformed payload at byte offset {}",
                                       where, kPrefix + dec.offset()));
    }
    return OkStatus();
  }

  // Applies one checksummed journal record found at `offset`.
  Status ReplayRecord(std::string_view payload, int64_t offset) {
    const std::string where = journal_path.string();
    Decoder dec(payload);
    uint64_t seq = 0;
    uint8_t kind = 0;
    auto malformed = [&] {
      return DataLossError(
          fmt::format("session journal {}: malformed record at byte offset {}", where, offset));
    };
    if (!dec.U64(seq) || !dec.U8(kind)) return malformed();
    if (seq < next_seq) return OkStatus();  // already in the snapshot
    if (kind == internal::kRecordBatch || kind == internal::kRecordBatchAt) {
      int64_t position = 0;
      if (kind == internal::kRecordBatchAt && !dec.I64(position)) return malformed();
      source_position = std::max(source_position, position);
      uint32_t n = 0;
      if (!dec.U32(n)) return malformed();
      std::vector<TrackedEvent> batch;
      for (uint32_t i = 0; i < n; ++i) {
        TrackedEvent t;
        if (!dec.Str(t.user_id) || !dec.Str(t.session_id) || !DecodeEvent(dec, t.event)) {
          return malformed();
        }
        batch.push_back(std::move(t));
      }
      if (!dec.done()) return malformed();
      for (size_t i = 0; i < batch.size(); ++i) {
        if (Status s = ValidateEvent(batch[i], i); !s.ok()) {
          return DataLossError(fmt::format("session journal {}: record at byte offset {}: {}",
                                           where, offset, s.message()));
        }
      }
      for (const TrackedEvent& t : batch) Apply(t);
      replayed_events += static_cast<int64_t>(batch.size());
      events_since_checkpoint += static_cast<int64_t>(batch.size());
    } else if (kind == internal::kRecordExpire) {
      int64_t now_ms = 0;
      if (!dec.I64(now_ms) || !dec.done()) return malformed();
      ApplyExpire(now_ms);
    } else {
      return malformed();
    }
    next_seq = seq + 1;
    return OkStatus();
  }

  Status CreateJournal() {
    const std::string header = FileHeader(internal::kJournalMagic, internal::kJournalVersion);
    if (::ftruncate(journal_fd, 0) != 0) return ErrnoStatus("cannot truncate", journal_path, errno);
    RETURN_IF_ERROR(PwriteAll(journal_fd, header, 0, journal_path));
    if (::fsync(journal_fd) != 0) return ErrnoStatus("cannot fsync", journal_path, errno);
    RETURN_IF_ERROR(FsyncDir(dir));
    journal_bytes = static_cast<int64_t>(header.size());
    return OkStatus();
  }

  Status DropTornTail(int64_t offset, std::string_view why) {
    const std::string where = journal_path.string();
    spdlog::warn(
        "session journal {}: dropping a torn last record at byte offset {} ({}); it was "
        "never acknowledged",
        where, offset, why);
    if (::ftruncate(journal_fd, static_cast<off_t>(offset)) != 0) {
      return ErrnoStatus("cannot truncate", journal_path, errno);
    }
    if (::fsync(journal_fd) != 0) return ErrnoStatus("cannot fsync", journal_path, errno);
    journal_bytes = offset;
    dropped_torn_tail = true;
    return OkStatus();
  }

  Status OpenAndReplayJournal() {
    journal_fd = ::open(journal_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (journal_fd < 0) return ErrnoStatus("cannot open", journal_path, errno);
    ASSIGN_OR_RETURN(std::string data, ReadWholeFile(journal_path));
    const std::string where = journal_path.string();
    const size_t kHead = internal::kFileHeaderBytes;
    if (data.size() < kHead) {
      // Empty (new) or a header torn by a crash at creation: nothing was acknowledged.
      const size_t cmp = std::min<size_t>(data.size(), 8);
      if (std::memcmp(data.data(), internal::kJournalMagic, cmp) != 0) {
        return DataLossError(
            fmt::format("session journal {}: bad magic at byte offset 0 (not a journal)", where));
      }
      if (!data.empty()) {
        spdlog::warn("session journal {}: torn file header ({} bytes), starting it again", where,
                     data.size());
        dropped_torn_tail = true;
      }
      return CreateJournal();
    }
    if (std::memcmp(data.data(), internal::kJournalMagic, 8) != 0) {
      return DataLossError(
          fmt::format("session journal {}: bad magic at byte offset 0 (not a journal)", where));
    }
    {
      Decoder head(std::string_view(data).substr(8, 8));
      uint32_t version = 0;
      (void)head.U32(version);
      if (version != internal::kJournalVersion) {
        return DataLossError(fmt::format(
            "session journal {}: unsupported format version {} at byte offset 8 (this build "
            "reads version {})",
            where, version, internal::kJournalVersion));
      }
    }
    size_t off = kHead;
    journal_bytes = static_cast<int64_t>(data.size());
    while (off < data.size()) {
      const size_t rem = data.size() - off;
      if (rem < internal::kRecordHeaderBytes) {
        return DropTornTail(static_cast<int64_t>(off), "partial record header");
      }
      Decoder head(std::string_view(data).substr(off, internal::kRecordHeaderBytes));
      uint32_t len = 0, len_check = 0;
      uint64_t check = 0;
      (void)(head.U32(len) && head.U32(len_check) && head.U64(check));
      if (len_check != LengthCheck(len) || len > internal::kMaxRecordBytes) {
        const bool all_zero = std::all_of(data.begin() + static_cast<std::ptrdiff_t>(off),
                                          data.end(), [](char c) { return c == 0; });
        if (all_zero) return DropTornTail(static_cast<int64_t>(off), "zero-filled tail");
        return DataLossError(
            fmt::format("session journal {}: corrupt record header at byte offset {}", where, off));
      }
      if (len > rem - internal::kRecordHeaderBytes) {
        return DropTornTail(static_cast<int64_t>(off), "partial record");
      }
      const std::string_view payload =
          std::string_view(data).substr(off + internal::kRecordHeaderBytes, len);
      const size_t end = off + internal::kRecordHeaderBytes + len;
      if (Fnv1a64(payload) != check) {
        if (end == data.size()) {
          return DropTornTail(static_cast<int64_t>(off), "checksum mismatch in the last record");
        }
        return DataLossError(fmt::format(
            "session journal {}: checksum mismatch in the record at byte offset {} ({} more "
            "bytes follow it)",
            where, off, data.size() - end));
      }
      RETURN_IF_ERROR(ReplayRecord(payload, static_cast<int64_t>(off)));
      off = end;
    }
    return OkStatus();
  }

  // Appends one record (payload starts with its sequence number) and, when
  // options.sync, makes it durable. On failure the journal is cut back.
  Status AppendRecord(std::string_view payload) {
    if (payload.size() > internal::kMaxRecordBytes) {
      return InvalidArgumentError(
          fmt::format("batch too large for one journal record ({} bytes, max {})", payload.size(),
                      internal::kMaxRecordBytes));
    }
    Encoder rec;
    const auto len = static_cast<uint32_t>(payload.size());
    rec.U32(len);
    rec.U32(LengthCheck(len));
    rec.U64(Fnv1a64(payload));
    rec.Raw(payload.data(), payload.size());
    const int64_t at = journal_bytes;
    Status s = PwriteAll(journal_fd, rec.bytes(), at, journal_path);
    if (s.ok() && options.sync && ::fdatasync(journal_fd) != 0) {
      s = ErrnoStatus("cannot fdatasync", journal_path, errno);
    }
    if (!s.ok()) {
      if (::ftruncate(journal_fd, static_cast<off_t>(at)) != 0) {
        spdlog::error("session journal {}: cannot cut back to {} bytes after a failed append: {}",
                      journal_path.string(), at, std::strerror(errno));
      }
      return s;
    }
    journal_bytes = at + static_cast<int64_t>(rec.bytes().size());
    return OkStatus();
  }

  // Requires writer_mu.
  Status CheckpointLocked() {
    if (!persistent()) return OkStatus();
    std::string payload;
    {
      std::shared_lock lock(mu);
      payload = EncodeState();
    }
    std::string file = FileHeader(internal::kSnapshotMagic, internal::kSnapshotVersion);
    {
      Encoder enc;
      enc.U64(payload.size());
      enc.U64(Fnv1a64(payload));
      file += enc.bytes();
    }
    file += payload;
    const fs::path tmp = snapshot_path.string() + ".tmp";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return ErrnoStatus("cannot create", tmp, errno);
    Status s = PwriteAll(fd, file, 0, tmp);
    if (s.ok() && ::fsync(fd) != 0) s = ErrnoStatus("cannot fsync", tmp, errno);
    ::close(fd);
    if (s.ok() && ::rename(tmp.c_str(), snapshot_path.c_str()) != 0) {
      s = ErrnoStatus("cannot rename onto " + snapshot_path.string(), tmp, errno);
    }
    if (!s.ok()) {
      std::error_code ec;
      fs::remove(tmp, ec);
      return s;
    }
    RETURN_IF_ERROR(FsyncDir(dir));
    // The snapshot holds every record below next_seq: replay would skip them even
    // if the truncation below did not happen.
    if (::ftruncate(journal_fd, static_cast<off_t>(internal::kFileHeaderBytes)) != 0) {
      return ErrnoStatus("cannot truncate", journal_path, errno);
    }
    if (::fsync(journal_fd) != 0) return ErrnoStatus("cannot fsync", journal_path, errno);
    journal_bytes = static_cast<int64_t>(internal::kFileHeaderBytes);
    events_since_checkpoint = 0;
    return OkStatus();
  }

  Status OpenFiles() {
    dir = fs::path(options.dir);
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) {
      return UnavailableError(fmt::format("cannot create {}: {}", dir.string(), ec.message()));
    }
    const fs::path lock_path = dir / internal::kLockFile;
    lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lock_fd < 0) return ErrnoStatus("cannot open", lock_path, errno);
    if (::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
      if (errno == EWOULDBLOCK) {
        return FailedPreconditionError(fmt::format(
            "{} is in use by another SessionTracker (lock {})", dir.string(), lock_path.string()));
      }
      return ErrnoStatus("cannot lock", lock_path, errno);
    }
    journal_path = dir / internal::kJournalFile;
    snapshot_path = dir / internal::kSnapshotFile;
    fs::remove(snapshot_path.string() + ".tmp", ec);  // a checkpoint cut short by a crash
    RETURN_IF_ERROR(LoadSnapshot());
    RETURN_IF_ERROR(OpenAndReplayJournal());
    events_observed = replayed_events;
    return OkStatus();
  }
};

// ---------------------------------------------------------------- public API

StatusOr<std::unique_ptr<SessionTracker>> SessionTracker::Open(const TrackerOptions& options) {
  RETURN_IF_ERROR(ValidateOptions(options));
  auto state = std::make_unique<State>(options);
  if (state->persistent()) RETURN_IF_ERROR(state->OpenFiles());
  return std::unique_ptr<SessionTracker>(new SessionTracker(std::move(state)));
}

SessionTracker::SessionTracker(std::unique_ptr<State> state) : state_(std::move(state)) {}
SessionTracker::~SessionTracker() = default;

StatusOr<std::vector<std::string>> SessionTracker::Observe(std::span<const TrackedEvent> batch) {
  return Observe(batch, -1);
}

int64_t SessionTracker::source_position() const {
  std::shared_lock lock(state_->mu);
  return state_->source_position;
}

StatusOr<std::vector<std::string>> SessionTracker::Observe(std::span<const TrackedEvent> batch,
                                                           int64_t source_position) {
  for (size_t i = 0; i < batch.size(); ++i) RETURN_IF_ERROR(ValidateEvent(batch[i], i));
  std::vector<std::string> keys;
  if (batch.empty() && source_position < 0) return keys;
  State& st = *state_;
  std::lock_guard writer(st.writer_mu);
  if (st.persistent()) {
    Encoder enc;
    enc.U64(st.next_seq);
    if (source_position >= 0) {
      enc.U8(internal::kRecordBatchAt);
      enc.I64(source_position);
    } else {
      enc.U8(internal::kRecordBatch);
    }
    enc.U32(static_cast<uint32_t>(batch.size()));
    for (const TrackedEvent& t : batch) {
      enc.Str(t.user_id);
      enc.Str(t.session_id);
      EncodeEvent(enc, t.event);
    }
    RETURN_IF_ERROR(st.AppendRecord(enc.bytes()));
  }
  ++st.next_seq;
  keys.reserve(batch.size());
  {
    std::unique_lock lock(st.mu);
    for (const TrackedEvent& t : batch) keys.push_back(st.Apply(t));
    if (source_position >= 0) st.source_position = std::max(st.source_position, source_position);
  }
  st.events_since_checkpoint += static_cast<int64_t>(batch.size());
  if (st.persistent() && st.options.checkpoint_every > 0 &&
      st.events_since_checkpoint >= st.options.checkpoint_every) {
    // The batch is already durable in the journal; a failed checkpoint is retried later.
    if (Status s = st.CheckpointLocked(); !s.ok()) {
      spdlog::warn("session tracker: automatic checkpoint failed: {}", s.ToString());
    }
  }
  return keys;
}

std::optional<SessionSnapshot> SessionTracker::Session(const std::string& key) const {
  const State& st = *state_;
  std::shared_lock lock(st.mu);
  auto it = st.sessions.find(key);
  if (it == st.sessions.end()) return std::nullopt;
  return st.Snapshot(it->second);
}

std::optional<SessionSnapshot> SessionTracker::LatestSessionOf(const std::string& user_id) const {
  const State& st = *state_;
  std::shared_lock lock(st.mu);
  auto uit = st.users.find(user_id);
  if (uit == st.users.end()) return std::nullopt;
  const SessionState* best = nullptr;
  for (const std::string& key : uit->second.sessions) {
    auto it = st.sessions.find(key);
    if (it == st.sessions.end()) continue;
    const SessionState& s = it->second;
    if (best == nullptr ||
        std::tie(s.counters.last_ms, s.counters.first_ms, s.key) >
            std::tie(best->counters.last_ms, best->counters.first_ms, best->key)) {
      best = &s;
    }
  }
  if (best == nullptr) return std::nullopt;
  return st.Snapshot(*best);
}

std::optional<CustomerCounters> SessionTracker::Customer(const std::string& user_id) const {
  const State& st = *state_;
  std::shared_lock lock(st.mu);
  auto it = st.users.find(user_id);
  if (it == st.users.end() || it->second.customer.events == 0) return std::nullopt;
  return it->second.customer;
}

int64_t SessionTracker::ExpireIdle(int64_t now_ms) {
  State& st = *state_;
  now_ms = std::clamp<int64_t>(now_ms, 0, kMaxTimestampMs);
  std::lock_guard writer(st.writer_mu);
  {
    std::shared_lock lock(st.mu);
    if (now_ms <= st.clock_ms) {
      // Nothing can have changed since the last call with a later time... unless
      // new events came; check cheaply whether anything would be dropped.
      bool any = false;
      for (const auto& [key, s] : st.sessions) {
        const int64_t idle = now_ms - s.counters.last_ms;
        if (idle > st.options.session_timeout_ms && idle > st.options.retain_closed_ms) {
          any = true;
          break;
        }
      }
      if (!any) return 0;
    }
  }
  if (st.persistent()) {
    Encoder enc;
    enc.U64(st.next_seq);
    enc.U8(internal::kRecordExpire);
    enc.I64(now_ms);
    if (Status s = st.AppendRecord(enc.bytes()); !s.ok()) {
      spdlog::error("session tracker: ExpireIdle not applied, journal append failed: {}",
                    s.ToString());
      return 0;
    }
  }
  ++st.next_seq;
  std::unique_lock lock(st.mu);
  return st.ApplyExpire(now_ms);
}

StatusOr<int64_t> SessionTracker::ForgetUser(const std::string& user_id) {
  if (user_id.empty()) return InvalidArgumentError("ForgetUser: empty user id");
  State& st = *state_;
  std::lock_guard writer(st.writer_mu);
  int64_t removed = 0;
  {
    std::unique_lock lock(st.mu);
    auto uit = st.users.find(user_id);
    if (uit == st.users.end()) return int64_t{0};
    for (const std::string& key : uit->second.sessions) {
      auto sit = st.sessions.find(key);
      if (sit == st.sessions.end()) continue;
      SessionState& ss = sit->second;
      std::erase(ss.users, user_id);
      if (ss.users.empty() || ss.user_id == user_id) {
        // The session's events are the user's: drop the whole session.
        st.sessions.erase(sit);
        ++removed;
      }
    }
    st.users.erase(uit);
  }
  // A snapshot without the user replaces the journal that still holds its events.
  RETURN_IF_ERROR(st.CheckpointLocked());
  return removed;
}

Status SessionTracker::Checkpoint() {
  std::lock_guard writer(state_->writer_mu);
  return state_->CheckpointLocked();
}

TrackerStats SessionTracker::Stats() const {
  const State& st = *state_;
  std::shared_lock lock(st.mu);
  TrackerStats out;
  for (const auto& [key, s] : st.sessions) {
    if (st.IsOpen(s)) ++out.sessions_open;
  }
  out.sessions_kept = static_cast<int64_t>(st.sessions.size());
  out.users = static_cast<int64_t>(st.users.size());
  out.events_observed = st.events_observed;
  out.journal_bytes = st.journal_bytes;
  out.replayed_events = st.replayed_events;
  out.dropped_torn_tail = st.dropped_torn_tail;
  return out;
}

}  // namespace souk::online
