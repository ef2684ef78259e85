// A/B experiments: the experiment specification, its validation and JSON form,
// and deterministic assignment of users to variants.
//
// An experiment splits the users of one surface ("search", "recommend" or
// "any") into two or more variants by configured shares. Each variant carries an
// opaque JSON `config` that the server interprets (e.g. {"pipeline": "home_v2"}).
// Assignment is a pure function of (experiment name, user id): the same user
// always lands in the same variant, and different experiments split users
// independently of each other.
//
// Thread-safety: everything here is a value or a pure function; safe to use
// from any number of threads.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace souk::experiment {

// Limits that keep specs small and names safe for URLs and file names.
inline constexpr size_t kMaxNameLength = 64;           // experiment and variant names
inline constexpr size_t kMaxDescriptionLength = 4096;  // bytes
inline constexpr size_t kMaxVariants = 32;
inline constexpr double kShareTolerance = 1e-6;  // |sum(shares) - 1| allowed

struct Variant {
  std::string name;  // [a-z0-9][a-z0-9_-]{0,63}, unique within the experiment
  double share = 0;  // fraction of users in (0, 1]; all shares sum to 1
  nlohmann::json config = nlohmann::json::object();  // opaque to this module; a JSON object
};

struct ExperimentSpec {
  std::string name;                // [a-z0-9][a-z0-9_-]{0,63}
  std::string description;         // free text, at most kMaxDescriptionLength bytes
  std::string surface = "any";     // "search" | "recommend" | "any"
  std::vector<Variant> variants;   // 2..kMaxVariants, unique names, shares > 0 summing to 1
  std::string control;             // a variant name; empty means the first variant
  std::string status = "running";  // "running" | "stopped"
  int64_t created_ms = 0;          // Unix ms; 0 = not yet created (the store fills it)
  int64_t stopped_ms = 0;          // Unix ms; 0 while running
};

// True for names matching [a-z0-9][a-z0-9_-]{0,63}.
bool IsValidName(std::string_view name);

// Checks every field. Errors (InvalidArgument) name the field path, e.g.
// "variants[1].share: must be > 0, got -0.2" or "control: 'x' is not a variant".
Status ValidateSpec(const ExperimentSpec& spec);

// The control variant's name: `spec.control`, or the first variant's name when
// it is empty ("" when there are no variants).
const std::string& ControlName(const ExperimentSpec& spec);

// Index of the variant called `name` in spec.variants, or -1.
int FindVariant(const ExperimentSpec& spec, std::string_view name);

// Parses the body of POST /v1/experiments (and the stored form written by
// SpecToJson). Fields:
//   name (string, required), description (string), surface (string, default
//   "any"), variants (array, required) of {name (string, required), share
//   (number, required), config (object, default {})}, control (string, default
//   the first variant), status ("running"|"stopped", default "running"),
//   created_ms / stopped_ms (non-negative integers, default 0).
// Shares are either fractions summing to 1 (within 1e-6) or integer
// percentages summing to exactly 100, which are divided by 100. Anything else
// (e.g. weights 1:3) is rejected rather than silently normalized.
// Unknown fields are an error naming them (typo safety). The result is
// validated with ValidateSpec and has `control` filled in.
// Errors: InvalidArgument naming the JSON path ("variants[0].name: must be a string").
StatusOr<ExperimentSpec> SpecFromJson(const nlohmann::json& j);

// The JSON form of a spec (all fields, `control` filled in); SpecFromJson reads it back.
nlohmann::json SpecToJson(const ExperimentSpec& spec);

// The user's point in [0, 1): the first 8 bytes (big-endian) of
// SHA-256(experiment + "\n" + user_id), divided by 2^64. Cost: one SHA-256 of a
// short string (~0.3 us).
double AssignmentPoint(std::string_view experiment, std::string_view user_id);

// The variant of `user_id` in `spec`: the first variant whose cumulative share
// exceeds AssignmentPoint(spec.name, user_id) (the last variant absorbs rounding).
// Returns "" for an empty user id (not assigned) or a spec without variants.
// Deterministic: it never changes for a given name, variant list and user.
std::string Assign(const ExperimentSpec& spec, std::string_view user_id);

}  // namespace souk::experiment
