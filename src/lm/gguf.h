// GgufFile: the header, metadata and tensor directory of a GGUF file (the
// llama.cpp / ggml model format, versions 2 and 3), read without touching the
// tensor data. Souk uses it to take a BERT vocabulary out of a GGUF model
// (WordPieceTokenizer::FromGguf) and to inspect GGUF checkpoints.
//
//   ASSIGN_OR_RETURN(GgufFile gguf, GgufFile::Open(path));
//   ASSIGN_OR_RETURN(std::vector<std::string> tokens,
//                    gguf.GetStringArray("tokenizer.ggml.tokens"));
//
// Layout read (little-endian): "GGUF", u32 version, u64 tensor_count,
// u64 kv_count, kv_count x (string key, u32 type, value), tensor_count x
// (string name, u32 n_dims, u64 dims[n_dims], u32 ggml_type, u64 offset);
// tensor data starts at the next multiple of general.alignment (default 32).
// A string is u64 length + bytes; an array is u32 element type, u64 count,
// elements.
//
// Errors (every message names the file): bad magic or an unsupported version
// (1, or > 3) -> InvalidArgument; a truncated file, a length or count that runs
// past the end of the file, an unknown value type, nested arrays, duplicate
// keys, more than 4 tensor dimensions, a tensor offset that is misaligned or
// past the end -> DataLoss. Lengths and counts are checked against the bytes
// that remain before anything is allocated, so a corrupt file never causes a
// huge allocation. Cost: one sequential read of the metadata (tens of MB for a
// large vocabulary at most); tensor data is never read.
//
// Thread-safety: an opened GgufFile is immutable; const methods are safe to call
// from several threads.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/status.h"

namespace souk::lm {

// GGUF metadata value types (gguf_type in ggml).
enum class GgufType : uint32_t {
  kUint8 = 0,
  kInt8 = 1,
  kUint16 = 2,
  kInt16 = 3,
  kUint32 = 4,
  kInt32 = 5,
  kFloat32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kUint64 = 10,
  kInt64 = 11,
  kFloat64 = 12,
};

// "UINT8", "STRING", ... ("UNKNOWN(n)" for anything else).
std::string GgufTypeName(GgufType type);

// A metadata array: the element type and the elements, widened to one of four
// storage kinds (all signed integers -> int64_t, unsigned -> uint64_t, floats ->
// double, bools and strings as themselves).
struct GgufArray {
  GgufType element_type = GgufType::kUint8;
  std::variant<std::vector<int64_t>, std::vector<uint64_t>, std::vector<double>, std::vector<bool>,
               std::vector<std::string>>
      values;
  size_t size() const;
};

// One metadata value. Integers are widened as in GgufArray; `type` keeps the
// type stored in the file.
struct GgufValue {
  GgufType type = GgufType::kUint8;
  std::variant<int64_t, uint64_t, double, bool, std::string, GgufArray> value;
};

// The directory entry of one tensor (its data is not read).
struct GgufTensorInfo {
  std::string name;
  std::vector<uint64_t> shape;  // ne[0], ne[1], ... as stored (innermost first)
  uint32_t ggml_type = 0;       // ggml_type enum value (0 = F32, 1 = F16, ...)
  uint64_t offset = 0;          // relative to data_offset()
};

class GgufFile {
 public:
  // Reads the header, metadata and tensor directory of `path`. NotFound when
  // the file cannot be opened; see the file comment for the other errors.
  static StatusOr<GgufFile> Open(const std::filesystem::path& path);

  // Same, from bytes already in memory (`name` is used in error messages).
  // Used by the fuzz target and for embedded files.
  static StatusOr<GgufFile> Parse(std::string_view bytes, std::string_view name);

  uint32_t version() const { return version_; }
  // Metadata keys in file order.
  const std::vector<std::string>& keys() const { return keys_; }
  bool Has(std::string_view key) const;
  // nullptr when absent.
  const GgufValue* Find(std::string_view key) const;

  // Typed accessors. NotFound naming key and file when absent; InvalidArgument
  // naming the stored type when the value has another type.
  StatusOr<std::string> GetString(std::string_view key) const;
  // Any integer type (and BOOL as 0/1); OutOfRange for a UINT64 above INT64_MAX.
  StatusOr<int64_t> GetInt(std::string_view key) const;
  // FLOAT32/FLOAT64 or any integer type.
  StatusOr<double> GetFloat(std::string_view key) const;
  StatusOr<bool> GetBool(std::string_view key) const;
  StatusOr<std::vector<std::string>> GetStringArray(std::string_view key) const;
  // An array of any integer element type.
  StatusOr<std::vector<int64_t>> GetIntArray(std::string_view key) const;

  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  // general.alignment, or 32.
  uint64_t alignment() const { return alignment_; }
  // Absolute file offset where tensor data begins.
  uint64_t data_offset() const { return data_offset_; }
  uint64_t file_size() const { return file_size_; }
  const std::string& name() const { return name_; }

 private:
  friend class GgufParser;

  std::string name_;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  uint64_t file_size_ = 0;
  std::vector<std::string> keys_;
  std::map<std::string, GgufValue, std::less<>> values_;
  std::vector<GgufTensorInfo> tensors_;
};

}  // namespace souk::lm
