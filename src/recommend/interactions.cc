#include "recommend/interactions.h"

#include <algorithm>
#include <numeric>

namespace souk::recommend {

int32_t InteractionData::AddItem(ItemInfo info) {
  int32_t index = num_items();
  item_index_.emplace(info.external_id, index);
  items_.push_back(std::move(info));
  return index;
}

int32_t InteractionData::AddUser(std::string external_id) {
  int32_t index = num_users();
  user_index_.emplace(external_id, index);
  user_ids_.push_back(std::move(external_id));
  return index;
}

int32_t InteractionData::SessionIndex(std::string_view key) {
  auto it = session_index_.find(std::string(key));
  if (it != session_index_.end()) return it->second;
  int32_t index = num_sessions();
  session_index_.emplace(std::string(key), index);
  session_keys_.emplace_back(key);
  return index;
}

Status InteractionData::Add(const Interaction& x) {
  if (finalized_) return FailedPreconditionError("InteractionData::Add after Finalize()");
  if (x.user < 0 || x.user >= num_users()) {
    return InvalidArgumentError("interaction user " + std::to_string(x.user) +
                                " is out of range [0, " + std::to_string(num_users()) + ")");
  }
  if (x.item < 0 || x.item >= num_items()) {
    return InvalidArgumentError("interaction item " + std::to_string(x.item) +
                                " is out of range [0, " + std::to_string(num_items()) + ")");
  }
  interactions_.push_back(x);
  max_ts_ = std::max(max_ts_, x.timestamp_ms);
  return OkStatus();
}

void InteractionData::Finalize() {
  if (finalized_) return;
  std::stable_sort(interactions_.begin(), interactions_.end(),
                   [](const Interaction& a, const Interaction& b) {
                     return a.timestamp_ms < b.timestamp_ms;
                   });
  user_offsets_.assign(static_cast<size_t>(num_users()) + 1, 0);
  for (const Interaction& x : interactions_) ++user_offsets_[x.user + 1];
  std::partial_sum(user_offsets_.begin(), user_offsets_.end(), user_offsets_.begin());
  by_user_.resize(interactions_.size());
  std::vector<int64_t> fill(user_offsets_.begin(), user_offsets_.end() - 1);
  for (const Interaction& x : interactions_) by_user_[fill[x.user]++] = x;
  finalized_ = true;
}

std::span<const Interaction> InteractionData::UserHistory(int32_t user) const {
  if (!finalized_ || user < 0 || user >= num_users()) return {};
  return std::span<const Interaction>(by_user_.data() + user_offsets_[user],
                                      by_user_.data() + user_offsets_[user + 1]);
}

std::optional<int32_t> InteractionData::FindItem(std::string_view external_id) const {
  auto it = item_index_.find(std::string(external_id));
  if (it == item_index_.end()) return std::nullopt;
  return it->second;
}

std::optional<int32_t> InteractionData::FindUser(std::string_view external_id) const {
  auto it = user_index_.find(std::string(external_id));
  if (it == user_index_.end()) return std::nullopt;
  return it->second;
}

std::vector<HistoryEvent> HistoryOf(const InteractionData& data, int32_t user) {
  std::vector<HistoryEvent> out;
  for (const Interaction& x : data.UserHistory(user)) {
    out.push_back({.item = x.item, .type = x.type, .timestamp_ms = x.timestamp_ms,
                   .quantity = x.quantity});
  }
  return out;
}

float ImplicitWeight(EventType type, float value) {
  switch (type) {
    case EventType::kPurchase: return 4.0f;
    case EventType::kAddToCart: return 3.0f;
    case EventType::kRating: return std::max(value - 2.0f, 1.0f);
    case EventType::kClick: return 1.5f;
    case EventType::kView: return 1.0f;
    default: return 0.0f;
  }
}

}  // namespace souk::recommend
