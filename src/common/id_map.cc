#include "common/id_map.h"

namespace souk {

DenseId IdMap::GetOrAdd(std::string_view external) {
  if (auto it = index_.find(external); it != index_.end()) return it->second;
  const auto id = static_cast<DenseId>(names_.size());
  names_.emplace_back(external);
  index_.emplace(names_.back(), id);
  return id;
}

std::optional<DenseId> IdMap::Find(std::string_view external) const {
  if (auto it = index_.find(external); it != index_.end()) return it->second;
  return std::nullopt;
}

}  // namespace souk
