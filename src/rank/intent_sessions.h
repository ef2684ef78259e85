// Labelled sessions from raw events: what the intent models train on
// (`souk train intent`) and what the intent evaluations score (eval/
// intent_protocols.h).
//
// Sessions are grouped by their session key; a session's events are ordered by
// time (input order breaks ties); the label is "the session contains a
// purchase"; the features see only the events before its first purchase (all of
// them when it has none); a session whose first event is a purchase is dropped.
// The customer history of a session is the user's events before the session's
// start. Sessions come out sorted by (start, key).
//
// Thread-safety: pure function. Cost: O(n log n) in the events.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "online/session.h"
#include "rank/intent_features.h"

namespace souk::rank {

// One event before sessions are assembled.
struct IntentRawEvent {
  std::string session;  // session key (required)
  std::string user;     // "" anonymous
  online::SessionEvent event;
};

struct IntentSessionData {
  std::vector<LabeledSession> sessions;  // sorted by (start, id)
  std::vector<std::string> ids;
  std::vector<int64_t> start_ms;
  int64_t rows = 0, bad_rows = 0;       // data rows read / skipped as malformed (readers)
  int64_t dropped_first_purchase = 0;   // sessions whose first event is a purchase
  int64_t unlabeled = 0;                // sessions without a label in `converted_override`
};

// `converted_override` (optional): session key -> label (e.g. a generator's
// ground truth); sessions missing from it are counted in `unlabeled` and dropped.
IntentSessionData BuildIntentSessions(
    std::vector<IntentRawEvent> events,
    const std::unordered_map<std::string, bool>* converted_override);

}  // namespace souk::rank
