// Config: every tunable of Souk, read from one TOML file and overridable from
// the command line. Each key is declared once in config_schema.cc with its type,
// default and a one-line description; unknown keys and wrong types are errors
// that name the file, the key and what was expected. `souk config` prints the
// documented defaults as a TOML file (docs/config.md is generated from it).
//
// Thread-safety: a loaded Config is immutable; concurrent reads are safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/status.h"

namespace souk {

enum class ConfigType { kBool, kInt, kDouble, kString };

struct ConfigKey {
  std::string_view name;           // "section.key"
  ConfigType type;
  std::string_view default_value;  // textual default, parsed with the type
  std::string_view doc;            // one line
};

// The declared keys, sorted by name.
const std::vector<ConfigKey>& ConfigSchema();

using ConfigValue = std::variant<bool, int64_t, double, std::string>;

class Config {
 public:
  // All defaults.
  Config();

  // Reads a TOML file (empty path = defaults only) and then applies overrides of
  // the form "section.key=value" in order.
  static StatusOr<Config> Load(const std::string& path, const std::vector<std::string>& overrides);

  // Sets one key from text (CLI flags). Errors name the key and the expected type.
  Status Set(std::string_view key, std::string_view text);

  bool GetBool(std::string_view key) const;
  int64_t GetInt(std::string_view key) const;
  double GetDouble(std::string_view key) const;
  const std::string& GetString(std::string_view key) const;

  // The whole configuration as TOML with the doc line above each key.
  std::string ToToml(bool with_docs = true) const;

 private:
  const ConfigValue& Get(std::string_view key, ConfigType type) const;
  std::map<std::string, ConfigValue, std::less<>> values_;
};

}  // namespace souk
