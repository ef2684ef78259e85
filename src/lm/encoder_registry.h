// EncoderRegistry: creates encoders by the name persisted in their manifest.
// A saved encoder is a folder with manifest.json {"kind": "<name>",
// "format_version": <int>, ...} plus whatever files the kind needs; Load(dir)
// reads the manifest and hands the folder to the loader registered under
// "kind". There is no global registry: the application builds one at start-up
// (RegisterBuiltinEncoders plus any optional kinds) and passes it along.
//
//   EncoderRegistry registry;
//   RETURN_IF_ERROR(RegisterBuiltinEncoders(registry));
//   ASSIGN_OR_RETURN(std::unique_ptr<Encoder> enc, registry.Load(model_dir));
//
// Thread-safety: Register must not race with other calls (fill it at
// start-up); Load and Names are const and safe to call concurrently.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "lm/encoder.h"

namespace souk::lm {

// The common part of every encoder manifest.
struct EncoderManifest {
  std::string kind;        // registry name ("subword")
  int format_version = 0;  // on-disk format of that kind
  std::string json;        // the whole manifest text (kind-specific fields)
};

// Reads and checks dir/manifest.json. Errors: NotFound when the file is
// missing; DataLoss when it is not a JSON object with a string "kind" and an
// integer "format_version" (the message names the file and the problem).
StatusOr<EncoderManifest> ReadEncoderManifest(const std::string& dir);

class EncoderRegistry {
 public:
  // Loads the encoder saved in `dir`, given its already-read manifest.
  using Loader = std::function<StatusOr<std::unique_ptr<Encoder>>(const std::string& dir,
                                                                  const EncoderManifest& manifest)>;

  // Errors: InvalidArgument for an empty name or null loader; AlreadyExists
  // when `name` is registered.
  Status Register(const std::string& name, Loader loader);

  // Reads dir/manifest.json and calls the loader of its kind. Errors: those of
  // ReadEncoderManifest; NotFound naming the kind when no loader has that
  // name (listing the known ones); otherwise whatever the loader returns,
  // prefixed with the folder.
  StatusOr<std::unique_ptr<Encoder>> Load(const std::string& dir) const;

  // Registered names, sorted.
  std::vector<std::string> Names() const;

 private:
  std::map<std::string, Loader> loaders_;
};

// Registers the encoders of souk_lm_base: "subword" (SubwordEncoder::Load).
Status RegisterBuiltinEncoders(EncoderRegistry& registry);

}  // namespace souk::lm
