#include "lm/gguf.h"

#include <fmt/format.h>

#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <system_error>

namespace souk::lm {

namespace {

constexpr uint32_t kGgufMagic = 0x46554747;  // "GGUF" little-endian
constexpr uint32_t kMaxDims = 4;             // GGML_MAX_DIMS

// Sequential reader over a file or a memory buffer that knows how many bytes
// remain, so every length can be checked before it is allocated.
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Reads exactly n bytes or returns false (nothing is read past the end).
  virtual bool Read(void* dst, size_t n) = 0;
  uint64_t pos() const { return pos_; }
  uint64_t size() const { return size_; }
  uint64_t remaining() const { return size_ - pos_; }

 protected:
  uint64_t pos_ = 0;
  uint64_t size_ = 0;
};

class MemorySource : public ByteSource {
 public:
  explicit MemorySource(std::string_view bytes) : bytes_(bytes) { size_ = bytes.size(); }
  bool Read(void* dst, size_t n) override {
    if (n > remaining()) return false;
    if (n > 0) std::memcpy(dst, bytes_.data() + pos_, n);
    pos_ += n;
    return true;
  }

 private:
  std::string_view bytes_;
};

class FileSource : public ByteSource {
 public:
  FileSource(std::FILE* f, uint64_t size) : f_(f) { size_ = size; }
  ~FileSource() override {
    if (f_ != nullptr) std::fclose(f_);
  }
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;
  bool Read(void* dst, size_t n) override {
    if (n > remaining()) return false;
    if (n > 0 && std::fread(dst, 1, n, f_) != n) return false;
    pos_ += n;
    return true;
  }

 private:
  std::FILE* f_;
};

size_t ScalarSize(GgufType t) {
  switch (t) {
    case GgufType::kUint8:
    case GgufType::kInt8:
    case GgufType::kBool:
      return 1;
    case GgufType::kUint16:
    case GgufType::kInt16:
      return 2;
    case GgufType::kUint32:
    case GgufType::kInt32:
    case GgufType::kFloat32:
      return 4;
    case GgufType::kUint64:
    case GgufType::kInt64:
    case GgufType::kFloat64:
      return 8;
    case GgufType::kString:
      return 8;  // at least the length field
    case GgufType::kArray:
      return 12;  // at least type + count
  }
  return 0;
}

bool IsKnownType(uint32_t t) { return t <= static_cast<uint32_t>(GgufType::kFloat64); }

}  // namespace

std::string GgufTypeName(GgufType type) {
  switch (type) {
    case GgufType::kUint8:
      return "UINT8";
    case GgufType::kInt8:
      return "INT8";
    case GgufType::kUint16:
      return "UINT16";
    case GgufType::kInt16:
      return "INT16";
    case GgufType::kUint32:
      return "UINT32";
    case GgufType::kInt32:
      return "INT32";
    case GgufType::kFloat32:
      return "FLOAT32";
    case GgufType::kBool:
      return "BOOL";
    case GgufType::kString:
      return "STRING";
    case GgufType::kArray:
      return "ARRAY";
    case GgufType::kUint64:
      return "UINT64";
    case GgufType::kInt64:
      return "INT64";
    case GgufType::kFloat64:
      return "FLOAT64";
  }
  return fmt::format("UNKNOWN({})", static_cast<uint32_t>(type));
}

size_t GgufArray::size() const {
  return std::visit([](const auto& v) { return v.size(); }, values);
}

// Parses one GGUF stream into a GgufFile.
class GgufParser {
 public:
  GgufParser(ByteSource* src, std::string name) : src_(src), name_(std::move(name)) {}

  StatusOr<GgufFile> Run() {
    GgufFile out;
    out.name_ = name_;
    out.file_size_ = src_->size();
    uint32_t magic = 0;
    if (!src_->Read(&magic, 4)) {
      return DataLossError(
          fmt::format("{}: truncated GGUF file ({} bytes, no header)", name_, src_->size()));
    }
    if (magic != kGgufMagic) {
      return InvalidArgumentError(
          fmt::format("{}: not a GGUF file (bad magic 0x{:08x}, expected \"GGUF\")", name_, magic));
    }
    uint32_t version = 0;
    RETURN_IF_ERROR(ReadPod(&version, "version"));
    if (version < 2 || version > 3) {
      return InvalidArgumentError(
          fmt::format("{}: unsupported GGUF version {} (supported: 2 and 3)", name_, version));
    }
    out.version_ = version;
    uint64_t n_tensors = 0, n_kv = 0;
    RETURN_IF_ERROR(ReadPod(&n_tensors, "tensor count"));
    RETURN_IF_ERROR(ReadPod(&n_kv, "metadata count"));
    // Each kv needs >= 8 (key length) + 4 (type) + 1 bytes, each tensor >= 8+4+4+8.
    if (n_kv > src_->remaining() / 13) {
      return DataLossError(
          fmt::format("{}: metadata count {} exceeds what the remaining {} bytes "
                      "can hold (corrupt header)",
                      name_, n_kv, src_->remaining()));
    }
    if (n_tensors > src_->remaining() / 24) {
      return DataLossError(
          fmt::format("{}: tensor count {} exceeds what the remaining {} bytes "
                      "can hold (corrupt header)",
                      name_, n_tensors, src_->remaining()));
    }
    for (uint64_t i = 0; i < n_kv; ++i) {
      std::string key;
      RETURN_IF_ERROR(ReadString(&key, fmt::format("key of metadata entry {}", i)));
      uint32_t type = 0;
      RETURN_IF_ERROR(ReadPod(&type, fmt::format("type of metadata '{}'", key)));
      GgufValue value;
      RETURN_IF_ERROR(ReadValue(type, key, &value));
      if (out.values_.count(key) != 0) {
        return DataLossError(fmt::format("{}: duplicate metadata key '{}'", name_, key));
      }
      out.keys_.push_back(key);
      out.values_.emplace(std::move(key), std::move(value));
    }
    if (const GgufValue* a = out.Find("general.alignment"); a != nullptr) {
      auto v = out.GetInt("general.alignment");
      if (!v.ok() || *v <= 0 || (*v & (*v - 1)) != 0) {
        return DataLossError(
            fmt::format("{}: general.alignment must be a positive power of two integer", name_));
      }
      out.alignment_ = static_cast<uint64_t>(*v);
    }
    out.tensors_.reserve(n_tensors);
    for (uint64_t i = 0; i < n_tensors; ++i) {
      GgufTensorInfo t;
      RETURN_IF_ERROR(ReadString(&t.name, fmt::format("name of tensor {}", i)));
      uint32_t n_dims = 0;
      RETURN_IF_ERROR(ReadPod(&n_dims, fmt::format("dimension count of tensor '{}'", t.name)));
      if (n_dims > kMaxDims) {
        return DataLossError(fmt::format("{}: tensor '{}' has {} dimensions (at most {})", name_,
                                         t.name, n_dims, kMaxDims));
      }
      t.shape.resize(n_dims);
      for (uint32_t d = 0; d < n_dims; ++d) {
        RETURN_IF_ERROR(ReadPod(&t.shape[d], fmt::format("shape of tensor '{}'", t.name)));
      }
      RETURN_IF_ERROR(ReadPod(&t.ggml_type, fmt::format("type of tensor '{}'", t.name)));
      RETURN_IF_ERROR(ReadPod(&t.offset, fmt::format("offset of tensor '{}'", t.name)));
      if (t.offset % out.alignment_ != 0) {
        return DataLossError(
            fmt::format("{}: tensor '{}' offset {} is not a multiple of the "
                        "alignment {}",
                        name_, t.name, t.offset, out.alignment_));
      }
      out.tensors_.push_back(std::move(t));
    }
    const uint64_t pos = src_->pos();
    out.data_offset_ = (pos + out.alignment_ - 1) / out.alignment_ * out.alignment_;
    for (const GgufTensorInfo& t : out.tensors_) {
      if (t.offset > out.file_size_ || out.data_offset_ > out.file_size_ - t.offset) {
        return DataLossError(
            fmt::format("{}: tensor '{}' data offset {} lies past the end of "
                        "the file ({} bytes; truncated?)",
                        name_, t.name, out.data_offset_ + t.offset, out.file_size_));
      }
    }
    return out;
  }

 private:
  template <typename T>
  Status ReadPod(T* v, std::string_view what) {
    if (!src_->Read(v, sizeof(T))) return Truncated(what);
    return OkStatus();
  }

  Status Truncated(std::string_view what) const {
    return DataLossError(
        fmt::format("{}: truncated GGUF file: {} at byte {} runs past the end "
                    "({} bytes)",
                    name_, what, src_->pos(), src_->size()));
  }

  Status ReadString(std::string* s, std::string_view what) {
    uint64_t len = 0;
    RETURN_IF_ERROR(ReadPod(&len, what));
    if (len > src_->remaining()) {
      return DataLossError(
          fmt::format("{}: {} has length {} at byte {}, but only {} bytes "
                      "remain (corrupt or truncated)",
                      name_, what, len, src_->pos() - 8, src_->remaining()));
    }
    s->resize(len);
    if (!src_->Read(s->data(), len)) return Truncated(what);
    return OkStatus();
  }

  // Reads one scalar of `type` into the widened variant.
  template <typename Out>
  Status ReadScalar(GgufType type, std::string_view what, Out* out) {
    switch (type) {
      case GgufType::kUint8: {
        uint8_t v;
        RETURN_IF_ERROR(ReadPod(&v, what));
        *out = uint64_t{v};
        break;
      }
      case GgufType::kUint16: {
        uint16_t v;
        RETURN_IF_ERROR(ReadPod(&v, what));
        *out = uint64_t{v};
        break;
      }
      case GgufType::kUint32: {
        uint32_t v;
        RETURN_IF_ERROR(ReadPod(&v, what));
        *out = uint64_t{v};
        break;
      }
      case GgufType::kUint64: {
        uint64_t v;
        RETURN_IF_ERROR(ReadPod(&v, what));
        *out = v;
        break;
      }
      case GgufType::kInt8: {
        int8_t v;
        RETURN_IF_ERROR(ReadPod(&v, what));
        *out = int64_t{v};
        break;
      }
      case GgufType::kInt16: {
        int16_t v;
        RETURN_IF_ERROR(ReadPod(&v, what));
        *out = int64_t{v};
        break;
      }
      case GgufType::kInt32: {
        int32_t v;
        RETURN_IF_ERROR(ReadPod(&v, what));
        *out = int64_t{v};
        break;
      }
      case GgufType::kInt64: {
        int64_t v;
        RETURN_IF_ERROR(ReadPod(&v, what));
        *out = v;
        break;
      }
      case GgufType::kFloat32: {
        float v;
        RETURN_IF_ERROR(ReadPod(&v, what));
        *out = double{v};
        break;
      }
      case GgufType::kFloat64: {
        double v;
        RETURN_IF_ERROR(ReadPod(&v, what));
        *out = v;
        break;
      }
      case GgufType::kBool: {
        uint8_t v;
        RETURN_IF_ERROR(ReadPod(&v, what));
        if (v > 1) {
          return DataLossError(
              fmt::format("{}: {} is a BOOL with value {} (expected 0 or 1)", name_, what, v));
        }
        *out = v != 0;
        break;
      }
      case GgufType::kString: {
        std::string s;
        RETURN_IF_ERROR(ReadString(&s, what));
        *out = std::move(s);
        break;
      }
      case GgufType::kArray:
        return InternalError("ReadScalar on ARRAY");
    }
    return OkStatus();
  }

  template <typename V, typename Elem>
  Status ReadArrayElems(GgufType elem, uint64_t n, std::string_view what, GgufArray* arr) {
    std::vector<V> values;
    values.reserve(n);
    for (uint64_t i = 0; i < n; ++i) {
      Elem e;
      RETURN_IF_ERROR(ReadScalar(elem, what, &e));
      values.push_back(std::move(std::get<V>(e)));
    }
    arr->values = std::move(values);
    return OkStatus();
  }

  Status ReadValue(uint32_t type_raw, const std::string& key, GgufValue* out) {
    if (!IsKnownType(type_raw)) {
      return DataLossError(
          fmt::format("{}: metadata '{}' has unknown value type {}", name_, key, type_raw));
    }
    const auto type = static_cast<GgufType>(type_raw);
    out->type = type;
    const std::string what = fmt::format("value of metadata '{}'", key);
    if (type != GgufType::kArray) {
      std::variant<int64_t, uint64_t, double, bool, std::string> v;
      RETURN_IF_ERROR(ReadScalar(type, what, &v));
      std::visit([&](auto&& x) { out->value = std::move(x); }, std::move(v));
      return OkStatus();
    }
    uint32_t elem_raw = 0;
    uint64_t n = 0;
    RETURN_IF_ERROR(ReadPod(&elem_raw, what));
    RETURN_IF_ERROR(ReadPod(&n, what));
    if (!IsKnownType(elem_raw)) {
      return DataLossError(
          fmt::format("{}: array metadata '{}' has unknown element type {}", name_, key, elem_raw));
    }
    const auto elem = static_cast<GgufType>(elem_raw);
    if (elem == GgufType::kArray) {
      return DataLossError(
          fmt::format("{}: array metadata '{}' holds nested arrays (not supported)", name_, key));
    }
    if (n > src_->remaining() / ScalarSize(elem)) {
      return DataLossError(
          fmt::format("{}: array metadata '{}' claims {} elements of {}, more "
                      "than the remaining {} bytes can hold",
                      name_, key, n, GgufTypeName(elem), src_->remaining()));
    }
    GgufArray arr;
    arr.element_type = elem;
    using Elem = std::variant<int64_t, uint64_t, double, bool, std::string>;
    switch (elem) {
      case GgufType::kUint8:
      case GgufType::kUint16:
      case GgufType::kUint32:
      case GgufType::kUint64:
        RETURN_IF_ERROR((ReadArrayElems<uint64_t, Elem>(elem, n, what, &arr)));
        break;
      case GgufType::kInt8:
      case GgufType::kInt16:
      case GgufType::kInt32:
      case GgufType::kInt64:
        RETURN_IF_ERROR((ReadArrayElems<int64_t, Elem>(elem, n, what, &arr)));
        break;
      case GgufType::kFloat32:
      case GgufType::kFloat64:
        RETURN_IF_ERROR((ReadArrayElems<double, Elem>(elem, n, what, &arr)));
        break;
      case GgufType::kBool:
        RETURN_IF_ERROR((ReadArrayElems<bool, Elem>(elem, n, what, &arr)));
        break;
      case GgufType::kString:
        RETURN_IF_ERROR((ReadArrayElems<std::string, Elem>(elem, n, what, &arr)));
        break;
      case GgufType::kArray:
        break;
    }
    out->value = std::move(arr);
    return OkStatus();
  }

  ByteSource* src_;
  std::string name_;
};

StatusOr<GgufFile> GgufFile::Open(const std::filesystem::path& path) {
  std::error_code ec;
  const uint64_t size = std::filesystem::file_size(path, ec);
  if (ec) {
    return NotFoundError(fmt::format("{}: cannot open GGUF file: {}", path.string(), ec.message()));
  }
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    return NotFoundError(fmt::format("{}: cannot open GGUF file", path.string()));
  }
  FileSource src(f, size);
  GgufParser parser(&src, path.string());
  return parser.Run();
}

StatusOr<GgufFile> GgufFile::Parse(std::string_view bytes, std::string_view name) {
  MemorySource src(bytes);
  GgufParser parser(&src, std::string(name));
  return parser.Run();
}

bool GgufFile::Has(std::string_view key) const { return values_.find(key) != values_.end(); }

const GgufValue* GgufFile::Find(std::string_view key) const {
  auto it = values_.find(key);
  return it == values_.end() ? nullptr : &it->second;
}

namespace {
Status Missing(const std::string& file, std::string_view key) {
  return NotFoundError(fmt::format("{}: GGUF metadata key '{}' not found", file, key));
}
Status WrongType(const std::string& file, std::string_view key, const GgufValue& v,
                 std::string_view wanted) {
  std::string type = GgufTypeName(v.type);
  if (const auto* a = std::get_if<GgufArray>(&v.value)) {
    type += "[" + GgufTypeName(a->element_type) + "]";
  }
  return InvalidArgumentError(
      fmt::format("{}: GGUF metadata '{}' is {}, expected {}", file, key, type, wanted));
}
}  // namespace

StatusOr<std::string> GgufFile::GetString(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return Missing(name_, key);
  if (const auto* s = std::get_if<std::string>(&v->value)) return *s;
  return WrongType(name_, key, *v, "STRING");
}

StatusOr<int64_t> GgufFile::GetInt(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return Missing(name_, key);
  if (const auto* i = std::get_if<int64_t>(&v->value)) return *i;
  if (const auto* u = std::get_if<uint64_t>(&v->value)) {
    if (*u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return OutOfRangeError(
          fmt::format("{}: GGUF metadata '{}' = {} does not fit in int64", name_, key, *u));
    }
    return static_cast<int64_t>(*u);
  }
  if (const auto* b = std::get_if<bool>(&v->value)) return int64_t{*b ? 1 : 0};
  return WrongType(name_, key, *v, "an integer");
}

StatusOr<double> GgufFile::GetFloat(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return Missing(name_, key);
  if (const auto* d = std::get_if<double>(&v->value)) return *d;
  if (const auto* i = std::get_if<int64_t>(&v->value)) return static_cast<double>(*i);
  if (const auto* u = std::get_if<uint64_t>(&v->value)) return static_cast<double>(*u);
  return WrongType(name_, key, *v, "a number");
}

StatusOr<bool> GgufFile::GetBool(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return Missing(name_, key);
  if (const auto* b = std::get_if<bool>(&v->value)) return *b;
  return WrongType(name_, key, *v, "BOOL");
}

StatusOr<std::vector<std::string>> GgufFile::GetStringArray(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return Missing(name_, key);
  if (const auto* a = std::get_if<GgufArray>(&v->value)) {
    if (const auto* s = std::get_if<std::vector<std::string>>(&a->values)) return *s;
  }
  return WrongType(name_, key, *v, "ARRAY[STRING]");
}

StatusOr<std::vector<int64_t>> GgufFile::GetIntArray(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return Missing(name_, key);
  if (const auto* a = std::get_if<GgufArray>(&v->value)) {
    if (const auto* s = std::get_if<std::vector<int64_t>>(&a->values)) return *s;
    if (const auto* u = std::get_if<std::vector<uint64_t>>(&a->values)) {
      std::vector<int64_t> out;
      out.reserve(u->size());
      for (uint64_t x : *u) {
        if (x > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
          return OutOfRangeError(fmt::format(
              "{}: GGUF metadata '{}' holds {} which does not fit in int64", name_, key, x));
        }
        out.push_back(static_cast<int64_t>(x));
      }
      return out;
    }
  }
  return WrongType(name_, key, *v, "an integer array");
}

}  // namespace souk::lm
