#include "ingest/csv_reader.h"

#include <algorithm>
#include <cstring>
#include <unordered_map>
#include <utility>

namespace souk::ingest {
namespace {

const char* FindByte(const char* p, const char* e, char c) {
  if (p >= e) return nullptr;
  return static_cast<const char*>(std::memchr(p, c, static_cast<size_t>(e - p)));
}

uint64_t CountNewlines(const char* p, const char* e) {
  uint64_t n = 0;
  while ((p = FindByte(p, e, '\n')) != nullptr) {
    ++n;
    ++p;
  }
  return n;
}

std::string Quoted(std::string_view s) {
  std::string out = "'";
  out.append(s);
  out += "'";
  return out;
}

}  // namespace

CsvReader::CsvReader(std::unique_ptr<LineSource> source, CsvOptions options)
    : src_(std::move(source)), opts_(options) {}

CsvReader::~CsvReader() = default;

StatusOr<std::unique_ptr<CsvReader>> CsvReader::Open(const std::string& path, CsvOptions options) {
  ASSIGN_OR_RETURN(auto source, LineSource::OpenFile(path, options.read_chunk_bytes));
  std::unique_ptr<CsvReader> reader(new CsvReader(std::move(source), options));
  RETURN_IF_ERROR(reader->ReadHeader());
  return reader;
}

std::unique_ptr<CsvReader> CsvReader::FromString(std::string_view data, CsvOptions options) {
  std::unique_ptr<CsvReader> reader(new CsvReader(LineSource::FromString(data), options));
  Status s = reader->ReadHeader();
  if (!s.ok()) reader->status_ = std::move(s);
  return reader;
}

uint64_t CsvReader::bytes_read() const { return src_->offset(); }
uint64_t CsvReader::total_bytes() const { return src_->total_bytes(); }

int CsvReader::Column(std::string_view name) const {
  for (size_t i = 0; i < header_.size(); ++i) {
    if (header_[i] == name) return static_cast<int>(i);
  }
  return -1;
}

std::string CsvReader::ColumnLabel(size_t index) const {
  std::string out = "column " + std::to_string(index + 1);
  if (index < header_.size()) out += " (" + header_[index] + ")";
  return out;
}

Status CsvReader::ReadHeader() {
  src_->SkipBom();
  if (!src_->status().ok()) return src_->status();
  if (!opts_.has_header) return OkStatus();
  CsvRecord rec;
  if (!ReadRecord(&rec)) return status_;  // empty input: empty header, or an I/O error
  const std::string where = src_->name() + ": header (line " + std::to_string(rec.line) + ")";
  if (rec.error == RecordError::kNone && opts_.validate_utf8) CheckUtf8(&rec);
  if (rec.error != RecordError::kNone) {
    status_ = InvalidArgumentError(where + ": " + rec.error_detail);
    return status_;
  }
  std::unordered_map<std::string_view, size_t> seen;
  std::string problems;
  for (size_t i = 0; i < rec.fields.size(); ++i) {
    std::string_view name = rec.fields[i];
    std::string issue;
    if (name.empty()) {
      issue = "column " + std::to_string(i + 1) + " has an empty name";
    } else if (auto [it, inserted] = seen.emplace(name, i); !inserted) {
      issue = "duplicate column name " + Quoted(name) + " (columns " +
              std::to_string(it->second + 1) + " and " + std::to_string(i + 1) + ")";
    }
    if (!issue.empty()) {
      if (!problems.empty()) problems += "; ";
      problems += issue;
    }
  }
  if (!problems.empty()) {
    status_ = InvalidArgumentError(where + ": " + problems);
    return status_;
  }
  header_.assign(rec.fields.begin(), rec.fields.end());
  expected_columns_ = header_.size();
  return OkStatus();
}

// Scans one record starting at `s` in the window [s, e). See csv_reader.h for
// the rules; the outcome depends only on the input bytes, not on where the
// window happens to end (kNeedMore is returned whenever it could).
CsvReader::ScanOutcome CsvReader::Scan(const char* s, const char* e, bool eof, ScanResult* r) {
  const char delim = opts_.delimiter;
  const char quote = opts_.quote;
  const size_t max_field = opts_.max_field_bytes;
  spans_.clear();
  scratch_.clear();
  r->newlines = 0;
  r->error = RecordError::kNone;
  r->detail.clear();

  const char* p = s;
  for (;;) {
    const size_t col = spans_.size();
    FieldSpan f{0, 0, false};
    if (p < e && *p == quote) {
      // ---- Quoted field.
      const char* content = p + 1;
      const char* q = content;
      const char* seg = content;  // first byte not yet copied to scratch_
      const char* close = nullptr;
      const char* known_end = e;  // content is known to extend at least to here
      bool escaped = false;
      size_t scratch_begin = 0;
      for (;;) {
        const char* hit = FindByte(q, e, quote);
        if (hit == nullptr) break;
        if (hit + 1 == e && !eof) {  // closing or escaping quote? need one more byte
          known_end = hit;
          break;
        }
        if (hit + 1 < e && hit[1] == quote) {
          if (!escaped) {
            escaped = true;
            scratch_begin = scratch_.size();
          }
          scratch_.append(seg, static_cast<size_t>(hit + 1 - seg));
          seg = q = hit + 2;
          continue;
        }
        close = hit;
        break;
      }
      if (close != nullptr) known_end = close;
      const size_t known = static_cast<size_t>(known_end - content);
      if (known > max_field) {
        const char* nl = FindByte(content, known_end, '\n');
        if (nl != nullptr) {  // runaway quote across lines
          r->extent = static_cast<size_t>(nl - s);
          r->error = RecordError::kUnterminatedQuote;
          r->detail = "quoted field in " + ColumnLabel(col) + " runs over " +
                      std::to_string(max_field) +
                      " bytes across lines without a closing quote; resuming at line " +
                      std::to_string(line_ + 1);
          return ScanOutcome::kAbort;
        }
      }
      if (close == nullptr) {
        if (!eof) return ScanOutcome::kNeedMore;
        r->extent = static_cast<size_t>(e - s);
        r->error = RecordError::kUnterminatedQuote;
        r->detail =
            "unterminated quoted field in " + ColumnLabel(col) + " (input ends inside quotes)";
        return ScanOutcome::kAbort;
      }
      r->newlines += CountNewlines(content, close);
      // Lenient tail after the closing quote, up to the delimiter / line end.
      const char* t = close + 1;
      while (t < e && *t != delim && *t != '\n') ++t;
      if (t == e && !eof) return ScanOutcome::kNeedMore;
      const char* tail_end = t;
      if (opts_.trim_cr && tail_end > close + 1 && tail_end[-1] == '\r' && (t == e || *t == '\n')) {
        --tail_end;
      }
      if (tail_end > close + 1 && !escaped) {
        escaped = true;
        scratch_begin = scratch_.size();
      }
      if (escaped) {
        scratch_.append(seg, static_cast<size_t>(close - seg));
        scratch_.append(close + 1, static_cast<size_t>(tail_end - (close + 1)));
        f = FieldSpan{scratch_begin, scratch_.size() - scratch_begin, true};
      } else {
        f = FieldSpan{static_cast<size_t>(content - s), static_cast<size_t>(close - content),
                      false};
      }
      p = t;
    } else {
      // ---- Unquoted field.
      const char* q = p;
      while (q < e && *q != delim && *q != '\n') ++q;
      if (q == e && !eof) return ScanOutcome::kNeedMore;
      const char* vend = q;
      if (opts_.trim_cr && vend > p && vend[-1] == '\r' && (q == e || *q == '\n')) --vend;
      f = FieldSpan{static_cast<size_t>(p - s), static_cast<size_t>(vend - p), false};
      p = q;
    }
    spans_.push_back(f);
    if (f.size > max_field && r->error == RecordError::kNone) {
      r->error = RecordError::kFieldTooLong;
      r->detail = "field of " + std::to_string(f.size) + " bytes in " + ColumnLabel(col) +
                  " exceeds " + std::to_string(max_field);
    }
    if (p < e && *p == delim) {
      ++p;
      continue;
    }
    // End of record: p == e (end of input) or *p == '\n'.
    const char* raw_end = p;
    if (opts_.trim_cr && raw_end > s && raw_end[-1] == '\r') --raw_end;
    r->raw_size = static_cast<size_t>(raw_end - s);
    r->consumed = static_cast<size_t>(p - s) + (p < e ? 1 : 0);
    r->extent = r->raw_size;
    return ScanOutcome::kComplete;
  }
}

void CsvReader::SkipLine() {
  size_t from = 0;
  for (;;) {
    const char* nl = FindByte(src_->data() + from, src_->data() + src_->size(), '\n');
    if (nl != nullptr) {
      src_->Consume(static_cast<size_t>(nl - src_->data()) + 1);
      return;
    }
    // Drop what we have (never buffer a too-long line) and read on.
    src_->Consume(src_->size());
    from = 0;
    if (!src_->Refill()) return;
  }
}

bool CsvReader::ReadRecord(CsvRecord* rec) {
  rec->fields.clear();
  rec->error = RecordError::kNone;
  rec->error_detail.clear();
  rec->raw = {};
  for (;;) {
    if (src_->size() == 0) {
      if (src_->eof() || !src_->Refill()) {
        if (!src_->status().ok()) status_ = src_->status();
        return false;
      }
    }
    const char* s = src_->data();
    const char* e = s + src_->size();
    ScanOutcome outcome = Scan(s, e, src_->eof(), &scan_);
    if (outcome == ScanOutcome::kNeedMore) {
      if (src_->size() > opts_.max_record_bytes + 1) {
        scan_.extent = src_->size();  // too long for sure
      } else {
        if (!src_->Refill() && !src_->status().ok()) {
          status_ = src_->status();
          return false;
        }
        continue;
      }
    }
    rec->line = line_;
    rec->byte_offset = src_->offset();
    if (scan_.extent > opts_.max_record_bytes) {
      // Too long: keep a prefix of the raw text, skip the rest streaming.
      raw_copy_.assign(s, std::min({src_->size(), kRawPrefixBytes, opts_.max_record_bytes}));
      rec->raw = raw_copy_;
      rec->error = RecordError::kRecordTooLong;
      rec->error_detail = "record longer than max_record_bytes (" +
                          std::to_string(opts_.max_record_bytes) + "); skipped to line " +
                          std::to_string(line_ + 1);
      SkipLine();
      ++line_;
      if (!src_->status().ok()) status_ = src_->status();
      return true;
    }
    if (outcome == ScanOutcome::kAbort) {
      // Report the start line and resume right after it.
      const char* nl = FindByte(s, e, '\n');
      const char* raw_end = nl != nullptr ? nl : e;
      if (opts_.trim_cr && raw_end > s && raw_end[-1] == '\r') --raw_end;
      rec->raw = std::string_view(s, static_cast<size_t>(raw_end - s));
      rec->error = scan_.error;
      rec->error_detail = std::move(scan_.detail);
      src_->Consume(nl != nullptr ? static_cast<size_t>(nl - s) + 1 : src_->size());
      ++line_;
      return true;
    }
    // Complete record.
    if (scan_.raw_size == 0 && spans_.size() == 1) {  // empty line
      src_->Consume(scan_.consumed);
      ++line_;
      continue;
    }
    rec->raw = std::string_view(s, scan_.raw_size);
    rec->fields.reserve(spans_.size());
    for (const FieldSpan& f : spans_) {
      rec->fields.emplace_back(f.in_scratch ? scratch_.data() + f.begin : s + f.begin, f.size);
    }
    rec->error = scan_.error;
    if (scan_.error != RecordError::kNone) rec->error_detail = std::move(scan_.detail);
    src_->Consume(scan_.consumed);
    line_ += 1 + scan_.newlines;
    return true;
  }
}

void CsvReader::CheckColumns(CsvRecord* rec) {
  if (expected_columns_ == 0) {
    if (opts_.has_header) return;  // no header at all (cannot happen after a record)
    expected_columns_ = rec->fields.size();
    return;
  }
  const size_t got = rec->fields.size();
  if (got == expected_columns_) return;
  if (opts_.allow_short_last_column && got + 1 == expected_columns_) {
    rec->fields.emplace_back();
    return;
  }
  rec->error = RecordError::kWrongColumnCount;
  rec->error_detail =
      "expected " + std::to_string(expected_columns_) + " columns, got " + std::to_string(got);
}

void CsvReader::CheckUtf8(CsvRecord* rec) const {
  if (ValidateUtf8(rec->raw) == std::string_view::npos) return;
  rec->error = RecordError::kInvalidUtf8;
  for (size_t i = 0; i < rec->fields.size(); ++i) {
    size_t bad = ValidateUtf8(rec->fields[i]);
    if (bad != std::string_view::npos) {
      rec->error_detail = "invalid UTF-8 in " + ColumnLabel(i) + " at byte " + std::to_string(bad);
      return;
    }
  }
  rec->error_detail =
      "invalid UTF-8 at byte " + std::to_string(ValidateUtf8(rec->raw)) + " of the record";
}

bool CsvReader::Next(CsvRecord* rec) {
  if (!status_.ok()) return false;
  if (!ReadRecord(rec)) return false;
  if (rec->error == RecordError::kNone) CheckColumns(rec);
  if (rec->error == RecordError::kNone && opts_.validate_utf8) CheckUtf8(rec);
  return true;
}

}  // namespace souk::ingest
