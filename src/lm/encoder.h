// Encoder: turns shop text (queries, product titles/descriptions) into dense,
// L2-normalized vectors for dense retrieval. Implementations are pluggable and
// created by name through EncoderRegistry (encoder_registry.h); the name and a
// content hash of the weights are persisted with every index built from them.
//
// Implementations: "subword" (subword_encoder.h, fastText-style vectors learned
// from the catalog, no external weights). A libtorch BERT encoder will
// implement the same interface in a separate target (souk_lm_torch).
//
// Thread-safety: every const method is safe to call concurrently.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "common/status.h"

namespace souk::lm {

// Which side of a retrieval pair a text is. Asymmetric encoders (e.g. a BERT
// model with query/passage prefixes) use it; symmetric ones ignore it.
enum class TextKind : uint8_t { kQuery, kDocument };

class Encoder {
 public:
  virtual ~Encoder() = default;

  // Registry name, stored in manifests ("subword"). Changes when the on-disk
  // format of the encoder's artifacts changes incompatibly.
  virtual std::string Name() const = 0;

  // Content hash of the weights (hex). Two encoders with the same Name() and
  // Version() produce identical vectors, so it is part of every embedding
  // cache key.
  virtual std::string Version() const = 0;

  // Number of floats per embedding.
  virtual int Dim() const = 0;

  // Encodes texts.size() texts into `out`, which must hold texts.size()*Dim()
  // floats (row-major, one row per text). Every row is L2-normalized, except
  // that a text with no usable content (empty, or only words the encoder has
  // nothing for) yields an all-zero row: callers must skip such rows.
  // Errors: InvalidArgument when out is null and texts is non-empty.
  virtual Status Encode(std::span<const std::string> texts, TextKind kind, float* out) const = 0;

  // Writes manifest.json ({"kind": Name(), "format_version": ..., ...}) and the
  // weight files into `dir` (created if missing; existing files are replaced).
  // Errors: the I/O failure, naming the file.
  virtual Status Save(const std::string& dir) const = 0;
};

}  // namespace souk::lm
