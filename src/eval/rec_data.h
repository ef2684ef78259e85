// Readers for the recommendation protocols of ../shared/EVAL.md and their
// conversion into recommend::InteractionData, the one input every
// CandidateSource fits on:
//   C  UniSRec / RecBole atomic files of one dataset folder (ReadUnisrecDir)
//   F  Online Retail invoice lines, one or more CSV files (ReadOnlineRetail)
//
// Thread-safety: pure functions returning values.
// Cost: one pass over the files; memory proportional to the rows kept.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/progress.h"
#include "common/status.h"
#include "recommend/interactions.h"

namespace souk::eval {

// ---------------------------------------------------------------------------
// C: UniSRec format (`<name>.train.inter`, `.valid.inter`, `.test.inter`,
// `.item2index`, `.user2index`, `.text`).
//
// `.inter` files are tab-separated with a RecBole header naming the columns
// `user_id:token`, `item_id_list:token_seq`, `item_id:token` (any order; the
// part after ':' is ignored). Their user and item ids are DECIMAL DENSE INDICES:
// the second column of `.user2index` / `.item2index` ("EXTERNAL_ID<TAB>index"),
// which must number 0..n-1 without gaps. `.text` ("item_id:token<TAB>text:...")
// maps the external item ids (ASINs) to their text.

struct UnisrecRow {
  int32_t user = -1;
  std::vector<int32_t> history;  // item_id_list, oldest first
  int32_t target = -1;           // item_id
  int64_t line = 0;              // 1-based line in its file (messages)
};

struct UnisrecDataset {
  std::string name;                      // file prefix, e.g. "Scientific"
  std::vector<std::string> item_tokens;  // dense item -> external id (item2index)
  std::vector<std::string> item_texts;   // dense item -> text ("" when .text has none)
  std::vector<std::string> user_tokens;  // dense user -> external id (user2index)
  std::vector<UnisrecRow> train, valid, test;
  int32_t num_items() const { return static_cast<int32_t>(item_tokens.size()); }
  int32_t num_users() const { return static_cast<int32_t>(user_tokens.size()); }
  int64_t items_without_text = 0;  // items of item2index missing from .text
};

// Reads the dataset in `dir`: the prefix is taken from the one `*.train.inter`
// file there. Errors: NotFound naming the folder or the missing file;
// InvalidArgument when several `*.train.inter` files make the prefix ambiguous;
// DataLoss "PATH:LINE: ..." for a malformed line (bad header, non-integer id,
// id outside the index files, wrong column count, index files with gaps or
// duplicates).
StatusOr<UnisrecDataset> ReadUnisrecDir(const std::string& dir);

// Each user's training sequence: the items of the user's longest train row
// (history + target; the other train rows are its prefixes in RecBole's
// augmented format). Users without a train row get an empty sequence. Indexed
// by dense user.
std::vector<std::vector<int32_t>> UnisrecTrainSequences(const UnisrecDataset& data);

// Items with every catalog field the sources use (external id, text as title
// and text) and every user of `data`; one kPurchase interaction per element of
// `sequences[u]` with timestamp_ms = position * 1 day (the files carry no time,
// so order within a user is all that is known). Finalized.
recommend::InteractionData UnisrecInteractions(const UnisrecDataset& data,
                                               std::span<const std::vector<int32_t>> sequences);

// ---------------------------------------------------------------------------
// F: Online Retail (UCI) invoice lines with columns InvoiceNo, StockCode,
// Description, Quantity, InvoiceDate ("YYYY-MM-DD hh:mm[:ss]"), UnitPrice,
// CustomerID, Country (by header name, any order; other columns ignored).

struct RetailPurchase {
  int32_t customer = -1;  // dense index into RetailLog::customer_ids
  int32_t item = -1;      // dense index into RetailLog::item_codes
  int32_t invoice = -1;   // dense index into RetailLog::invoice_ids
  int64_t time_s = 0;     // Unix seconds (the file's local time read as UTC)
  float quantity = 0;     // > 0
  float unit_price = 0;   // may be 0
};

struct RetailLog {
  std::vector<std::string> customer_ids;       // "17850" ("17850.0" loses its ".0")
  std::vector<std::string> customer_countries; // country of the customer's first purchase
  std::vector<std::string> item_codes;         // StockCode
  std::vector<std::string> item_descriptions;  // first non-empty Description seen
  std::vector<std::string> invoice_ids;
  std::vector<RetailPurchase> purchases;  // by time, file order within a second
  // Row accounting (every data row lands in exactly one bucket).
  int64_t rows = 0;                   // data rows read
  int64_t malformed_rows = 0;         // bad CSV record, unparsable quantity/date/price
  int64_t rows_without_customer = 0;  // empty CustomerID
  int64_t rows_not_purchase = 0;      // Quantity <= 0 or InvoiceNo starting with 'C'
  std::vector<std::string> malformed_examples;  // "FILE:LINE: detail", first 10
};

// Reads and concatenates `paths` (in order). Purchases are rows with a
// CustomerID, Quantity > 0 and an InvoiceNo not starting with 'C'. Malformed
// rows are counted and skipped. Errors: NotFound "--data: no such file: PATH";
// InvalidArgument "PATH: missing column X"; InvalidArgument when no file yields
// a single purchase ("--data: no usable purchase rows in ...", with the first
// malformed row's FILE:LINE).
StatusOr<RetailLog> ReadOnlineRetail(std::span<const std::string> paths,
                                     const ProgressOptions& progress);

// All customers and items of `log` (so dense ids are the same for every
// cut-off) and the purchases with time_s < before_s as kPurchase interactions
// (timestamp in ms, session = invoice, quantity). Finalized.
recommend::InteractionData RetailInteractions(const RetailLog& log, int64_t before_s);

}  // namespace souk::eval
