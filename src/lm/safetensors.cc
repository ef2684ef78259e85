#include "lm/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <set>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace souk::lm {

namespace {

constexpr uint64_t kMaxHeaderBytes = 100ull * 1000 * 1000;  // as the reference implementation
constexpr std::string_view kMetadataKey = "__metadata__";

struct DTypeInfo {
  DType dtype;
  std::string_view name;
  size_t size;
};
constexpr std::array<DTypeInfo, 10> kDTypes = {{
    {DType::kF64, "F64", 8},
    {DType::kF32, "F32", 4},
    {DType::kF16, "F16", 2},
    {DType::kBF16, "BF16", 2},
    {DType::kI64, "I64", 8},
    {DType::kI32, "I32", 4},
    {DType::kI16, "I16", 2},
    {DType::kI8, "I8", 1},
    {DType::kU8, "U8", 1},
    {DType::kBool, "BOOL", 1},
}};

uint32_t FloatBits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}
float BitsFloat(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

uint64_t ReadLe64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// numel with overflow detection; false on overflow or a negative dimension.
bool CheckedNumel(const std::vector<int64_t>& shape, int64_t* out) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) return false;
    if (__builtin_mul_overflow(n, d, &n)) return false;
  }
  *out = n;
  return true;
}

std::string ShapeString(const std::vector<int64_t>& shape) {
  return fmt::format("[{}]", fmt::join(shape, ", "));
}

// Reads a JSON integer >= 0 into *out; false for anything else.
bool GetNonNegative(const nlohmann::json& j, uint64_t* out) {
  if (j.is_number_unsigned()) {
    *out = j.get<uint64_t>();
    return true;
  }
  if (j.is_number_integer()) {
    int64_t v = j.get<int64_t>();
    if (v < 0) return false;
    *out = static_cast<uint64_t>(v);
    return true;
  }
  return false;
}

}  // namespace

std::string_view DTypeName(DType dtype) {
  for (const auto& d : kDTypes) {
    if (d.dtype == dtype) return d.name;
  }
  return "?";
}

size_t DTypeSize(DType dtype) {
  for (const auto& d : kDTypes) {
    if (d.dtype == dtype) return d.size;
  }
  return 0;
}

StatusOr<DType> ParseDType(std::string_view name) {
  for (const auto& d : kDTypes) {
    if (d.name == name) return d.dtype;
  }
  return InvalidArgumentError(fmt::format(
      "unknown dtype '{}' (supported: F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL)", name));
}

int64_t TensorView::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

// ---------------------------------------------------------------------------
// SafetensorsFile

SafetensorsFile::SafetensorsFile(SafetensorsFile&& other) noexcept { *this = std::move(other); }

SafetensorsFile& SafetensorsFile::operator=(SafetensorsFile&& other) noexcept {
  if (this == &other) return *this;
  Release();
  path_ = std::move(other.path_);
  base_ = std::exchange(other.base_, nullptr);
  size_ = std::exchange(other.size_, 0);
  mapping_ = std::exchange(other.mapping_, nullptr);
  owned_ = std::move(other.owned_);  // the heap buffer moves, pointers stay valid
  other.owned_.clear();
  tensors_ = std::move(other.tensors_);
  other.tensors_.clear();
  index_ = std::move(other.index_);
  other.index_.clear();
  metadata_ = std::move(other.metadata_);
  other.metadata_.clear();
  return *this;
}

SafetensorsFile::~SafetensorsFile() { Release(); }

void SafetensorsFile::Release() {
  if (mapping_ != nullptr) munmap(mapping_, size_);
  mapping_ = nullptr;
  base_ = nullptr;
  size_ = 0;
  owned_.clear();
  tensors_.clear();
  index_.clear();
}

const TensorView* SafetensorsFile::Find(std::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

StatusOr<std::unique_ptr<SafetensorsFile>> SafetensorsFile::Open(
    const std::filesystem::path& path) {
  const std::string name = path.string();
  int fd = ::open(name.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) return NotFoundError(fmt::format("{}: no such file", name));
    return UnavailableError(fmt::format("{}: cannot open: {}", name, std::strerror(err)));
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return UnavailableError(fmt::format("{}: cannot stat: {}", name, std::strerror(err)));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return InvalidArgumentError(fmt::format("{}: not a regular file", name));
  }
  const size_t size = static_cast<size_t>(st.st_size);
  if (size < 8) {
    ::close(fd);
    return DataLossError(fmt::format(
        "{}: truncated safetensors file: {} bytes, shorter than the 8-byte header length", name,
        size));
  }
  void* m = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  int err = errno;
  ::close(fd);
  if (m == MAP_FAILED) {
    return UnavailableError(fmt::format("{}: cannot mmap: {}", name, std::strerror(err)));
  }
  std::unique_ptr<SafetensorsFile> file(new SafetensorsFile());
  file->path_ = path;
  file->mapping_ = m;
  file->base_ = static_cast<const uint8_t*>(m);
  file->size_ = size;
  RETURN_IF_ERROR(file->Parse());
  return file;
}

StatusOr<std::unique_ptr<SafetensorsFile>> SafetensorsFile::FromBytes(std::vector<uint8_t> bytes,
                                                                      std::string_view name) {
  std::unique_ptr<SafetensorsFile> file(new SafetensorsFile());
  file->path_ = std::filesystem::path(std::string(name));
  file->owned_ = std::move(bytes);
  file->base_ = file->owned_.data();
  file->size_ = file->owned_.size();
  RETURN_IF_ERROR(file->Parse());
  return file;
}

Status SafetensorsFile::Parse() {
  const std::string name = path_.string();
  auto invalid = [&](std::string what) {
    return InvalidArgumentError(fmt::format("{}: invalid safetensors file: {}", name, what));
  };
  if (size_ < 8) {
    return DataLossError(fmt::format(
        "{}: truncated safetensors file: {} bytes, shorter than the 8-byte header length", name,
        size_));
  }
  const uint64_t header_len = ReadLe64(base_);
  if (header_len > kMaxHeaderBytes) {
    return invalid(fmt::format("header length {} exceeds the 100 MB limit", header_len));
  }
  if (header_len > size_ - 8) {
    return DataLossError(fmt::format(
        "{}: truncated safetensors file: header of {} bytes but only {} bytes follow the length",
        name, header_len, size_ - 8));
  }
  const char* header_begin = reinterpret_cast<const char*>(base_ + 8);
  const std::string_view header(header_begin, header_len);
  if (header.empty() || header.front() != '{') {
    return invalid("header does not start with '{' (not a JSON object)");
  }

  // Parse, noticing duplicate top-level keys (nlohmann keeps only one).
  std::set<std::string> seen;
  std::string duplicate;
  auto callback = [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    if (event == nlohmann::json::parse_event_t::key && depth == 1 && parsed.is_string()) {
      const auto& key = parsed.get_ref<const std::string&>();
      if (!seen.insert(key).second && duplicate.empty()) duplicate = key;
    }
    return true;
  };
  nlohmann::json root = nlohmann::json::parse(header.begin(), header.end(), callback,
                                              /*allow_exceptions=*/false);
  if (root.is_discarded()) return invalid("header is not valid JSON");
  if (!root.is_object()) return invalid("header is not a JSON object");
  if (!duplicate.empty()) return invalid(fmt::format("duplicate tensor name '{}'", duplicate));

  const uint8_t* data = base_ + 8 + header_len;
  const uint64_t data_size = size_ - 8 - header_len;

  struct Entry {
    uint64_t begin, end;
    size_t index;
  };
  std::vector<Entry> entries;
  std::vector<TensorView> tensors;
  std::map<std::string, std::string> metadata;
  for (auto it = root.begin(); it != root.end(); ++it) {
    const std::string& key = it.key();
    const nlohmann::json& value = it.value();
    if (key == kMetadataKey) {
      if (value.is_null()) continue;
      if (!value.is_object()) return invalid("\"__metadata__\" is not an object");
      for (auto m = value.begin(); m != value.end(); ++m) {
        if (!m.value().is_string()) {
          return invalid(fmt::format("\"__metadata__\" value of '{}' is not a string", m.key()));
        }
        metadata[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    if (!value.is_object()) return invalid(fmt::format("tensor '{}': entry is not an object", key));
    auto dtype_it = value.find("dtype");
    auto shape_it = value.find("shape");
    auto offsets_it = value.find("data_offsets");
    if (dtype_it == value.end()) return invalid(fmt::format("tensor '{}': missing \"dtype\"", key));
    if (shape_it == value.end()) return invalid(fmt::format("tensor '{}': missing \"shape\"", key));
    if (offsets_it == value.end()) {
      return invalid(fmt::format("tensor '{}': missing \"data_offsets\"", key));
    }
    if (!dtype_it->is_string())
      return invalid(fmt::format("tensor '{}': \"dtype\" is not a string", key));
    auto dtype = ParseDType(dtype_it->get_ref<const std::string&>());
    if (!dtype.ok()) return invalid(fmt::format("tensor '{}': {}", key, dtype.status().message()));

    TensorView t;
    t.name = key;
    t.dtype = *dtype;
    if (!shape_it->is_array())
      return invalid(fmt::format("tensor '{}': \"shape\" is not an array", key));
    for (const auto& d : *shape_it) {
      if (d.is_number_integer() && !d.is_number_unsigned() && d.get<int64_t>() < 0) {
        return invalid(
            fmt::format("tensor '{}': negative dimension {} in \"shape\"", key, d.get<int64_t>()));
      }
      uint64_t dim = 0;
      if (!GetNonNegative(d, &dim) || dim > static_cast<uint64_t>(INT64_MAX)) {
        return invalid(fmt::format("tensor '{}': \"shape\" entry {} is not a non-negative integer",
                                   key, d.dump()));
      }
      t.shape.push_back(static_cast<int64_t>(dim));
    }
    int64_t numel = 0;
    if (!CheckedNumel(t.shape, &numel) ||
        static_cast<uint64_t>(numel) > UINT64_MAX / DTypeSize(t.dtype)) {
      return invalid(fmt::format("tensor '{}': shape {} overflows", key, ShapeString(t.shape)));
    }
    const uint64_t expected = static_cast<uint64_t>(numel) * DTypeSize(t.dtype);

    if (!offsets_it->is_array() || offsets_it->size() != 2) {
      return invalid(fmt::format("tensor '{}': \"data_offsets\" is not a [begin, end] pair", key));
    }
    uint64_t begin = 0, end = 0;
    if (!GetNonNegative((*offsets_it)[0], &begin) || !GetNonNegative((*offsets_it)[1], &end)) {
      return invalid(fmt::format("tensor '{}': \"data_offsets\" {} are not non-negative integers",
                                 key, offsets_it->dump()));
    }
    if (begin > end) {
      return invalid(fmt::format("tensor '{}': data_offsets begin {} > end {}", key, begin, end));
    }
    if (end - begin != expected) {
      return invalid(fmt::format(
          "tensor '{}': data_offsets [{}, {}] hold {} bytes but {} {} needs {} bytes", key, begin,
          end, end - begin, DTypeName(t.dtype), ShapeString(t.shape), expected));
    }
    if (end > data_size) {
      return DataLossError(fmt::format(
          "{}: truncated safetensors file: tensor '{}' ends at data offset {} but the data "
          "section has only {} bytes",
          name, key, end, data_size));
    }
    t.data = data + begin;
    t.nbytes = static_cast<size_t>(expected);
    entries.push_back({begin, end, tensors.size()});
    tensors.push_back(std::move(t));
  }

  // The tensors must tile the data section: sorted by offset, each begins
  // where the previous ended, and the last ends at the end of the file.
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t pos = 0;
  const std::string* prev_name = nullptr;
  for (const Entry& e : entries) {
    const std::string& tname = tensors[e.index].name;
    if (e.begin < pos) {
      return invalid(fmt::format("tensor '{}' (data_offsets [{}, {}]) overlaps tensor '{}'", tname,
                                 e.begin, e.end, prev_name ? *prev_name : std::string()));
    }
    if (e.begin > pos) {
      return invalid(fmt::format("gap of {} bytes in the data section before tensor '{}'",
                                 e.begin - pos, tname));
    }
    pos = e.end;
    prev_name = &tname;
  }
  if (pos != data_size) {
    return invalid(
        fmt::format("{} bytes after the last tensor (data section {} bytes, tensors "
                    "cover {})",
                    data_size - pos, data_size, pos));
  }

  tensors_.clear();
  tensors_.reserve(tensors.size());
  for (const Entry& e : entries) tensors_.push_back(std::move(tensors[e.index]));
  index_.clear();
  for (size_t i = 0; i < tensors_.size(); ++i) index_.emplace(tensors_[i].name, i);
  metadata_ = std::move(metadata);
  return OkStatus();
}

// ---------------------------------------------------------------------------
// Conversions

StatusOr<std::vector<float>> ToFloat32(const TensorView& t) {
  const size_t n = static_cast<size_t>(t.numel());
  const size_t esize = DTypeSize(t.dtype);
  if (t.nbytes != n * esize || (n > 0 && t.data == nullptr)) {
    return InvalidArgumentError(fmt::format("tensor '{}': {} bytes for {} {} values", t.name,
                                            t.nbytes, n, DTypeName(t.dtype)));
  }
  std::vector<float> out(n);
  const uint8_t* p = t.data;
  switch (t.dtype) {
    case DType::kF32:
      if (n > 0) std::memcpy(out.data(), p, n * 4);
      break;
    case DType::kF64:
      for (size_t i = 0; i < n; ++i) {
        double d;
        std::memcpy(&d, p + 8 * i, 8);
        out[i] = static_cast<float>(d);
      }
      break;
    case DType::kF16:
      for (size_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, p + 2 * i, 2);
        out[i] = HalfToFloat(h);
      }
      break;
    case DType::kBF16:
      for (size_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, p + 2 * i, 2);
        out[i] = Bf16ToFloat(h);
      }
      break;
    default:
      return InvalidArgumentError(
          fmt::format("tensor '{}' has dtype {}: only F32, F16, BF16 and F64 convert to float32",
                      t.name, DTypeName(t.dtype)));
  }
  return out;
}

uint16_t FloatToHalf(float value) {
  const uint32_t x = FloatBits(value);
  const uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000u);
  const uint32_t a = x & 0x7fffffffu;
  if (a >= 0x7f800000u) {  // inf or NaN
    if (a == 0x7f800000u) return sign | 0x7c00u;
    return static_cast<uint16_t>(sign | 0x7e00u | ((a >> 13) & 0x3ffu));  // quiet NaN
  }
  if (a >= 0x477ff000u) return sign | 0x7c00u;  // >= 65520 rounds to infinity
  if (a >= 0x38800000u) {                       // normal binary16 (>= 2^-14)
    uint32_t r = a - (112u << 23);              // rebias the exponent 127 -> 15
    r += 0xfffu + ((r >> 13) & 1u);             // round to nearest even
    return static_cast<uint16_t>(sign | (r >> 13));
  }
  // Subnormal binary16: value = m * 2^-24.
  const uint32_t exp = a >> 23;
  const uint32_t shift = 126u - exp;  // >= 14
  if (shift > 24) return sign;        // below half of the smallest subnormal
  const uint32_t mant = (a & 0x7fffffu) | 0x800000u;
  uint32_t m = mant >> shift;
  const uint32_t rem = mant & ((1u << shift) - 1u);
  const uint32_t half = 1u << (shift - 1);
  if (rem > half || (rem == half && (m & 1u))) ++m;
  return static_cast<uint16_t>(sign | m);
}

float HalfToFloat(uint16_t bits) {
  const uint32_t sign = static_cast<uint32_t>(bits & 0x8000u) << 16;
  const uint32_t exp = (bits >> 10) & 0x1fu;
  const uint32_t mant = bits & 0x3ffu;
  if (exp == 0) {
    const float v = std::ldexp(static_cast<float>(mant), -24);  // exact
    return sign ? -v : v;
  }
  if (exp == 31) return BitsFloat(sign | 0x7f800000u | (mant << 13));
  return BitsFloat(sign | ((exp + 112u) << 23) | (mant << 13));
}

uint16_t FloatToBf16(float value) {
  const uint32_t x = FloatBits(value);
  if ((x & 0x7fffffffu) > 0x7f800000u) {  // NaN: keep sign and top payload, force quiet
    return static_cast<uint16_t>((x >> 16) | 0x40u);
  }
  const uint32_t rounded = x + 0x7fffu + ((x >> 16) & 1u);  // overflow carries into inf
  return static_cast<uint16_t>(rounded >> 16);
}

float Bf16ToFloat(uint16_t bits) { return BitsFloat(static_cast<uint32_t>(bits) << 16); }

// ---------------------------------------------------------------------------
// Writing

Status WriteSafetensors(const std::filesystem::path& path, std::span<const TensorToWrite> tensors,
                        const std::map<std::string, std::string>& metadata) {
  const std::string file = path.string();
  // Validate everything before touching the disk.
  std::map<std::string_view, size_t> by_name;
  std::vector<uint64_t> offsets(tensors.size() + 1, 0);
  for (size_t i = 0; i < tensors.size(); ++i) {
    const TensorToWrite& t = tensors[i];
    if (t.name.empty()) {
      return InvalidArgumentError(fmt::format("{}: tensor #{} has an empty name", file, i));
    }
    if (t.name == kMetadataKey) {
      return InvalidArgumentError(
          fmt::format("{}: tensor #{} may not be called \"__metadata__\"", file, i));
    }
    if (!by_name.emplace(t.name, i).second) {
      return InvalidArgumentError(fmt::format("{}: duplicate tensor name '{}'", file, t.name));
    }
    int64_t numel = 0;
    if (!CheckedNumel(t.shape, &numel)) {
      return InvalidArgumentError(
          fmt::format("{}: tensor '{}': invalid shape {}", file, t.name, ShapeString(t.shape)));
    }
    const uint64_t expected = static_cast<uint64_t>(numel) * DTypeSize(t.dtype);
    if (DTypeSize(t.dtype) == 0 || t.bytes.size() != expected) {
      return InvalidArgumentError(
          fmt::format("{}: tensor '{}': {} bytes given but {} {} needs {} bytes", file, t.name,
                      t.bytes.size(), DTypeName(t.dtype), ShapeString(t.shape), expected));
    }
    offsets[i + 1] = offsets[i] + expected;
  }

  std::string header;
  try {
    nlohmann::ordered_json root = nlohmann::ordered_json::object();
    if (!metadata.empty()) {
      nlohmann::ordered_json meta = nlohmann::ordered_json::object();
      for (const auto& [k, v] : metadata) meta[k] = v;
      root[std::string(kMetadataKey)] = std::move(meta);
    }
    for (const auto& [tname, i] : by_name) {
      const TensorToWrite& t = tensors[i];
      nlohmann::ordered_json entry = nlohmann::ordered_json::object();
      entry["dtype"] = std::string(DTypeName(t.dtype));
      entry["shape"] = t.shape;
      entry["data_offsets"] = {offsets[i], offsets[i + 1]};
      root[t.name] = std::move(entry);
    }
    header = root.dump();
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgumentError(
        fmt::format("{}: a tensor name or metadata is not valid UTF-8: {}", file, e.what()));
  }
  header.append((8 - header.size() % 8) % 8, ' ');

  std::error_code ec;
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
  if (ec) {
    return UnavailableError(
        fmt::format("cannot create {}: {}", path.parent_path().string(), ec.message()));
  }
  const std::filesystem::path tmp = file + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) {
    return UnavailableError(fmt::format("cannot write {}: {}", tmp.string(), std::strerror(errno)));
  }
  bool ok = true;
  auto put = [&](const void* p, size_t n) {
    if (ok && n > 0 && std::fwrite(p, 1, n, f) != n) ok = false;
  };
  uint8_t len[8];
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>(n >> (8 * i));
  put(len, 8);
  put(header.data(), header.size());
  for (const TensorToWrite& t : tensors) put(t.bytes.data(), t.bytes.size());
  if (std::fflush(f) != 0) ok = false;
  const int saved_errno = errno;
  if (std::fclose(f) != 0) ok = false;
  if (!ok) {
    std::filesystem::remove(tmp, ec);
    return UnavailableError(
        fmt::format("write failed: {}: {}", tmp.string(), std::strerror(saved_errno)));
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    return UnavailableError(
        fmt::format("cannot rename {} to {}: {}", tmp.string(), file, ec.message()));
  }
  return OkStatus();
}

}  // namespace souk::lm
