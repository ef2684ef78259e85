// libFuzzer target for the safetensors reader: arbitrary bytes must give an
// error or a file whose every view lies inside the buffer and converts safely.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "lm/safetensors.h"

namespace {

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> bytes(data, data + size);
  auto file = souk::lm::SafetensorsFile::FromBytes(bytes, "fuzz.safetensors");
  if (!file.ok()) {
    Check(!file.status().message().empty());
    return 0;
  }
  const souk::lm::SafetensorsFile& f = **file;
  size_t total = 0;
  for (const souk::lm::TensorView& t : f.tensors()) {
    Check(f.Find(t.name) == &t);
    Check(t.nbytes == static_cast<size_t>(t.numel()) * souk::lm::DTypeSize(t.dtype));
    total += t.nbytes;
    Check(total <= size);
    auto floats = souk::lm::ToFloat32(t);
    if (floats.ok()) Check(floats->size() == static_cast<size_t>(t.numel()));
  }
  return 0;
}
