// InteractionData: the shoppers' behavior as the recommenders learn from it --
// dense users and items, and one row per interaction (view, cart, purchase,
// rating, ...) in time order. Built from a store snapshot (the engine), from
// protocol files (souk eval rec), or by hand (tests); every CandidateSource fits
// on it, so the same code serves requests and offline evaluation.
//
//   InteractionData data;
//   data.AddItem({.external_id = "sku-1", .title = "..."});
//   data.AddUser("u1");
//   data.Add({.user = 0, .item = 0, .type = EventType::kPurchase, .timestamp_ms = t});
//   data.Finalize();            // sorts by time, builds per-user histories
//   for (const Interaction& x : data.UserHistory(0)) ...
//
// Thread-safety: after Finalize() every const method may run concurrently.
// Building (Add*) is single-threaded.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "store/types.h"

namespace souk::recommend {

using store::EventType;

// Catalog fields the recommenders use (content, filters, reasons).
struct ItemInfo {
  std::string external_id;
  std::string title;
  std::string brand;
  std::string category;            // path joined with " > " ("" = unknown)
  std::string text;                // text to embed for content similarity (title, brand,
                                   // category, description); "" = title
  std::optional<double> price;
  bool in_stock = true;            // unknown stock counts as in stock
  int64_t created_at_ms = 0;       // 0 = unknown
};

struct Interaction {
  int32_t user = -1;               // dense user, 0..num_users()-1
  int32_t item = -1;               // dense item, 0..num_items()-1
  EventType type = EventType::kView;
  int64_t timestamp_ms = 0;        // UTC ms; protocol files without time use the position
  int32_t session = -1;            // dense session (-1 = unknown)
  float quantity = 1;              // units (purchases), 1 when unknown
  float value = 0;                 // rating value (kRating)
};

class InteractionData {
 public:
  // Adds an item / user and returns its dense index. Ids are not de-duplicated
  // here: use FindItem/FindUser first when the source may repeat them.
  int32_t AddItem(ItemInfo info);
  int32_t AddUser(std::string external_id);
  // Adds an interaction. InvalidArgument naming the field when user or item is
  // out of range (or after Finalize()).
  Status Add(const Interaction& x);
  // Dense session id for an external session key (created on first use).
  int32_t SessionIndex(std::string_view key);

  // Sorts interactions by (timestamp, insertion order) and builds the per-user
  // index. Idempotent; Add after Finalize is an error.
  void Finalize();
  bool finalized() const { return finalized_; }

  int32_t num_items() const { return static_cast<int32_t>(items_.size()); }
  int32_t num_users() const { return static_cast<int32_t>(user_ids_.size()); }
  int32_t num_sessions() const { return static_cast<int32_t>(session_keys_.size()); }
  const ItemInfo& item(int32_t i) const { return items_[i]; }
  const std::vector<ItemInfo>& items() const { return items_; }
  ItemInfo& mutable_item(int32_t i) { return items_[i]; }
  const std::string& user_id(int32_t u) const { return user_ids_[u]; }
  std::optional<int32_t> FindItem(std::string_view external_id) const;
  std::optional<int32_t> FindUser(std::string_view external_id) const;

  // All interactions in time order (after Finalize).
  std::span<const Interaction> interactions() const { return interactions_; }
  // One user's interactions in time order (after Finalize); empty for an
  // out-of-range user.
  std::span<const Interaction> UserHistory(int32_t user) const;
  // Largest timestamp seen (0 when empty).
  int64_t max_timestamp_ms() const { return max_ts_; }

 private:
  std::vector<ItemInfo> items_;
  std::vector<std::string> user_ids_;
  std::unordered_map<std::string, int32_t> item_index_, user_index_, session_index_;
  std::vector<std::string> session_keys_;
  std::vector<Interaction> interactions_;   // time order after Finalize
  std::vector<Interaction> by_user_;        // grouped by user, time order within
  std::vector<int64_t> user_offsets_;       // num_users + 1
  int64_t max_ts_ = 0;
  bool finalized_ = false;
};

// An event of the request's live context (the user's or session's history as
// known at request time, newest last). Items are dense indices of the data the
// sources were fitted on; unknown items are dropped by the caller.
struct HistoryEvent {
  int32_t item = -1;
  EventType type = EventType::kView;
  int64_t timestamp_ms = 0;
  float quantity = 1;
};

// The user's events from `data` as HistoryEvents (time order).
std::vector<HistoryEvent> HistoryOf(const InteractionData& data, int32_t user);

// Weight of an event type as implicit feedback: purchase 4, add-to-cart 3,
// rating max(value-2, 1), click 1.5, view 1, others 0 (impressions, searches,
// removes, returns carry no positive signal).
float ImplicitWeight(EventType type, float value = 0);

}  // namespace souk::recommend
