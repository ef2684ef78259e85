#include "experiment/experiment.h"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <cmath>
#include <set>
#include <string>

#include "common/utf8.h"

namespace souk::experiment {
namespace {

bool IsNameChar(char c, bool first) {
  if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) return true;
  return !first && (c == '_' || c == '-');
}

// A short, printable rendering of user-provided text for error messages.
std::string Quote(std::string_view s) {
  constexpr size_t kMax = 80;
  std::string out = "'";
  for (size_t i = 0; i < s.size() && i < kMax; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  if (s.size() > kMax) out += "...";
  out += "'";
  return out;
}

std::string JsonTypeName(const nlohmann::json& j) {
  if (j.is_number()) return "number";
  return j.type_name();
}

Status FieldError(std::string_view path, std::string_view what) {
  return InvalidArgumentError(fmt::format("{}: {}", path, what));
}

Status CheckName(std::string_view path, std::string_view name) {
  if (!IsValidName(name)) {
    return FieldError(path,
                      fmt::format("must match [a-z0-9][a-z0-9_-]{{0,63}}, got {}", Quote(name)));
  }
  return OkStatus();
}

// Rejects any key of `obj` not in `allowed`, naming it and listing the known keys.
Status CheckKnownFields(const nlohmann::json& obj, std::string_view path,
                        std::initializer_list<std::string_view> allowed) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    bool known = false;
    for (std::string_view a : allowed) known = known || it.key() == a;
    if (!known) {
      std::string list;
      for (std::string_view a : allowed) {
        if (!list.empty()) list += ", ";
        list += a;
      }
      std::string field = path.empty() ? it.key() : fmt::format("{}.{}", path, it.key());
      return FieldError(field, fmt::format("unknown field (known fields: {})", list));
    }
  }
  return OkStatus();
}

Status GetString(const nlohmann::json& obj, std::string_view key, std::string_view path,
                 std::string* out) {
  auto it = obj.find(std::string(key));
  if (it == obj.end()) return OkStatus();
  if (!it->is_string()) {
    return FieldError(path, fmt::format("must be a string, got {}", JsonTypeName(*it)));
  }
  *out = it->get<std::string>();
  return OkStatus();
}

Status GetMillis(const nlohmann::json& obj, std::string_view key, int64_t* out) {
  auto it = obj.find(std::string(key));
  if (it == obj.end()) return OkStatus();
  const bool in_range = it->is_number_unsigned()
                            ? it->get<uint64_t>() <= static_cast<uint64_t>(INT64_MAX)
                            : it->is_number_integer() && it->get<int64_t>() >= 0;
  if (!in_range) {
    return FieldError(key,
                      fmt::format("must be a non-negative integer (Unix ms), got {}", it->dump()));
  }
  *out = it->get<int64_t>();
  return OkStatus();
}

}  // namespace

bool IsValidName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    if (!IsNameChar(name[i], i == 0)) return false;
  }
  return true;
}

const std::string& ControlName(const ExperimentSpec& spec) {
  static const std::string kEmpty;
  if (!spec.control.empty()) return spec.control;
  return spec.variants.empty() ? kEmpty : spec.variants.front().name;
}

int FindVariant(const ExperimentSpec& spec, std::string_view name) {
  for (size_t i = 0; i < spec.variants.size(); ++i) {
    if (spec.variants[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

Status ValidateSpec(const ExperimentSpec& spec) {
  RETURN_IF_ERROR(CheckName("name", spec.name));
  if (spec.description.size() > kMaxDescriptionLength) {
    return FieldError("description", fmt::format("must be at most {} bytes, got {}",
                                                 kMaxDescriptionLength, spec.description.size()));
  }
  if (const size_t bad = ValidateUtf8(spec.description); bad != std::string_view::npos) {
    return FieldError("description", fmt::format("is not valid UTF-8 (byte offset {})", bad));
  }
  if (spec.surface != "search" && spec.surface != "recommend" && spec.surface != "any") {
    return FieldError("surface", fmt::format("must be one of search, recommend, any; got {}",
                                             Quote(spec.surface)));
  }
  if (spec.variants.size() < 2) {
    return FieldError("variants",
                      fmt::format("need at least 2 variants, got {}", spec.variants.size()));
  }
  if (spec.variants.size() > kMaxVariants) {
    return FieldError("variants", fmt::format("at most {} variants allowed, got {}", kMaxVariants,
                                              spec.variants.size()));
  }
  std::set<std::string_view> seen;
  double sum = 0;
  for (size_t i = 0; i < spec.variants.size(); ++i) {
    const Variant& v = spec.variants[i];
    const std::string path = fmt::format("variants[{}]", i);
    RETURN_IF_ERROR(CheckName(path + ".name", v.name));
    if (!seen.insert(v.name).second) {
      return FieldError(path + ".name", fmt::format("duplicate variant name {}", Quote(v.name)));
    }
    if (!std::isfinite(v.share) || v.share <= 0 || v.share > 1) {
      return FieldError(path + ".share", fmt::format("must be in (0, 1], got {}", v.share));
    }
    if (!v.config.is_object()) {
      return FieldError(path + ".config",
                        fmt::format("must be a JSON object, got {}", JsonTypeName(v.config)));
    }
    sum += v.share;
  }
  if (std::fabs(sum - 1.0) > kShareTolerance) {
    return FieldError("variants", fmt::format("shares must sum to 1 (+-1e-6), got {:.9g}", sum));
  }
  if (!spec.control.empty() && FindVariant(spec, spec.control) < 0) {
    return FieldError("control",
                      fmt::format("{} is not a variant of this experiment", Quote(spec.control)));
  }
  if (spec.status != "running" && spec.status != "stopped") {
    return FieldError("status",
                      fmt::format("must be running or stopped, got {}", Quote(spec.status)));
  }
  if (spec.created_ms < 0) return FieldError("created_ms", "must be >= 0");
  if (spec.stopped_ms < 0) return FieldError("stopped_ms", "must be >= 0");
  if (spec.status == "running" && spec.stopped_ms != 0) {
    return FieldError("stopped_ms", "must be 0 while the experiment is running");
  }
  return OkStatus();
}

StatusOr<ExperimentSpec> SpecFromJson(const nlohmann::json& j) {
  if (!j.is_object()) {
    return InvalidArgumentError(
        fmt::format("experiment: must be a JSON object, got {}", JsonTypeName(j)));
  }
  RETURN_IF_ERROR(CheckKnownFields(j, "",
                                   {"name", "description", "surface", "variants", "control",
                                    "status", "created_ms", "stopped_ms"}));
  ExperimentSpec spec;
  if (!j.contains("name")) return FieldError("name", "is required");
  RETURN_IF_ERROR(GetString(j, "name", "name", &spec.name));
  RETURN_IF_ERROR(GetString(j, "description", "description", &spec.description));
  RETURN_IF_ERROR(GetString(j, "surface", "surface", &spec.surface));
  RETURN_IF_ERROR(GetString(j, "control", "control", &spec.control));
  RETURN_IF_ERROR(GetString(j, "status", "status", &spec.status));
  RETURN_IF_ERROR(GetMillis(j, "created_ms", &spec.created_ms));
  RETURN_IF_ERROR(GetMillis(j, "stopped_ms", &spec.stopped_ms));

  auto vit = j.find("variants");
  if (vit == j.end()) return FieldError("variants", "is required");
  if (!vit->is_array()) {
    return FieldError("variants", fmt::format("must be an array, got {}", JsonTypeName(*vit)));
  }
  bool all_integer = true;
  double sum = 0;
  for (size_t i = 0; i < vit->size(); ++i) {
    const nlohmann::json& vj = (*vit)[i];
    const std::string path = fmt::format("variants[{}]", i);
    if (!vj.is_object()) {
      return FieldError(path, fmt::format("must be an object, got {}", JsonTypeName(vj)));
    }
    RETURN_IF_ERROR(CheckKnownFields(vj, path, {"name", "share", "config"}));
    Variant v;
    if (!vj.contains("name")) return FieldError(path + ".name", "is required");
    RETURN_IF_ERROR(GetString(vj, "name", path + ".name", &v.name));
    auto sit = vj.find("share");
    if (sit == vj.end()) return FieldError(path + ".share", "is required");
    if (!sit->is_number()) {
      return FieldError(path + ".share",
                        fmt::format("must be a number, got {}", JsonTypeName(*sit)));
    }
    v.share = sit->get<double>();
    if (!std::isfinite(v.share) || v.share <= 0) {
      return FieldError(path + ".share", fmt::format("must be > 0, got {}", sit->dump()));
    }
    all_integer = all_integer && v.share == std::floor(v.share);
    sum += v.share;
    auto cit = vj.find("config");
    if (cit != vj.end()) {
      if (!cit->is_object()) {
        return FieldError(path + ".config",
                          fmt::format("must be a JSON object, got {}", JsonTypeName(*cit)));
      }
      v.config = *cit;
    }
    spec.variants.push_back(std::move(v));
  }
  if (!spec.variants.empty()) {
    if (all_integer && sum == 100.0) {
      for (Variant& v : spec.variants) v.share /= 100.0;
    } else if (std::fabs(sum - 1.0) > kShareTolerance) {
      return FieldError("variants",
                        fmt::format("shares must be fractions summing to 1 (+-1e-6) or integer "
                                    "percentages summing to 100; got a sum of {:.9g}",
                                    sum));
    }
  }
  RETURN_IF_ERROR(ValidateSpec(spec));
  if (spec.control.empty()) spec.control = spec.variants.front().name;
  return spec;
}

nlohmann::json SpecToJson(const ExperimentSpec& spec) {
  nlohmann::json variants = nlohmann::json::array();
  for (const Variant& v : spec.variants) {
    variants.push_back({{"name", v.name}, {"share", v.share}, {"config", v.config}});
  }
  return {{"name", spec.name},
          {"description", spec.description},
          {"surface", spec.surface},
          {"variants", std::move(variants)},
          {"control", ControlName(spec)},
          {"status", spec.status},
          {"created_ms", spec.created_ms},
          {"stopped_ms", spec.stopped_ms}};
}

double AssignmentPoint(std::string_view experiment, std::string_view user_id) {
  std::string key;
  key.reserve(experiment.size() + 1 + user_id.size());
  key.append(experiment).push_back('\n');
  key.append(user_id);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(key.data(), key.size(), digest, &len, EVP_sha256(), nullptr) != 1 || len < 8) {
    return 0.0;  // libcrypto failure (not expected); everyone then falls in the first variant
  }
  uint64_t x = 0;
  for (int i = 0; i < 8; ++i) x = (x << 8) | digest[i];
  // 2^-64 * x; the double rounding can give exactly 1.0 for x near 2^64, so clamp.
  double u = std::ldexp(static_cast<double>(x), -64);
  return u < 1.0 ? u : std::nextafter(1.0, 0.0);
}

std::string Assign(const ExperimentSpec& spec, std::string_view user_id) {
  if (user_id.empty() || spec.variants.empty()) return "";
  const double u = AssignmentPoint(spec.name, user_id);
  double cumulative = 0;
  for (const Variant& v : spec.variants) {
    cumulative += v.share;
    if (u < cumulative) return v.name;
  }
  return spec.variants.back().name;
}

}  // namespace souk::experiment
