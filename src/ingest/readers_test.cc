#include <chrono>
#include <fstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>

#include "common/testing.h"
#include "ingest/csv_reader.h"
#include "ingest/jsonl_reader.h"
#include "common/utf8.h"

namespace souk::ingest {
namespace {

using ::testing::HasSubstr;

// An owned copy of a CsvRecord (the reader's views die on the next Next()).
struct Row {
  uint64_t line;
  uint64_t offset;
  std::string raw;
  std::vector<std::string> fields;
  RecordError error;
  std::string detail;
  bool operator==(const Row&) const = default;
};

std::vector<Row> ReadAll(CsvReader& reader) {
  std::vector<Row> rows;
  CsvRecord rec;
  while (reader.Next(&rec)) {
    rows.push_back(Row{rec.line, rec.byte_offset, std::string(rec.raw),
                       std::vector<std::string>(rec.fields.begin(), rec.fields.end()), rec.error,
                       rec.error_detail});
  }
  return rows;
}

std::vector<Row> ReadCsv(std::string_view data, CsvOptions options = {}) {
  auto reader = CsvReader::FromString(data, options);
  EXPECT_OK(reader->status());
  return ReadAll(*reader);
}

std::string WriteFile(const std::string& name, std::string_view content) {
  std::filesystem::path path = souk::testing::TempDir("readers") / name;
  std::ofstream out(path, std::ios::binary);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  return path.string();
}

using Fields = std::vector<std::string>;

// ----------------------------------------------------------------- UTF-8

TEST(ValidateUtf8Test, AcceptsValidText) {
  EXPECT_EQ(ValidateUtf8(""), std::string_view::npos);
  EXPECT_EQ(ValidateUtf8("plain ascii text that is long enough for the fast path"),
            std::string_view::npos);
  EXPECT_EQ(ValidateUtf8("caf\xC3\xA9 \xE4\xB8\xAD\xE6\x96\x87 \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF"),
            std::string_view::npos);
}

TEST(ValidateUtf8Test, ReportsOffsetOfFirstBadSequence) {
  EXPECT_EQ(ValidateUtf8("abc\xFF"), 3u);               // invalid byte
  EXPECT_EQ(ValidateUtf8("ab\x80xyz"), 2u);             // stray continuation
  EXPECT_EQ(ValidateUtf8("x\xC0\x80"), 1u);             // overlong NUL
  EXPECT_EQ(ValidateUtf8("\xE0\x80\xAF"), 0u);          // overlong 3-byte
  EXPECT_EQ(ValidateUtf8("12345678\xED\xA0\x80"), 8u);  // surrogate
  EXPECT_EQ(ValidateUtf8("\xF4\x90\x80\x80"), 0u);      // above U+10FFFF
  EXPECT_EQ(ValidateUtf8("ok \xE2\x82"), 3u);           // truncated at end
  EXPECT_EQ(ValidateUtf8("\xC3\xA9\xC3("), 2u);         // bad continuation
}

TEST(RecordErrorTest, NamesAreStable) {
  EXPECT_EQ(RecordErrorName(RecordError::kNone), "none");
  EXPECT_EQ(RecordErrorName(RecordError::kUnterminatedQuote), "unterminated_quote");
  EXPECT_EQ(RecordErrorName(RecordError::kWrongColumnCount), "wrong_column_count");
  EXPECT_EQ(RecordErrorName(RecordError::kInvalidUtf8), "invalid_utf8");
  EXPECT_EQ(RecordErrorName(RecordError::kFieldTooLong), "field_too_long");
  EXPECT_EQ(RecordErrorName(RecordError::kRecordTooLong), "record_too_long");
  EXPECT_EQ(RecordErrorName(RecordError::kInvalidJson), "invalid_json");
  EXPECT_EQ(RecordErrorName(RecordError::kTruncated), "truncated");
  EXPECT_EQ(RecordErrorName(RecordError::kNotAnObject), "not_an_object");
}

// ----------------------------------------------------------------- CSV

TEST(CsvReaderTest, ReadsHeaderFieldsLinesAndOffsets) {
  const std::string data = "id,title,price\n1,Hammer,9.5\n2,Saw,12\n";
  auto reader = CsvReader::FromString(data);
  ASSERT_OK(reader->status());
  EXPECT_EQ(reader->header(), (Fields{"id", "title", "price"}));
  EXPECT_EQ(reader->Column("title"), 1);
  EXPECT_EQ(reader->Column("missing"), -1);
  auto rows = ReadAll(*reader);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].fields, (Fields{"1", "Hammer", "9.5"}));
  EXPECT_EQ(rows[0].line, 2u);
  EXPECT_EQ(rows[0].offset, 15u);
  EXPECT_EQ(rows[0].raw, "1,Hammer,9.5");
  EXPECT_EQ(rows[1].line, 3u);
  EXPECT_EQ(data.substr(rows[1].offset, rows[1].raw.size()), rows[1].raw);
  EXPECT_EQ(rows[1].error, RecordError::kNone);
  EXPECT_EQ(reader->bytes_read(), data.size());
  EXPECT_EQ(reader->total_bytes(), data.size());
}

TEST(CsvReaderTest, QuotedFieldsWithDelimitersQuotesAndNewlines) {
  const std::string data =
      "id,text\n"
      "1,\"a,b\"\n"
      "2,\"say \"\"hi\"\"\"\n"
      "3,\"multi\nline\nvalue\"\n"
      "4,after\n"
      "5,\"\"\n";
  auto rows = ReadCsv(data);
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(rows[0].fields, (Fields{"1", "a,b"}));
  EXPECT_EQ(rows[1].fields, (Fields{"2", "say \"hi\""}));
  EXPECT_EQ(rows[2].fields, (Fields{"3", "multi\nline\nvalue"}));
  EXPECT_EQ(rows[2].line, 4u);
  EXPECT_EQ(rows[2].raw, "3,\"multi\nline\nvalue\"");
  EXPECT_EQ(rows[3].fields, (Fields{"4", "after"}));
  EXPECT_EQ(rows[3].line, 7u);  // the quoted newlines advanced the line count
  EXPECT_EQ(rows[4].fields, (Fields{"5", ""}));
  for (const Row& r : rows) EXPECT_EQ(r.error, RecordError::kNone) << r.detail;
}

TEST(CsvReaderTest, LenientQuotesLikePythonCsv) {
  auto rows = ReadCsv("a,b\nx\"y,\"ab\"c\n");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].fields, (Fields{"x\"y", "abc"}));
}

TEST(CsvReaderTest, AcceptsCrlf) {
  auto rows = ReadCsv("a,b\r\n1,2\r\n3,\"x\r\ny\"\r\n4,\r\n");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].fields, (Fields{"1", "2"}));
  EXPECT_EQ(rows[0].raw, "1,2");
  EXPECT_EQ(rows[1].fields, (Fields{"3", "x\r\ny"}));  // inside quotes kept verbatim
  EXPECT_EQ(rows[1].line, 3u);
  EXPECT_EQ(rows[2].fields, (Fields{"4", ""}));
  EXPECT_EQ(rows[2].line, 5u);
}

TEST(CsvReaderTest, StripsUtf8BomAndSkipsEmptyLines) {
  auto reader = CsvReader::FromString("\xEF\xBB\xBFid,name\n\n1,x\r\n\r\n\n2,y\n\n");
  ASSERT_OK(reader->status());
  EXPECT_EQ(reader->header(), (Fields{"id", "name"}));
  auto rows = ReadAll(*reader);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].line, 3u);
  EXPECT_EQ(rows[0].offset, 12u);
  EXPECT_EQ(rows[1].line, 6u);
  EXPECT_EQ(rows[1].fields, (Fields{"2", "y"}));
}

TEST(CsvReaderTest, HeaderWithDuplicateOrEmptyNamesIsAnError) {
  auto dup = CsvReader::FromString("id,name,id\n1,2,3\n");
  EXPECT_EQ(dup->status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(dup->status().message(), HasSubstr("duplicate column name 'id' (columns 1 and 3)"));
  CsvRecord rec;
  EXPECT_FALSE(dup->Next(&rec));

  std::string path = WriteFile("empty_name.csv", "id,,price\n1,2,3\n");
  auto opened = CsvReader::Open(path);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(opened.status().message(), HasSubstr("column 2 has an empty name"));
  EXPECT_THAT(opened.status().message(), HasSubstr(path));
}

TEST(CsvReaderTest, WrongColumnCountNamesExpectedAndGot) {
  auto rows = ReadCsv("a,b,c\n1,2,3\n4,5\n6,7,8,9\n10,11,12\n");
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[1].error, RecordError::kWrongColumnCount);
  EXPECT_EQ(rows[1].detail, "expected 3 columns, got 2");
  EXPECT_EQ(rows[1].line, 3u);
  EXPECT_EQ(rows[1].fields, (Fields{"4", "5"}));
  EXPECT_EQ(rows[2].error, RecordError::kWrongColumnCount);
  EXPECT_EQ(rows[2].detail, "expected 3 columns, got 4");
  EXPECT_EQ(rows[3].error, RecordError::kNone);
  EXPECT_EQ(rows[3].line, 5u);
}

TEST(CsvReaderTest, AllowShortLastColumnPadsWithEmptyField) {
  CsvOptions options;
  options.allow_short_last_column = true;
  auto rows = ReadCsv("a,b,c\n1,2\n3\n", options);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].error, RecordError::kNone);
  EXPECT_EQ(rows[0].fields, (Fields{"1", "2", ""}));
  EXPECT_EQ(rows[1].error, RecordError::kWrongColumnCount);
}

TEST(CsvReaderTest, WithoutHeaderFirstRecordFixesColumnCount) {
  auto reader =
      CsvReader::FromString("1;2\n3;4\n5\n", CsvOptions{.delimiter = ';', .has_header = false});
  EXPECT_TRUE(reader->header().empty());
  auto rows = ReadAll(*reader);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].line, 1u);
  EXPECT_EQ(rows[0].fields, (Fields{"1", "2"}));
  EXPECT_EQ(rows[1].error, RecordError::kNone);
  EXPECT_EQ(rows[2].error, RecordError::kWrongColumnCount);
}

TEST(CsvReaderTest, TabDelimited) {
  CsvOptions options;
  options.delimiter = '\t';
  auto reader = CsvReader::FromString("a\tb\nx,y\t\"q\tr\"\n", options);
  EXPECT_EQ(reader->header(), (Fields{"a", "b"}));
  auto rows = ReadAll(*reader);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].fields, (Fields{"x,y", "q\tr"}));
}

TEST(CsvReaderTest, UnterminatedQuoteAtEndOfFile) {
  auto rows = ReadCsv("a,b\n1,2\n3,\"abc");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].error, RecordError::kNone);
  EXPECT_EQ(rows[1].error, RecordError::kUnterminatedQuote);
  EXPECT_EQ(rows[1].line, 3u);
  EXPECT_EQ(rows[1].raw, "3,\"abc");
  EXPECT_THAT(rows[1].detail, HasSubstr("column 2 (b)"));
}

TEST(CsvReaderTest, UnterminatedQuoteLosesNothingAfterIt) {
  // The quote opened on line 2 never closes: the lines after it are read again.
  auto rows = ReadCsv("a,b\n1,\"abc\n2,x\n3,y\n");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].error, RecordError::kUnterminatedQuote);
  EXPECT_EQ(rows[0].line, 2u);
  EXPECT_EQ(rows[0].raw, "1,\"abc");
  EXPECT_EQ(rows[1].fields, (Fields{"2", "x"}));
  EXPECT_EQ(rows[1].line, 3u);
  EXPECT_EQ(rows[2].fields, (Fields{"3", "y"}));
  EXPECT_EQ(rows[2].line, 4u);
}

TEST(CsvReaderTest, RunawayQuoteDoesNotSwallowTheFile) {
  // A stray quote on line 2; a later quoted field would "close" it far away.
  std::string data = "id,value\n1,\"oops\n";
  for (int i = 2; i <= 2000; ++i) {
    data += std::to_string(i) + (i == 1500 ? ",\"quoted\"\n" : ",v\n");
  }
  CsvOptions options;
  options.max_field_bytes = 1024;
  auto rows = ReadCsv(data, options);
  ASSERT_EQ(rows.size(), 2000u);
  EXPECT_EQ(rows[0].error, RecordError::kUnterminatedQuote);
  EXPECT_EQ(rows[0].line, 2u);
  EXPECT_THAT(rows[0].detail, HasSubstr("column 2 (value)"));
  for (size_t i = 1; i < rows.size(); ++i) {
    ASSERT_EQ(rows[i].error, RecordError::kNone) << rows[i].line << ": " << rows[i].detail;
    EXPECT_EQ(rows[i].line, i + 2);
    EXPECT_EQ(rows[i].fields[0], std::to_string(i + 1));
  }
  EXPECT_EQ(rows[1499].fields, (Fields{"1500", "quoted"}));
}

TEST(CsvReaderTest, TenMegabyteFieldIsTooLongAndNextRecordsRead) {
  const std::string big(10 << 20, 'x');
  const std::string data = "id,description\n1,short\n2," + big + "\n3,\"" + big + "\"\n4,after\n";
  for (bool from_file : {false, true}) {
    SCOPED_TRACE(from_file ? "file" : "string");
    std::unique_ptr<CsvReader> reader;
    if (from_file) {
      auto opened = CsvReader::Open(WriteFile("big_field.csv", data));
      ASSERT_OK(opened);
      reader = std::move(opened).value();
    } else {
      reader = CsvReader::FromString(data);
    }
    auto rows = ReadAll(*reader);
    ASSERT_OK(reader->status());
    ASSERT_EQ(rows.size(), 4u);
    EXPECT_EQ(rows[0].error, RecordError::kNone);
    EXPECT_EQ(rows[1].error, RecordError::kFieldTooLong);
    EXPECT_EQ(rows[1].line, 3u);
    EXPECT_EQ(rows[1].detail, "field of 10485760 bytes in column 2 (description) exceeds 1048576");
    EXPECT_EQ(rows[2].error, RecordError::kFieldTooLong);
    EXPECT_EQ(rows[2].line, 4u);
    EXPECT_EQ(rows[3].error, RecordError::kNone);
    EXPECT_EQ(rows[3].line, 5u);
    EXPECT_EQ(rows[3].fields, (Fields{"4", "after"}));
  }
}

TEST(CsvReaderTest, RecordTooLongIsSkippedWhileStreaming) {
  const std::string long_line = "2," + std::string(200000, 'y');
  const std::string data = "a,b\n1,x\n" + long_line + "\n3,z\n";
  CsvOptions options;
  options.max_record_bytes = 50000;
  options.max_field_bytes = 1 << 20;
  options.read_chunk_bytes = 4096;
  auto opened = CsvReader::Open(WriteFile("long_record.csv", data), options);
  ASSERT_OK(opened);
  auto rows = ReadAll(**opened);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[1].error, RecordError::kRecordTooLong);
  EXPECT_EQ(rows[1].line, 3u);
  EXPECT_EQ(rows[1].offset, 8u);
  EXPECT_EQ(rows[1].raw, long_line.substr(0, CsvReader::kRawPrefixBytes));
  EXPECT_TRUE(rows[1].fields.empty());
  EXPECT_EQ(rows[2].fields, (Fields{"3", "z"}));
  EXPECT_EQ(rows[2].line, 4u);
  // Same classification when the whole input is in memory.
  EXPECT_EQ(ReadCsv(data, options)[1].error, RecordError::kRecordTooLong);
}

TEST(CsvReaderTest, InvalidUtf8NamesColumnAndByte) {
  auto rows = ReadCsv(
      "id,title\n1,ok\n2,ab\xFF"
      "c\n3,\"x\xC3\"\n4,fine\n");
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[1].error, RecordError::kInvalidUtf8);
  EXPECT_EQ(rows[1].line, 3u);
  EXPECT_EQ(rows[1].detail, "invalid UTF-8 in column 2 (title) at byte 2");
  EXPECT_EQ(rows[2].error, RecordError::kInvalidUtf8);  // truncated sequence before the quote
  EXPECT_EQ(rows[3].error, RecordError::kNone);
  EXPECT_EQ(rows[3].line, 5u);

  CsvOptions lax;
  lax.validate_utf8 = false;
  EXPECT_EQ(ReadCsv("id,title\n2,ab\xFF"
                    "c\n",
                    lax)[0]
                .error,
            RecordError::kNone);
}

TEST(CsvReaderTest, TruncatedLastLine) {
  // The file was cut in the middle of its last line.
  auto rows = ReadCsv("a,b,c\n1,2,3\n4,5");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].error, RecordError::kNone);
  EXPECT_EQ(rows[1].error, RecordError::kWrongColumnCount);
  EXPECT_EQ(rows[1].line, 3u);
  EXPECT_EQ(rows[1].raw, "4,5");
  // A complete last line without a newline is fine.
  auto ok = ReadCsv("a,b\n1,2");
  ASSERT_EQ(ok.size(), 1u);
  EXPECT_EQ(ok[0].error, RecordError::kNone);
}

TEST(CsvReaderTest, EmptyInput) {
  for (std::string_view data :
       {std::string_view(""), std::string_view("\xEF\xBB\xBF"), std::string_view("\n\r\n\n")}) {
    auto reader = CsvReader::FromString(data);
    EXPECT_OK(reader->status());
    EXPECT_TRUE(reader->header().empty());
    CsvRecord rec;
    EXPECT_FALSE(reader->Next(&rec));
    EXPECT_OK(reader->status());
  }
  auto opened = CsvReader::Open(WriteFile("empty.csv", ""));
  ASSERT_OK(opened);
  EXPECT_TRUE((*opened)->header().empty());
  CsvRecord rec;
  EXPECT_FALSE((*opened)->Next(&rec));
  EXPECT_OK((*opened)->status());
  // Header only.
  auto header_only = CsvReader::FromString("a,b\n");
  EXPECT_EQ(header_only->header(), (Fields{"a", "b"}));
  EXPECT_FALSE(header_only->Next(&rec));
}

TEST(CsvReaderTest, FileNotFoundNamesPath) {
  auto opened = CsvReader::Open("/nonexistent/dir/products.csv");
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(opened.status().message(), HasSubstr("/nonexistent/dir/products.csv"));
}

// Builds an input that exercises every rule, so that reading it through a tiny
// read buffer (records straddle every chunk boundary) can be compared with
// reading it from memory.
std::string TrickyCsv() {
  std::string data = "\xEF\xBB\xBFid,text,n\r\n";
  for (int i = 0; i < 3000; ++i) {
    std::string id = std::to_string(i);
    switch (i % 11) {
      case 0:
        data += id + ",plain,1\n";
        break;
      case 1:
        data += id + ",\"with, comma\",2\r\n";
        break;
      case 2:
        data += id + ",\"esc \"\"q\"\" here\",3\n";
        break;
      case 3:
        data += id + ",\"multi\nline\r\nfield\",4\n";
        break;
      case 4:
        data += "\n\r\n";
        break;
      case 5:
        data += id + ",short\n";
        break;
      case 6:
        data += id + ",bad \xFF utf8,6\n";
        break;
      case 7:
        data += id + "," + std::string(3000 + i, 'z') + ",7\n";
        break;  // too long field
      case 8:
        data += id + ",\"" + std::string(600, 'q') + "\"tail,8\n";
        break;
      case 9:
        data += id + ",caf\xC3\xA9 \xE4\xB8\xAD,9\n";
        break;
      default:
        data += id + ",\"\",\n";
        break;
    }
  }
  data += "9999,\"unterminated\nlast";
  return data;
}

TEST(CsvReaderTest, ChunkBoundariesDoNotChangeResults) {
  const std::string data = TrickyCsv();
  CsvOptions options;
  options.max_field_bytes = 2048;
  options.read_chunk_bytes = 4096;
  auto expected = ReadCsv(data, options);
  ASSERT_GT(expected.size(), 2000u);
  auto opened = CsvReader::Open(WriteFile("tricky.csv", data), options);
  ASSERT_OK(opened);
  auto got = ReadAll(**opened);
  ASSERT_EQ(got.size(), expected.size());
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(got[i], expected[i]) << "record " << i << " line " << expected[i].line;
  }
  EXPECT_EQ((*opened)->bytes_read(), data.size());
  EXPECT_EQ((*opened)->total_bytes(), data.size());
  // Spot checks of the expected outcome itself.
  int errors[16] = {};
  for (const Row& r : expected) {
    ++errors[static_cast<int>(r.error)];
    if (r.error != RecordError::kRecordTooLong) {
      EXPECT_EQ(data.substr(r.offset, r.raw.size()), r.raw);
    }
  }
  EXPECT_GT(errors[static_cast<int>(RecordError::kWrongColumnCount)], 0);
  EXPECT_GT(errors[static_cast<int>(RecordError::kInvalidUtf8)], 0);
  EXPECT_GT(errors[static_cast<int>(RecordError::kFieldTooLong)], 0);
  // The unterminated quote is reported at its start line, then "last" is read
  // again as a (short) record.
  const Row& unterminated = expected[expected.size() - 2];
  EXPECT_EQ(unterminated.error, RecordError::kUnterminatedQuote);
  EXPECT_EQ(unterminated.raw, "9999,\"unterminated");
  EXPECT_EQ(expected.back().raw, "last");
  EXPECT_EQ(expected.back().line, unterminated.line + 1);
  EXPECT_EQ(expected.back().error, RecordError::kWrongColumnCount);
}

TEST(CsvReaderTest, HomeDepotProducts) {
  SOUK_REQUIRE_DATA(path, "homedepot/products.csv");
  auto opened = CsvReader::Open(path.string());
  ASSERT_OK(opened);
  CsvReader& reader = **opened;
  EXPECT_EQ(reader.header(), (Fields{"product_uid", "title"}));
  CsvRecord rec;
  size_t records = 0, errors = 0;
  while (reader.Next(&rec)) {
    ++records;
    if (rec.error != RecordError::kNone) {
      ++errors;
      ADD_FAILURE() << "line " << rec.line << ": " << rec.error_detail;
    }
  }
  ASSERT_OK(reader.status());
  EXPECT_EQ(records, 54667u);
  EXPECT_EQ(errors, 0u);
  EXPECT_EQ(reader.bytes_read(), reader.total_bytes());
}

TEST(CsvReaderTest, OnlineRetailLog) {
  SOUK_REQUIRE_DATA(path, "online-retail/online_retail_2010-12_2011-09.csv");
  auto opened = CsvReader::Open(path.string());
  ASSERT_OK(opened);
  CsvReader& reader = **opened;
  EXPECT_EQ(reader.header().size(), 8u);
  const int invoice = reader.Column("InvoiceNo");
  ASSERT_EQ(invoice, 0);
  CsvRecord rec;
  size_t records = 0, errors = 0, cancellations = 0;
  uint64_t last_line = 1;
  size_t out_of_order_lines = 0;
  while (reader.Next(&rec)) {
    ++records;
    if (rec.error != RecordError::kNone)
      ++errors;
    else if (!rec.fields[invoice].empty() && rec.fields[invoice][0] == 'C')
      ++cancellations;
    if (rec.line != last_line + 1) ++out_of_order_lines;  // no multi-line records in this file
    last_line = rec.line;
  }
  EXPECT_EQ(out_of_order_lines, 0u);
  ASSERT_OK(reader.status());
  EXPECT_EQ(records, 370931u);
  EXPECT_EQ(errors, 0u);
  EXPECT_GT(cancellations, 0u);
  EXPECT_EQ(last_line, 370932u);
}

TEST(CsvReaderTest, YoochooseTabSeparated) {
  SOUK_REQUIRE_DATA(path, "yoochoose-100k/yoochoose-clicks-100k_test.txt");
  CsvOptions options;
  options.delimiter = '\t';
  auto opened = CsvReader::Open(path.string(), options);
  ASSERT_OK(opened);
  CsvReader& reader = **opened;
  EXPECT_EQ(reader.header(), (Fields{"SessionId", "ItemId", "Time"}));
  // Count lines independently.
  std::ifstream in(path);
  size_t lines = 0;
  for (std::string l; std::getline(in, l);) lines += l.empty() ? 0 : 1;
  CsvRecord rec;
  size_t records = 0, errors = 0;
  while (reader.Next(&rec)) {
    ++records;
    if (rec.error != RecordError::kNone) ++errors;
  }
  EXPECT_EQ(records, lines - 1);
  EXPECT_EQ(errors, 0u);
  EXPECT_GT(records, 1000u);
}

// ----------------------------------------------------------------- JSONL

struct JRow {
  uint64_t line;
  uint64_t offset;
  std::string raw;
  std::string json;  // minified value, empty on error
  RecordError error;
  std::string detail;
  bool operator==(const JRow&) const = default;
};

std::vector<JRow> ReadAllJsonl(JsonlReader& reader) {
  std::vector<JRow> rows;
  JsonlRecord rec;
  while (reader.Next(&rec)) {
    rows.push_back(JRow{rec.line, rec.byte_offset, std::string(rec.raw),
                        rec.error == RecordError::kNone ? ToJsonString(rec.value) : "", rec.error,
                        rec.error_detail});
  }
  return rows;
}

std::vector<JRow> ReadJsonl(std::string_view data, JsonlOptions options = {}) {
  auto reader = JsonlReader::FromString(data, options);
  auto rows = ReadAllJsonl(*reader);
  EXPECT_OK(reader->status());
  return rows;
}

TEST(JsonlReaderTest, ReadsObjectsSkipsBlankLinesAcceptsCrlfAndBom) {
  const std::string data =
      "\xEF\xBB\xBF{\"id\": 1}\r\n\n   \r\n{\"id\": 2, \"tags\": [\"a\"]}\n\t\n{\"id\":3}";
  auto reader = JsonlReader::FromString(data);
  auto rows = ReadAllJsonl(*reader);
  ASSERT_OK(reader->status());
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].line, 1u);
  EXPECT_EQ(rows[0].offset, 3u);
  EXPECT_EQ(rows[0].raw, "{\"id\": 1}");
  EXPECT_EQ(rows[0].json, "{\"id\":1}");
  EXPECT_EQ(rows[1].line, 4u);
  EXPECT_EQ(rows[1].json, "{\"id\":2,\"tags\":[\"a\"]}");
  EXPECT_EQ(rows[2].line, 6u);
  EXPECT_EQ(rows[2].error, RecordError::kNone);  // complete last line without newline is fine
  EXPECT_EQ(reader->bytes_read(), data.size());
}

TEST(JsonlReaderTest, MalformedLinesAreReportedAndReadingGoesOn) {
  auto rows = ReadJsonl(
      "{\"a\":1}\n"
      "{\"a\":\n"
      "{\"s\":\"bad \xFF\"}\n"
      "[1,2]\n"
      "\"str\"\n"
      "{\"a\":2}\n"
      "{\"a\":3");
  ASSERT_EQ(rows.size(), 7u);
  EXPECT_EQ(rows[0].error, RecordError::kNone);
  EXPECT_EQ(rows[1].error, RecordError::kInvalidJson);
  EXPECT_EQ(rows[1].line, 2u);
  EXPECT_FALSE(rows[1].detail.empty());
  EXPECT_EQ(rows[2].error, RecordError::kInvalidUtf8);
  EXPECT_EQ(rows[2].line, 3u);
  EXPECT_EQ(rows[3].error, RecordError::kNotAnObject);
  EXPECT_EQ(rows[3].detail, "expected a JSON object, got an array");
  EXPECT_EQ(rows[4].error, RecordError::kNotAnObject);
  EXPECT_EQ(rows[5].error, RecordError::kNone);
  EXPECT_EQ(rows[5].json, "{\"a\":2}");
  EXPECT_EQ(rows[6].error, RecordError::kTruncated);
  EXPECT_EQ(rows[6].line, 7u);
  EXPECT_EQ(rows[6].raw, "{\"a\":3");
}

TEST(JsonlReaderTest, NonObjectsAllowedWhenNotRequired) {
  JsonlOptions options;
  options.require_object = false;
  auto rows = ReadJsonl("[1, 2]\n42\n", options);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].json, "[1,2]");
  EXPECT_EQ(rows[1].json, "42");
}

TEST(JsonlReaderTest, TooLongLineIsSkipped) {
  const std::string long_line = "{\"x\":\"" + std::string(100000, 'a') + "\"}";
  const std::string data = "{\"a\":1}\n" + long_line + "\n{\"a\":2}\n";
  JsonlOptions options;
  options.max_record_bytes = 10000;
  options.read_chunk_bytes = 4096;
  auto from_string = ReadJsonl(data, options);
  auto opened = JsonlReader::Open(WriteFile("long.jsonl", data), options);
  ASSERT_OK(opened);
  auto from_file = ReadAllJsonl(**opened);
  ASSERT_OK((*opened)->status());
  for (const auto& rows : {from_string, from_file}) {
    ASSERT_EQ(rows.size(), 3u);
    EXPECT_EQ(rows[1].error, RecordError::kRecordTooLong);
    EXPECT_EQ(rows[1].line, 2u);
    EXPECT_EQ(rows[1].raw, long_line.substr(0, JsonlReader::kRawPrefixBytes));
    EXPECT_EQ(rows[2].json, "{\"a\":2}");
    EXPECT_EQ(rows[2].line, 3u);
  }
}

TEST(JsonlReaderTest, LineLongerThanReadChunkParses) {
  std::string data = "{\"a\":1}\n{\"desc\":\"";
  data += std::string(50000, 'd');
  data += "\",\"n\":7}\r\n{\"a\":2}\n";
  JsonlOptions options;
  options.read_chunk_bytes = 4096;
  auto opened = JsonlReader::Open(WriteFile("long_ok.jsonl", data), options);
  ASSERT_OK(opened);
  JsonlRecord rec;
  ASSERT_TRUE((*opened)->Next(&rec));
  ASSERT_TRUE((*opened)->Next(&rec));
  ASSERT_EQ(rec.error, RecordError::kNone) << rec.error_detail;
  EXPECT_EQ(rec.line, 2u);
  EXPECT_EQ(GetString(rec.value, "desc")->size(), 50000u);
  EXPECT_EQ(GetInt64(rec.value, "n"), 7);
  ASSERT_TRUE((*opened)->Next(&rec));
  EXPECT_EQ(GetInt64(rec.value, "a"), 2);
  EXPECT_FALSE((*opened)->Next(&rec));
  EXPECT_OK((*opened)->status());
}

TEST(JsonlReaderTest, FileReadThroughSmallChunksMatchesMemory) {
  std::string data;
  for (int i = 0; i < 5000; ++i) {
    if (i % 97 == 0) data += "{\"broken\": \n";
    if (i % 13 == 0) data += "\r\n";
    data += "{\"id\":" + std::to_string(i) + ",\"name\":\"item " + std::to_string(i) +
            " \xE4\xB8\xAD\",\"attrs\":{\"k\":[1,2.5,null,true]}}\r\n";
  }
  JsonlOptions options;
  options.read_chunk_bytes = 4096;
  auto expected = ReadJsonl(data, options);
  auto opened = JsonlReader::Open(WriteFile("chunks.jsonl", data), options);
  ASSERT_OK(opened);
  auto got = ReadAllJsonl(**opened);
  ASSERT_EQ(got.size(), expected.size());
  EXPECT_EQ(got.size(), 5000u + 52u);
  for (size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i], expected[i]) << i;
  EXPECT_EQ((*opened)->bytes_read(), data.size());
}

TEST(JsonlReaderTest, OpenMissingFileIsNotFound) {
  auto opened = JsonlReader::Open("/nonexistent/events.jsonl");
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(opened.status().message(), HasSubstr("/nonexistent/events.jsonl"));
  auto empty = JsonlReader::FromString("");
  JsonlRecord rec;
  EXPECT_FALSE(empty->Next(&rec));
  EXPECT_OK(empty->status());
}

TEST(JsonlHelpersTest, TypedGetters) {
  simdjson::dom::parser parser;
  simdjson::dom::element obj;
  ASSERT_EQ(
      parser
          .parse(std::string_view(
              R"({"s":"text","n":12,"f":2.5,"ns":"3.25","is":"42","big":18446744073709551615,)"
              R"("fi":12.0,"b":true,"bs":"false","b1":1,"nul":null,"neg":-7,"junk":"12abc",)"
              R"("attrs":{"color" : "red", "sizes": [1, 2]}})"))
          .get(obj),
      simdjson::SUCCESS);
  EXPECT_EQ(GetString(obj, "s"), "text");
  EXPECT_EQ(GetString(obj, "n"), std::nullopt);
  EXPECT_EQ(GetString(obj, "missing"), std::nullopt);
  EXPECT_EQ(GetString(obj, "nul"), std::nullopt);

  EXPECT_EQ(GetDouble(obj, "n"), 12.0);
  EXPECT_EQ(GetDouble(obj, "f"), 2.5);
  EXPECT_EQ(GetDouble(obj, "ns"), 3.25);
  EXPECT_EQ(GetDouble(obj, "neg"), -7.0);
  EXPECT_EQ(GetDouble(obj, "junk"), std::nullopt);
  EXPECT_EQ(GetDouble(obj, "s"), std::nullopt);
  EXPECT_EQ(GetDouble(obj, "b"), std::nullopt);

  EXPECT_EQ(GetInt64(obj, "n"), 12);
  EXPECT_EQ(GetInt64(obj, "neg"), -7);
  EXPECT_EQ(GetInt64(obj, "is"), 42);
  EXPECT_EQ(GetInt64(obj, "fi"), 12);
  EXPECT_EQ(GetInt64(obj, "f"), std::nullopt);
  EXPECT_EQ(GetInt64(obj, "big"), std::nullopt);
  EXPECT_EQ(GetInt64(obj, "ns"), std::nullopt);

  EXPECT_EQ(GetBool(obj, "b"), true);
  EXPECT_EQ(GetBool(obj, "bs"), false);
  EXPECT_EQ(GetBool(obj, "b1"), true);
  EXPECT_EQ(GetBool(obj, "n"), std::nullopt);

  simdjson::dom::element attrs;
  ASSERT_EQ(obj["attrs"].get(attrs), simdjson::SUCCESS);
  EXPECT_EQ(ToJsonString(attrs), R"({"color":"red","sizes":[1,2]})");
  // Not an object.
  simdjson::dom::element arr;
  ASSERT_EQ(obj["attrs"]["sizes"].get(arr), simdjson::SUCCESS);
  EXPECT_EQ(GetString(arr, "s"), std::nullopt);
}

}  // namespace
}  // namespace souk::ingest
