#include "lm/encoder_registry.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "lm/subword_encoder.h"

namespace souk::lm {

StatusOr<EncoderManifest> ReadEncoderManifest(const std::string& dir) {
  const std::filesystem::path path = std::filesystem::path(dir) / "manifest.json";
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("no encoder manifest at " + path.string());
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return DataLossError("cannot read " + path.string());

  EncoderManifest manifest;
  manifest.json = text.str();
  // nlohmann::json reports errors by exception: they end here.
  try {
    const nlohmann::json j = nlohmann::json::parse(manifest.json);
    if (!j.is_object()) return DataLossError(path.string() + ": not a JSON object");
    auto kind = j.find("kind");
    if (kind == j.end() || !kind->is_string()) {
      return DataLossError(path.string() + ": missing string field \"kind\"");
    }
    auto version = j.find("format_version");
    if (version == j.end() || !version->is_number_integer()) {
      return DataLossError(path.string() + ": missing integer field \"format_version\"");
    }
    manifest.kind = kind->get<std::string>();
    manifest.format_version = version->get<int>();
  } catch (const nlohmann::json::exception& e) {
    return DataLossError(path.string() + ": malformed JSON: " + e.what());
  }
  return manifest;
}

Status EncoderRegistry::Register(const std::string& name, Loader loader) {
  if (name.empty()) return InvalidArgumentError("encoder registry: empty encoder name");
  if (!loader) return InvalidArgumentError("encoder registry: null loader for \"" + name + "\"");
  if (!loaders_.emplace(name, std::move(loader)).second) {
    return AlreadyExistsError("encoder registry: \"" + name + "\" is already registered");
  }
  return OkStatus();
}

StatusOr<std::unique_ptr<Encoder>> EncoderRegistry::Load(const std::string& dir) const {
  ASSIGN_OR_RETURN(EncoderManifest manifest, ReadEncoderManifest(dir));
  auto it = loaders_.find(manifest.kind);
  if (it == loaders_.end()) {
    std::string known;
    for (const auto& [name, loader] : loaders_) known += (known.empty() ? "" : ", ") + name;
    return NotFoundError("unknown encoder kind \"" + manifest.kind + "\" in " + dir +
                         "/manifest.json (known: " + (known.empty() ? "none" : known) + ")");
  }
  StatusOr<std::unique_ptr<Encoder>> encoder = it->second(dir, manifest);
  if (!encoder.ok()) return encoder.status().WithContext("loading encoder from " + dir);
  if (*encoder == nullptr)
    return InternalError("encoder loader \"" + manifest.kind + "\" returned null");
  return encoder;
}

std::vector<std::string> EncoderRegistry::Names() const {
  std::vector<std::string> names;
  names.reserve(loaders_.size());
  for (const auto& [name, loader] : loaders_) names.push_back(name);
  return names;
}

Status RegisterBuiltinEncoders(EncoderRegistry& registry) {
  return registry.Register(
      SubwordEncoder::kName,
      [](const std::string& dir,
         const EncoderManifest& manifest) -> StatusOr<std::unique_ptr<Encoder>> {
        ASSIGN_OR_RETURN(std::unique_ptr<SubwordEncoder> enc, SubwordEncoder::Load(dir, manifest));
        return std::unique_ptr<Encoder>(std::move(enc));
      });
}

}  // namespace souk::lm
