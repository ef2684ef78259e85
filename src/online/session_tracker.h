// SessionTracker: assembles live sessions from incoming events, keeps per-session
// and per-user counters in memory, and persists them so that a restart loses
// nothing that was acknowledged.
//
//   Observe(batch)  -> journal append (+ fsync) -> apply to memory -> OK
//                      (a batch is acknowledged only when Observe returns OK)
//   Checkpoint()    -> snapshot file (temp + rename) -> journal truncated
//   Open(options)   -> load snapshot -> replay journal (a torn last record, from a
//                      crash mid-append, is dropped with a warning: it was never
//                      acknowledged; any other corruption is DataLoss naming the
//                      file and byte offset)
//
// Session assembly: an event with a session_id belongs to that session (client ids
// are authoritative). An event without one joins the user's open derived session
// when it comes within `session_timeout_ms` of that session's last event, else it
// starts a new one keyed "u:<user>:<first event ms>". Anonymous events without a
// session id are rejected (InvalidArgument naming the batch index). A session is
// open until it is idle for longer than the timeout (measured against the newest
// event time seen by the tracker, or `now_ms` given to ExpireIdle); idle sessions
// are kept for readers until `retain_closed_ms` after their last event, then
// dropped (their effect on the customer counters stays).
//
// Out-of-order events: accepted; the session's event list stays sorted by time and
// counters use non-negative gaps. Each session keeps its newest `max_events`
// events; counters count all of them.
//
// Thread-safety: all methods may be called concurrently (one internal
// shared_mutex: Observe/Checkpoint/ExpireIdle exclusive, readers shared).
// Cost: Observe O(batch * log(events per session)) plus one fsync per batch when
// `sync` is set; readers O(size of the copied snapshot).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"
#include "online/session.h"

namespace souk::online {

struct TrackedEvent {
  std::string user_id;     // "" anonymous (session_id then required)
  std::string session_id;  // "" = cut by inactivity
  SessionEvent event;
};

struct TrackerOptions {
  int64_t session_timeout_ms = 30 * 60 * 1000;
  int64_t retain_closed_ms = 24LL * 3600 * 1000;
  size_t max_events = 500;         // newest events kept per session (>= 1)
  std::string dir;                 // persistence folder ("" = memory only)
  bool sync = true;                // fsync the journal before acknowledging
  int64_t checkpoint_every = 200000;  // events between automatic checkpoints (0 = never)
};

struct TrackerStats {
  int64_t sessions_open = 0, sessions_kept = 0, users = 0;
  int64_t events_observed = 0;     // since Open (replayed ones included)
  int64_t journal_bytes = 0;
  int64_t replayed_events = 0;     // events re-applied from the journal at Open
  bool dropped_torn_tail = false;  // Open dropped a torn last journal record
};

class SessionTracker {
 public:
  // Creates the folder when missing. Errors: InvalidArgument for bad options,
  // DataLoss for a corrupt snapshot/journal (file and offset named), IO errors.
  static StatusOr<std::unique_ptr<SessionTracker>> Open(const TrackerOptions& options);
  ~SessionTracker();
  SessionTracker(const SessionTracker&) = delete;
  SessionTracker& operator=(const SessionTracker&) = delete;

  // Validates the whole batch first (nothing applied when one event is bad:
  // InvalidArgument "event 3: ..."), then journals and applies it.
  // Returns the session key of every event, in order.
  StatusOr<std::vector<std::string>> Observe(std::span<const TrackedEvent> batch);
  // The same, recording that the batch brings the tracker up to `source_position`
  // of its event source (the store's event id of the batch's last event), in the
  // same journal record: after a crash, source_position() says exactly which
  // source events the tracker has (a source re-feeds what came after it). An
  // empty batch only records the position. source_position < 0 = none.
  StatusOr<std::vector<std::string>> Observe(std::span<const TrackedEvent> batch, int64_t source_position);
  // The largest source position observed (0 = none).
  int64_t source_position() const;

  // A session by key (as returned by Observe, or a client session id).
  std::optional<SessionSnapshot> Session(const std::string& key) const;
  // The user's most recent session (open or kept), if any.
  std::optional<SessionSnapshot> LatestSessionOf(const std::string& user_id) const;
  std::optional<CustomerCounters> Customer(const std::string& user_id) const;

  // Marks sessions idle at `now_ms` as closed and drops those past retention.
  // Returns the number of sessions dropped.
  int64_t ExpireIdle(int64_t now_ms);
  // Writes a snapshot of everything and truncates the journal.
  Status Checkpoint();
  // Forgets a user (privacy): drops the user's customer counters and every
  // session whose events are theirs, then checkpoints, so neither memory nor
  // the files keep them once this returns. Returns the sessions dropped.
  StatusOr<int64_t> ForgetUser(const std::string& user_id);
  TrackerStats Stats() const;

 private:
  struct State;
  explicit SessionTracker(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace souk::online
