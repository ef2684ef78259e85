// Fuzzes the session tracker's recovery (online/session_tracker.h Open) on
// arbitrary bytes: it must answer OK or a clear DataLoss, never crash, hang or
// leak. The first byte picks what the rest becomes:
//   0  the whole journal file (framing, torn tails, headers)
//   1  the payload of one journal record with valid framing and checksums, so
//      the event decoder itself is exercised
//   2  the payload of a snapshot with a valid header and checksum (the state
//      decoder)
// A tracker that opens is then checkpointed (re-encoding what was decoded) and
// reopened.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "common/hash.h"
#include "online/session_tracker.h"
#include "online/tracker_format_internal.h"

namespace {

namespace fs = std::filesystem;
using souk::online::internal::Encoder;

const fs::path& Dir() {
  static const fs::path dir = [] {
    std::string t = (fs::temp_directory_path() / "souk-journal-fuzz-XXXXXX").string();
    if (mkdtemp(t.data()) == nullptr) std::abort();
    return fs::path(t);
  }();
  return dir;
}

std::string FileHeader(const char (&magic)[8], uint32_t version) {
  Encoder e;
  e.Raw(magic, 8);
  e.U32(version);
  e.U32(0);
  return std::move(e.bytes());
}

void Write(const fs::path& p, std::string_view bytes) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace in = souk::online::internal;
  if (size == 0) return 0;
  const fs::path& dir = Dir();
  std::error_code ec;
  fs::remove(dir / in::kJournalFile, ec);
  fs::remove(dir / in::kSnapshotFile, ec);
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0:
      Write(dir / in::kJournalFile, rest);
      break;
    case 1: {
      Encoder e;
      e.U32(static_cast<uint32_t>(rest.size()));
      const uint32_t len_check = static_cast<uint32_t>(souk::Fnv1a64(e.bytes()));
      Encoder rec;
      rec.U32(static_cast<uint32_t>(rest.size()));
      rec.U32(len_check);
      rec.U64(souk::Fnv1a64(rest));
      rec.Raw(rest.data(), rest.size());
      Write(dir / in::kJournalFile, FileHeader(in::kJournalMagic, in::kJournalVersion) + rec.bytes());
      break;
    }
    default: {
      Encoder e;
      e.U64(rest.size());
      e.U64(souk::Fnv1a64(rest));
      e.Raw(rest.data(), rest.size());
      Write(dir / in::kSnapshotFile, FileHeader(in::kSnapshotMagic, in::kSnapshotVersion) + e.bytes());
      break;
    }
  }
  souk::online::TrackerOptions options;
  options.dir = dir.string();
  options.sync = false;
  options.checkpoint_every = 0;
  auto tracker = souk::online::SessionTracker::Open(options);
  if (tracker.ok()) {
    (void)(*tracker)->Stats();
    (void)(*tracker)->LatestSessionOf("u");
    if ((*tracker)->Checkpoint().ok()) {
      tracker->reset();
      auto again = souk::online::SessionTracker::Open(options);
      if (!again.ok()) std::abort();  // what the tracker wrote itself must read back
    }
  }
  return 0;
}
