// InteractionData from a store snapshot (what `souk train recommender` fits
// on), and its on-disk form inside a recommender model folder (the sources are
// loaded against exactly the data they were fitted on).
//
//   ASSIGN_OR_RETURN(auto snap, store->OpenSnapshot());
//   ASSIGN_OR_RETURN(InteractionData data, LoadInteractionData(*snap, {}, progress));
//
// Thread-safety: functions without shared state; the snapshot is used by one thread.
#pragma once

#include <cstdint>
#include <string>

#include "common/progress.h"
#include "common/status.h"
#include "recommend/interactions.h"
#include "store/store.h"

namespace souk::recommend {

struct StoreDataOptions {
  // Anonymous events with a session id become a pseudo-user "session:<id>" (their
  // co-occurrences still teach the sources); false drops anonymous events.
  bool anonymous_sessions_as_users = true;
  // Items that are only stubs (named by events, never in a catalog) are kept
  // when they have events (a recommendation needs no title); false drops them.
  bool keep_stub_items_with_events = true;
};

// Reads every non-deleted item (ItemInfo: title, brand, category, price, stock,
// created_at; text = title + brand + category + description), the users and the
// events whose type has ImplicitWeight > 0 (views, clicks, carts, purchases with
// their quantity, ratings with their value), with sessions; one pass over the
// items and one over the events, then Finalize(). Events of deleted or unknown
// items are skipped. Stub items are added only when an event names them (see
// options). Errors: the store's (DataLoss / Unavailable), with context.
// The ItemInfo LoadInteractionData makes of one stored item (its text = title +
// brand + category + the first 1000 characters of the description): the text
// the content source embeds, also for items newer than the model.
ItemInfo ItemInfoOf(const store::Item& item);

StatusOr<InteractionData> LoadInteractionData(store::Snapshot& snapshot,
                                              const StoreDataOptions& options = {},
                                              const ProgressOptions* progress = nullptr);

// Writes `data` (finalized) into `dir` (created): items.jsonl, users.txt,
// interactions.bin, data.json {format_version, counts}. Files are written
// atomically. Cost: linear; ~32 bytes per interaction.
Status WriteInteractionData(const InteractionData& data, const std::string& dir);
// Reads what WriteInteractionData wrote (finalized). NotFound / DataLoss naming
// the file on a missing or damaged folder.
StatusOr<InteractionData> ReadInteractionData(const std::string& dir);

}  // namespace souk::recommend
