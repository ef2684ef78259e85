// Internals of IntentModel exposed for its tests. Not part of the module's API.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace souk::rank::internal {

// Assigns every row a fold in [0, folds). Rows sharing a group value (one per
// row; empty = every row is its own group) get the same fold. Stratified on the
// minority class of `labels` (0/1): groups containing a minority row are dealt
// first, each to the fold with the fewest minority groups so far, then the rest
// to the fold with the fewest rows; ties go to the lower fold. The group order is
// a seeded shuffle, so the result is deterministic for a given seed.
// Requires folds >= 1 and groups.empty() || groups.size() == labels.size().
// Cost O(rows log rows + groups * folds).
std::vector<int> AssignFolds(std::span<const float> labels, std::span<const int64_t> groups,
                             int folds, uint64_t seed);

// Median of positive round counts (the mean of the middle two, rounded up, for an
// even count); 0 for an empty input.
int MedianRounds(std::vector<int> rounds);

}  // namespace souk::rank::internal
