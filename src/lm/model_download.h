// Model download from a Hugging Face style hub (HTTPS, resumable, checksummed)
// and verification of weight files against published size/sha256 records.
//
//   DownloadOptions options;                  // endpoint, revision, token, files
//   ApplyHubEnvironment(&options);            // HF_ENDPOINT / HF_TOKEN (the app does this)
//   ASSIGN_OR_RETURN(auto files,
//       PullModel("sentence-transformers/all-MiniLM-L6-v2",
//                 HubModelDir(data_dir, "sentence-transformers/all-MiniLM-L6-v2"),
//                 options, &progress_options));
//
// Files are fetched from {endpoint}/{repo_id}/resolve/{revision}/{file}. Each one
// is written to "<file>.part", resumed with a Range request after a dropped
// connection (or on the next run), hashed with SHA-256 over the whole file, checked
// against the expected hash (options.expected_sha256, else the sha256 ETag the hub
// sends for LFS files) and the announced size, then renamed onto "<file>". A file
// that fails the check is deleted; no unverified bytes ever get the final name.
//
// Thread-safety: free functions without shared state; two concurrent pulls into
// the same dest_dir are not supported (they would share the .part files).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "common/progress.h"
#include "common/status.h"

namespace souk::lm {

struct DownloadOptions {
  // Behavior.
  std::string endpoint =
      "https://huggingface.co";    // hub base URL ("http://127.0.0.1:8080" in tests)
  std::string revision = "main";   // branch, tag or commit
  std::string token;               // sent as "Authorization: Bearer" (never to another host)
  std::vector<std::string> files;  // empty: DefaultModelFiles(); listed files are all required
  std::map<std::string, std::string> expected_sha256;  // file -> lower/upper-case hex sha256
  // Performance / robustness.
  int max_retries = 5;       // retries per file after a connection error, a 5xx or a truncated body
  int timeout_seconds = 60;  // connect and per-read timeout
  int retry_base_delay_ms = 500;  // backoff before retry k is base * 2^(k-1), capped at 30 s
  int max_redirects = 10;         // redirect hops per request
};

// One file of a pull.
struct DownloadedFile {
  std::string name;               // path inside the repository ("1_Pooling/config.json")
  uint64_t bytes = 0;             // final size on disk
  std::string sha256;             // lower-case hex of the final file
  bool verified_against = false;  // sha256 matched an expected value (option, record or hub ETag)
  std::string verified_by;        // "expected", "etag", "previous-pull" or "" (size-only check)
  bool resumed = false;           // some bytes came from an earlier .part (previous run or retry)
  bool skipped_existing = false;  // the final file was already there and verified; nothing fetched
};

// The default file set: required config.json and model.safetensors, at least one
// of tokenizer.json / vocab.txt, and the optional tokenizer and sentence-transformers files.
std::vector<std::string> DefaultModelFiles();

// Fills options->endpoint from HF_ENDPOINT when it still holds the default, and
// options->token from HF_TOKEN when empty. Explicit values win.
void ApplyHubEnvironment(DownloadOptions* options);

// "<data_dir>/models/hub/<org>--<name>". Errors: InvalidArgument for a repo id that
// is not "org/name" made of [A-Za-z0-9._-] (no "..").
StatusOr<std::filesystem::path> HubModelDir(const std::filesystem::path& data_dir,
                                            const std::string& repo_id);

// Downloads `repo_id` ("org/name") into `dest_dir` (created if missing) and writes
// `<dest_dir>/souk-download.json` (repo, revision, endpoint, time, files with size,
// sha256 and how they were verified; entries of earlier pulls of the same repo for
// other files are kept). `progress` (nullable: silent) shows bytes, rate and ETA per file.
// Errors:
//  - InvalidArgument: malformed repo id, file name (absolute, ".."), endpoint or sha256;
//  - NotFound: a required file is absent (404), naming repo, revision and file; or
//    the default set found neither tokenizer.json nor vocab.txt;
//  - FailedPrecondition: 401/403 (private, gated or unknown repository), mentioning HF_TOKEN;
//  - DataLoss: sha256 or size mismatch, naming the file, expected and actual values
//    (the .part is deleted and nothing is renamed);
//  - Unavailable: connection errors / 5xx after max_retries, or local I/O failures.
// Files completed before an error stay in place (verified). Cost: network bound;
// one extra read of an existing .part or final file to hash it.
StatusOr<std::vector<DownloadedFile>> PullModel(const std::string& repo_id,
                                                const std::filesystem::path& dest_dir,
                                                const DownloadOptions& options,
                                                const ProgressOptions* progress);

// --- Weight verification ---------------------------------------------------

// One record entry checked against a model folder.
struct WeightCheck {
  std::string name;      // file name from the record ("onnx/model.onnx")
  bool present = false;  // the file exists in model_dir
  bool ok = false;       // present, and size and sha256 match
  uint64_t expected_size = 0;
  uint64_t actual_size = 0;     // 0 when absent
  std::string expected_sha256;  // lower-case hex
  std::string actual_sha256;    // "" when absent or when the size already differed
  std::string problem;          // "", "not present", "size ...", "sha256 ..."
};

// Reads a weights-not-included.json style record
// ({"model.safetensors": {"sha256": "<hex>", "size": N}, ...}) and checks every
// entry whose file exists in model_dir: size first, then sha256. Absent files are
// reported with present=false (not an error). Returns the checks sorted by name.
// Errors: NotFound (records file missing), InvalidArgument (malformed JSON or entry,
// naming the file and key), Unavailable (a model file cannot be read).
// Mismatches are not errors here: see WeightChecksStatus. Cost: hashes every
// present file whose size matches.
StatusOr<std::vector<WeightCheck>> VerifyWeights(const std::filesystem::path& model_dir,
                                                 const std::filesystem::path& records_json);

// OK when no present file mismatches, else DataLoss naming each mismatching file
// with its expected and actual size/sha256.
Status WeightChecksStatus(const std::vector<WeightCheck>& checks);

}  // namespace souk::lm
