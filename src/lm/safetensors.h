// safetensors: the tensor file format of Hugging Face checkpoints
// (`model.safetensors`), read by memory-mapping and written atomically.
//
// Layout: an unsigned 64-bit little-endian header length N, N bytes of UTF-8
// JSON, then the data section. The header maps each tensor name to
// {"dtype": "F32", "shape": [d0, d1, ...], "data_offsets": [begin, end]}
// (offsets relative to the start of the data section, row-major,
// little-endian) plus an optional "__metadata__" object of string values.
// See docs of the reference implementation (huggingface/safetensors).
//
//   ASSIGN_OR_RETURN(auto file, SafetensorsFile::Open(dir / "model.safetensors"));
//   const TensorView* t = file->Find("embeddings.word_embeddings.weight");
//   if (t == nullptr) return NotFoundError(...);
//   ASSIGN_OR_RETURN(std::vector<float> w, ToFloat32(*t));
//
// No libtorch here: the libtorch model copies the views into its tensors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace souk::lm {

// Element types of the safetensors format that Souk reads. The names in the
// file are "F64", "F32", "F16", "BF16", "I64", "I32", "I16", "I8", "U8", "BOOL".
// Other dtypes of the format (U16, U32, U64, F8_*) are rejected on Open.
enum class DType : uint8_t { kF64, kF32, kF16, kBF16, kI64, kI32, kI16, kI8, kU8, kBool };

// The name used in the header ("F32", "BF16", "BOOL", ...).
std::string_view DTypeName(DType dtype);
// Bytes per element (8, 4, 2, 2, 8, 4, 2, 1, 1, 1).
size_t DTypeSize(DType dtype);
// Inverse of DTypeName. Errors: InvalidArgument naming `name` and the known dtypes.
StatusOr<DType> ParseDType(std::string_view name);

// One tensor of a file: a borrowed view, valid while its SafetensorsFile lives.
struct TensorView {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;     // row-major; empty for a scalar
  const uint8_t* data = nullptr;  // points into the mapped file (or owned buffer);
                                  // not necessarily aligned to DTypeSize: copy
                                  // with memcpy or use ToFloat32
  size_t nbytes = 0;              // == numel() * DTypeSize(dtype), checked on Open

  // Product of the dimensions (1 for a scalar, 0 when a dimension is 0).
  int64_t numel() const;
};

// A read-only safetensors file, memory-mapped (mmap, MAP_PRIVATE, PROT_READ)
// for its whole lifetime. Opening parses and validates the header completely;
// tensor bytes are only touched when read (so opening a 90 MB checkpoint costs
// one header parse, and pages are loaded on demand).
//
// Ownership: the object owns the mapping; every TensorView::data points into
// it. Movable (views stay valid: the mapping does not move), not copyable.
// Thread-safety: immutable after Open; all const methods are safe to call
// concurrently.
class SafetensorsFile {
 public:
  // Maps and validates `path`. Errors (each message names the file and what
  // is wrong):
  //  - NotFound: the file does not exist; Unavailable: it cannot be opened or mapped.
  //  - DataLoss: truncated file (shorter than 8 bytes, header length beyond
  //    the end of the file, a tensor ending beyond the data section).
  //  - InvalidArgument: header length absurd (> 100 MB), header not a JSON
  //    object, a tensor entry without dtype/shape/data_offsets or with wrong
  //    types, unknown dtype, negative dimension, begin > end, byte size !=
  //    numel * dtype size, overlapping tensors, gaps between tensors or bytes
  //    after the last one (the reference implementation rejects those too),
  //    duplicate names, a non-string metadata value.
  static StatusOr<std::unique_ptr<SafetensorsFile>> Open(const std::filesystem::path& path);

  // Same validation on an in-memory copy of a file's bytes (the object owns
  // the buffer). `name` stands for the file name in error messages and path().
  static StatusOr<std::unique_ptr<SafetensorsFile>> FromBytes(std::vector<uint8_t> bytes,
                                                              std::string_view name);

  SafetensorsFile(SafetensorsFile&& other) noexcept;
  SafetensorsFile& operator=(SafetensorsFile&& other) noexcept;
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;
  ~SafetensorsFile();

  // All tensors in file order (ascending data offset).
  const std::vector<TensorView>& tensors() const { return tensors_; }
  // The tensor called `name`, or nullptr if absent. O(log n).
  const TensorView* Find(std::string_view name) const;
  // The "__metadata__" object (empty when absent).
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const std::filesystem::path& path() const { return path_; }
  // Size of the whole file in bytes.
  size_t file_size() const { return size_; }

 private:
  SafetensorsFile() = default;
  Status Parse();
  void Release();

  std::filesystem::path path_;
  const uint8_t* base_ = nullptr;  // whole file (mapped or owned_.data())
  size_t size_ = 0;
  void* mapping_ = nullptr;     // non-null when base_ is an mmap
  std::vector<uint8_t> owned_;  // FromBytes buffer (heap: survives moves)
  std::vector<TensorView> tensors_;
  std::map<std::string, size_t, std::less<>> index_;
  std::map<std::string, std::string> metadata_;
};

// Converts an F32/F16/BF16/F64 tensor to float32 (row-major copy, numel()
// values). F64 values outside the float range become +-inf. Errors:
// InvalidArgument naming the tensor and its dtype for any other dtype.
// Cost: one pass over the tensor bytes.
StatusOr<std::vector<float>> ToFloat32(const TensorView& t);

// One tensor to write: `bytes` is the row-major little-endian data, borrowed
// for the duration of the WriteSafetensors call.
struct TensorToWrite {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  std::span<const uint8_t> bytes;
};

// Writes a valid safetensors file atomically: it streams to "<path>.tmp"
// (creating parent folders) and renames it onto `path`, so the tensor bytes
// are never copied into one big buffer. The header is compact JSON with
// "__metadata__" first (omitted when `metadata` is empty) and the tensor
// names in sorted order, as the reference implementation writes it; it is
// padded with spaces so the data section starts at an 8-byte offset. Tensor
// data follows in the given order, without gaps.
// Errors: InvalidArgument when a name is empty, "__metadata__", a duplicate
// or not valid UTF-8, a dimension is negative, or bytes.size() !=
// numel * DTypeSize (naming the tensor); Unavailable naming the file when it
// cannot be written (the temporary file is removed).
Status WriteSafetensors(const std::filesystem::path& path, std::span<const TensorToWrite> tensors,
                        const std::map<std::string, std::string>& metadata = {});

// IEEE binary16 / bfloat16 conversions, round to nearest even. Infinities
// keep their sign; NaN stays NaN (quiet); values beyond the binary16 range
// become infinity; tiny values become subnormals or signed zero.
uint16_t FloatToHalf(float value);
float HalfToFloat(uint16_t bits);
uint16_t FloatToBf16(float value);
float Bf16ToFloat(uint16_t bits);

}  // namespace souk::lm
