#include "common/config.h"

#include <functional>

#include <algorithm>
#include <cassert>
#include <charconv>
#include <sstream>
#include <fmt/format.h>
#include <toml++/toml.h>

namespace souk {
namespace {

const ConfigKey* FindKey(std::string_view name) {
  const auto& keys = ConfigSchema();
  auto it = std::lower_bound(keys.begin(), keys.end(), name,
                             [](const ConfigKey& k, std::string_view n) { return k.name < n; });
  if (it == keys.end() || it->name != name) return nullptr;
  return &*it;
}

std::string_view TypeName(ConfigType t) {
  switch (t) {
    case ConfigType::kBool: return "a boolean (true/false)";
    case ConfigType::kInt: return "an integer";
    case ConfigType::kDouble: return "a number";
    case ConfigType::kString: return "a string";
  }
  return "?";
}

StatusOr<ConfigValue> ParseText(const ConfigKey& key, std::string_view text) {
  auto bad = [&] {
    return InvalidArgumentError(fmt::format("config key '{}' expects {}, got '{}'", key.name,
                                            TypeName(key.type), text));
  };
  switch (key.type) {
    case ConfigType::kBool:
      if (text == "true" || text == "1" || text == "yes") return ConfigValue(true);
      if (text == "false" || text == "0" || text == "no") return ConfigValue(false);
      return bad();
    case ConfigType::kInt: {
      int64_t v = 0;
      auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec != std::errc() || p != text.data() + text.size()) return bad();
      return ConfigValue(v);
    }
    case ConfigType::kDouble: {
      double v = 0;
      auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec != std::errc() || p != text.data() + text.size()) return bad();
      return ConfigValue(v);
    }
    case ConfigType::kString:
      return ConfigValue(std::string(text));
  }
  return bad();
}

std::string ValueToToml(const ConfigValue& v) {
  if (auto* b = std::get_if<bool>(&v)) return *b ? "true" : "false";
  if (auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  if (auto* d = std::get_if<double>(&v)) {
    std::string s = fmt::format("{}", *d);
    if (s.find_first_of(".eE") == std::string::npos) s += ".0";
    return s;
  }
  std::ostringstream os;
  os << toml::value<std::string>(std::get<std::string>(v));
  return os.str();
}

}  // namespace

Config::Config() {
  for (const auto& k : ConfigSchema()) {
    auto v = ParseText(k, k.default_value);
    values_.emplace(std::string(k.name), v.ok() ? *v : ConfigValue(std::string(k.default_value)));
  }
}

Status Config::Set(std::string_view key, std::string_view text) {
  const ConfigKey* k = FindKey(key);
  if (!k) return InvalidArgumentError(fmt::format("unknown config key '{}' (see `souk config`)", key));
  ASSIGN_OR_RETURN(auto v, ParseText(*k, text));
  values_.find(key)->second = std::move(v);
  return OkStatus();
}

StatusOr<Config> Config::Load(const std::string& path, const std::vector<std::string>& overrides) {
  Config c;
  if (!path.empty()) {
    toml::table tbl;
    try {
      tbl = toml::parse_file(path);
    } catch (const toml::parse_error& e) {
      const auto& src = e.source();
      return InvalidArgumentError(fmt::format("{}:{}:{}: {}", path, src.begin.line,
                                              src.begin.column, e.description()));
    }
    // Leaves of nested tables ([lm.pretrain] layers = 2, or [lm] pretrain.layers = 2)
    // are keys joined with ".".
    std::vector<std::pair<std::string, const toml::node*>> leaves;
    std::function<Status(const toml::table&, const std::string&)> flatten =
        [&](const toml::table& t, const std::string& prefix) -> Status {
      for (auto&& [name, node] : t) {
        const std::string full = prefix.empty() ? std::string(name.str()) : prefix + "." + std::string(name.str());
        if (const auto* sub = node.as_table()) {
          RETURN_IF_ERROR(flatten(*sub, full));
        } else if (prefix.empty()) {
          return InvalidArgumentError(fmt::format(
              "{}: top-level key '{}' must be a [section] table", path, full));
        } else {
          leaves.emplace_back(full, &node);
        }
      }
      return OkStatus();
    };
    RETURN_IF_ERROR(flatten(tbl, ""));
    for (const auto& [full, node] : leaves) {
      const toml::node& val = *node;
      {
        const ConfigKey* k = FindKey(full);
        if (!k) {
          return InvalidArgumentError(fmt::format("{}:{}: unknown config key '{}'", path,
                                                  val.source().begin.line, full));
        }
        ConfigValue v;
        bool ok = true;
        switch (k->type) {
          case ConfigType::kBool:
            if (auto b = val.value_exact<bool>()) v = *b; else ok = false;
            break;
          case ConfigType::kInt:
            if (auto i = val.value_exact<int64_t>()) v = *i; else ok = false;
            break;
          case ConfigType::kDouble:
            if (auto d = val.value<double>()) v = *d; else ok = false;
            break;
          case ConfigType::kString:
            if (auto s = val.value_exact<std::string>()) v = *s; else ok = false;
            break;
        }
        if (!ok) {
          return InvalidArgumentError(fmt::format("{}:{}: config key '{}' expects {}", path,
                                                  val.source().begin.line, full, TypeName(k->type)));
        }
        c.values_.find(full)->second = std::move(v);
      }
    }
  }
  for (const auto& o : overrides) {
    const auto eq = o.find('=');
    if (eq == std::string::npos) {
      return InvalidArgumentError("override '" + o + "' must look like section.key=value");
    }
    RETURN_IF_ERROR(c.Set(std::string_view(o).substr(0, eq), std::string_view(o).substr(eq + 1)));
  }
  return c;
}

const ConfigValue& Config::Get(std::string_view key, ConfigType type) const {
  auto it = values_.find(key);
  // Reading an undeclared key is a programmer error.
  assert(it != values_.end() && "undeclared config key");
  (void)type;
  return it->second;
}

bool Config::GetBool(std::string_view key) const { return std::get<bool>(Get(key, ConfigType::kBool)); }
int64_t Config::GetInt(std::string_view key) const { return std::get<int64_t>(Get(key, ConfigType::kInt)); }
double Config::GetDouble(std::string_view key) const { return std::get<double>(Get(key, ConfigType::kDouble)); }
const std::string& Config::GetString(std::string_view key) const {
  return std::get<std::string>(Get(key, ConfigType::kString));
}

std::string Config::ToToml(bool with_docs) const {
  std::string out;
  std::string section;
  for (const auto& k : ConfigSchema()) {
    const std::string_view name = k.name;
    const auto dot = name.find('.');
    const std::string sec(name.substr(0, dot));
    if (sec != section) {
      if (!out.empty()) out += "\n";
      out += "[" + sec + "]\n";
      section = sec;
    }
    if (with_docs) out += "# " + std::string(k.doc) + "\n";
    out += std::string(name.substr(dot + 1)) + " = " + ValueToToml(values_.find(name)->second) + "\n";
  }
  return out;
}

}  // namespace souk
