// IdMap: external string ids (item SKUs, user ids) <-> dense internal ids
// 0..size()-1, so models can use arrays instead of hash maps.
// Thread-safety: not thread-safe for writes; concurrent const reads are safe.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace souk {

using DenseId = uint32_t;
inline constexpr DenseId kInvalidDenseId = UINT32_MAX;

class IdMap {
 public:
  IdMap() = default;
  IdMap(const IdMap&) = delete;
  IdMap& operator=(const IdMap&) = delete;
  IdMap(IdMap&&) = default;
  IdMap& operator=(IdMap&&) = default;

  // Returns the dense id of `external`, assigning the next one if it is new.
  DenseId GetOrAdd(std::string_view external);
  // Returns the dense id or nullopt when unknown.
  std::optional<DenseId> Find(std::string_view external) const;
  // The external id of a dense id; precondition: id < size().
  const std::string& External(DenseId id) const { return names_[id]; }
  size_t size() const { return names_.size(); }
  void Reserve(size_t n) { index_.reserve(n); }

 private:
  std::deque<std::string> names_;  // stable addresses for the string_view keys
  std::unordered_map<std::string_view, DenseId> index_;
};

}  // namespace souk
