// Private to online/: the on-disk layout of the session tracker's files (see
// online/README.md, "Persistence format"), shared by session_tracker.cc and its
// test. Little-endian integers, IEEE-754 doubles stored by their bit pattern.
//
//   <dir>/sessions.journal   file header, then one record per Observe batch (or
//                            ExpireIdle call) appended since the last snapshot
//   <dir>/sessions.snapshot  file header, u64 payload length, u64 FNV-1a 64 of
//                            the payload, payload (all state at one journal seq)
//   <dir>/LOCK               flock()ed while a tracker has the folder open
//
// Thread-safety: constants and pure functions.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace souk::online::internal {

inline constexpr char kJournalFile[] = "sessions.journal";
inline constexpr char kSnapshotFile[] = "sessions.snapshot";
inline constexpr char kLockFile[] = "LOCK";

// File header: 8-byte magic, u32 format version, u32 reserved (0).
inline constexpr char kJournalMagic[8] = {'S', 'O', 'U', 'K', 'J', 'R', 'N', 'L'};
inline constexpr char kSnapshotMagic[8] = {'S', 'O', 'U', 'K', 'S', 'N', 'A', 'P'};
inline constexpr uint32_t kJournalVersion = 1;
inline constexpr uint32_t kSnapshotVersion = 1;
inline constexpr size_t kFileHeaderBytes = 16;

// Journal record header: u32 payload length, u32 check of the length (low 32
// bits of FNV-1a 64 over the 4 length bytes), u64 FNV-1a 64 of the payload.
inline constexpr size_t kRecordHeaderBytes = 16;
inline constexpr uint32_t kMaxRecordBytes = 1u << 30;

// Record kinds (first payload byte after the u64 sequence number).
inline constexpr uint8_t kRecordBatch = 1;   // u32 n, then n events
inline constexpr uint8_t kRecordExpire = 2;  // i64 now_ms
inline constexpr uint8_t kRecordBatchAt = 3; // i64 source position, u32 n, then n events
// Snapshot payloads end with an i64 source position (absent in older snapshots = 0).

// Appends little-endian encodings to a byte string.
class Encoder {
 public:
  void U8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void U32(uint32_t v) {
    for (int i = 0; i < 4; ++i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
  void U64(uint64_t v) {
    for (int i = 0; i < 8; ++i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
  void I64(int64_t v) { U64(static_cast<uint64_t>(v)); }
  void F64(double v) { U64(std::bit_cast<uint64_t>(v)); }
  void Str(std::string_view s) {
    U32(static_cast<uint32_t>(s.size()));
    out_.append(s.data(), s.size());
  }
  void Raw(const void* p, size_t n) { out_.append(static_cast<const char*>(p), n); }
  std::string& bytes() { return out_; }

 private:
  std::string out_;
};

// Reads what Encoder wrote; every accessor returns false once the input is
// exhausted (the caller turns that into DataLoss with offset()).
class Decoder {
 public:
  explicit Decoder(std::string_view in) : in_(in) {}
  bool U8(uint8_t& v) {
    if (in_.size() - pos_ < 1) return false;
    v = static_cast<uint8_t>(in_[pos_++]);
    return true;
  }
  bool U32(uint32_t& v) {
    if (in_.size() - pos_ < 4) return false;
    v = 0;
    for (int i = 0; i < 4; ++i) v |= uint32_t{static_cast<uint8_t>(in_[pos_ + i])} << (8 * i);
    pos_ += 4;
    return true;
  }
  bool U64(uint64_t& v) {
    if (in_.size() - pos_ < 8) return false;
    v = 0;
    for (int i = 0; i < 8; ++i) v |= uint64_t{static_cast<uint8_t>(in_[pos_ + i])} << (8 * i);
    pos_ += 8;
    return true;
  }
  bool I64(int64_t& v) {
    uint64_t u;
    if (!U64(u)) return false;
    v = static_cast<int64_t>(u);
    return true;
  }
  bool F64(double& v) {
    uint64_t u;
    if (!U64(u)) return false;
    v = std::bit_cast<double>(u);
    return true;
  }
  bool Str(std::string& s) {
    uint32_t n;
    if (!U32(n) || in_.size() - pos_ < n) return false;
    s.assign(in_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  size_t offset() const { return pos_; }
  bool done() const { return pos_ == in_.size(); }

 private:
  std::string_view in_;
  size_t pos_ = 0;
};

}  // namespace souk::online::internal
