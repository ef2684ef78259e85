// Tests of souk_lm_pull: PullModel against local fake hubs (httplib servers on
// 127.0.0.1, no internet), VerifyWeights against the real weight records of
// /work/shared/models and temp files, and the embedding cache.
#include <httplib.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "common/sha256.h"
#include "common/testing.h"
#include "lm/embedding_cache.h"
#include "lm/model_download.h"

namespace souk::lm {
namespace {

namespace fs = std::filesystem;

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void WriteAll(const fs::path& p, const std::string& data) {
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng() & 0xff);
  return s;
}

// One request as the fake hub saw it.
struct SeenRequest {
  std::string path;
  std::string range;          // "" when absent
  std::string authorization;  // "" when absent
};

// An httplib server on 127.0.0.1 with a random port, listening in a thread.
class LocalServer {
 public:
  LocalServer() = default;
  ~LocalServer() { Stop(); }
  void Start() {
    port_ = server.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    thread_ = std::thread([this] { server.listen_after_bind(); });
    while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  void Stop() {
    if (thread_.joinable()) {
      server.stop();
      thread_.join();
    }
  }
  std::string Origin() const { return "http://127.0.0.1:" + std::to_string(port_); }
  httplib::Server server;

 private:
  int port_ = -1;
  std::thread thread_;
};

constexpr char kRepo[] = "acme/tiny-bert";
constexpr char kBig[] = "model.safetensors";

// A fake Hugging Face hub: /<org>/<name>/resolve/<rev>/<file>, LFS-style redirect
// of the big file to /cdn/<sha> (on this server or on a separate "CDN" server),
// Range support (httplib answers 206 + Content-Range), and fault modes.
class FakeHub {
 public:
  FakeHub() {
    files["config.json"] = R"({"model_type": "bert", "hidden_size": 8})";
    files["vocab.txt"] = "[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\nworld\n";
    files["tokenizer_config.json"] = R"({"do_lower_case": true})";
    files[kBig] = RandomBytes(3 * 1024 * 1024, 7);
  }

  void Start(bool separate_cdn) {
    Route(&hub_, /*is_cdn=*/false);
    hub_.Start();
    if (separate_cdn) {
      Route(&cdn_, /*is_cdn=*/true);
      cdn_.Start();
      cdn_origin_ = cdn_.Origin();
    }
  }

  std::string Endpoint() const { return hub_.Origin(); }
  std::string BigSha() const { return Sha256Hex(files.at(kBig)); }

  std::vector<SeenRequest> Seen() {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_;
  }
  std::vector<SeenRequest> SeenWithPrefix(const std::string& prefix) {
    std::vector<SeenRequest> out;
    for (const auto& r : Seen()) {
      if (r.path.rfind(prefix, 0) == 0) out.push_back(r);
    }
    return out;
  }
  void ClearSeen() {
    std::lock_guard<std::mutex> lock(mu_);
    seen_.clear();
  }

  std::map<std::string, std::string> files;
  std::atomic<bool> redirect_big{true};  // 302 resolve -> /cdn/<sha> for the big file
  std::atomic<bool> cut_next_big{
      false};  // next body of the big file stops halfway and the connection closes
  std::atomic<bool> corrupt_big{false};    // big file served with one byte flipped (same size)
  std::atomic<bool> ignore_range{false};   // answer 200 with the whole file even to Range requests
  std::atomic<int> fail_503{0};            // the next N requests get 503
  std::atomic<bool> require_token{false};  // 401 on resolve without "Bearer <token>"
  std::atomic<int64_t> linked_size{-1};    // X-Linked-Size to announce (-1: the true size)
  std::string token = "hf_secret";

 private:
  void Route(LocalServer* s, bool is_cdn) {
    s->server.Get(R"(/cdn/([0-9a-f]+))", [this](const httplib::Request& req,
                                                httplib::Response& res) {
      Record(req);
      if (Fail503(res)) return;
      if (req.matches[1] != BigSha()) {
        res.status = 404;
        return;
      }
      res.set_header("ETag", "\"d41d8cd98f00b204e9800998ecf8427e-1\"");  // a CDN ETag: not a sha256
      ServeBig(req, res);
    });
    if (is_cdn) return;
    s->server.Get(R"(/([^/]+)/([^/]+)/resolve/([^/]+)/(.+))", [this](const httplib::Request& req,
                                                                     httplib::Response& res) {
      Record(req);
      if (Fail503(res)) return;
      if (require_token && req.get_header_value("Authorization") != "Bearer " + token) {
        res.status = 401;
        res.set_header("X-Error-Code", "GatedRepo");
        return;
      }
      const std::string repo = std::string(req.matches[1]) + "/" + std::string(req.matches[2]);
      const std::string file = req.matches[4];
      auto it = files.find(file);
      if (repo != kRepo || req.matches[3] != "main" || it == files.end()) {
        res.status = 404;
        res.set_header("X-Error-Code", "EntryNotFound");
        return;
      }
      if (file == kBig) {
        res.set_header("X-Linked-Etag", "\"" + BigSha() + "\"");
        res.set_header("X-Linked-Size",
                       std::to_string(linked_size >= 0 ? linked_size.load() : it->second.size()));
        if (redirect_big) {
          res.set_redirect(cdn_origin_ + "/cdn/" + BigSha(), 302);
          return;
        }
        res.set_header("ETag", "\"" + BigSha() + "\"");
        ServeBig(req, res);
        return;
      }
      res.set_header("ETag",
                     "\"" + Sha256Hex(it->second).substr(0, 40) + "\"");  // git-style sha1 length
      res.set_content(it->second, "application/octet-stream");
    });
  }

  bool Fail503(httplib::Response& res) {
    if (fail_503.load() > 0) {
      --fail_503;
      res.status = 503;
      return true;
    }
    return false;
  }

  void Record(const httplib::Request& req) {
    std::lock_guard<std::mutex> lock(mu_);
    seen_.push_back(
        {req.path, req.get_header_value("Range"), req.get_header_value("Authorization")});
  }

  void ServeBig(const httplib::Request& req, httplib::Response& res) {
    // httplib slices the body by the request's Range; clearing the parsed ranges
    // makes the server answer 200 with the whole file (a server ignoring Range).
    if (ignore_range) const_cast<httplib::Request&>(req).ranges.clear();
    auto body = std::make_shared<std::string>(files.at(kBig));
    if (corrupt_big) (*body)[body->size() / 2] ^= 0x5a;
    const bool cut = cut_next_big.exchange(false);
    res.set_content_provider(body->size(), "application/octet-stream",
                             [body, cut](size_t offset, size_t length, httplib::DataSink& sink) {
                               if (cut) {
                                 sink.write(body->data() + offset, length / 2);
                                 return false;  // drop the connection mid-body
                               }
                               sink.write(body->data() + offset, length);
                               return true;
                             });
  }

  LocalServer hub_;
  LocalServer cdn_;
  std::string cdn_origin_;  // "" = redirect on the hub itself
  std::mutex mu_;
  std::vector<SeenRequest> seen_;
};

DownloadOptions TestOptions(const FakeHub& hub) {
  DownloadOptions o;
  o.endpoint = hub.Endpoint();
  o.retry_base_delay_ms = 10;
  o.timeout_seconds = 10;
  return o;
}

const DownloadedFile* FindFile(const std::vector<DownloadedFile>& files, const std::string& name) {
  for (const auto& f : files) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

bool AnyPartFile(const fs::path& dir) {
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.path().extension() == ".part") return true;
  }
  return false;
}

TEST(PullModelTest, DownloadsTheDefaultSetFollowingTheRedirectAndVerifiesTheEtag) {
  FakeHub hub;
  hub.Start(/*separate_cdn=*/false);
  const fs::path dest = souk::testing::TempDir("pull_default") / "acme--tiny-bert";
  ASSERT_OK_AND_ASSIGN(auto files, PullModel(kRepo, dest, TestOptions(hub), nullptr));

  // The present files and nothing for the optional ones the hub does not have.
  ASSERT_EQ(files.size(), 4u);
  for (const std::string name : {"config.json", "vocab.txt", "tokenizer_config.json", kBig}) {
    const DownloadedFile* f = FindFile(files, name);
    ASSERT_NE(f, nullptr) << name;
    EXPECT_EQ(ReadAll(dest / name), hub.files[name]) << name;
    EXPECT_EQ(f->sha256, Sha256Hex(hub.files[name])) << name;
    EXPECT_EQ(f->bytes, hub.files[name].size()) << name;
    EXPECT_FALSE(f->resumed);
    EXPECT_FALSE(f->skipped_existing);
  }
  const DownloadedFile* big = FindFile(files, kBig);
  EXPECT_TRUE(big->verified_against);
  EXPECT_EQ(big->verified_by, "etag");  // from X-Linked-Etag on the redirect, not the CDN's ETag
  EXPECT_FALSE(
      FindFile(files, "config.json")->verified_against);  // a sha1-length ETag is not a sha256
  EXPECT_FALSE(fs::exists(dest / "tokenizer.json"));
  EXPECT_FALSE(fs::exists(dest / "1_Pooling"));  // no folder for an optional file the hub lacks
  EXPECT_FALSE(AnyPartFile(dest));

  // The redirect was followed to /cdn/<sha>.
  EXPECT_EQ(hub.SeenWithPrefix("/cdn/").size(), 1u);

  // The record of the pull.
  auto rec = nlohmann::json::parse(ReadAll(dest / "souk-download.json"));
  EXPECT_EQ(rec["repo"], kRepo);
  EXPECT_EQ(rec["revision"], "main");
  EXPECT_EQ(rec["endpoint"], hub.Endpoint());
  EXPECT_FALSE(rec["time"].get<std::string>().empty());
  ASSERT_EQ(rec["files"].size(), 4u);
  bool saw_big = false;
  for (const auto& f : rec["files"]) {
    if (f["name"] == kBig) {
      saw_big = true;
      EXPECT_EQ(f["sha256"], hub.BigSha());
      EXPECT_EQ(f["size"], hub.files[kBig].size());
    }
  }
  EXPECT_TRUE(saw_big);
}

TEST(PullModelTest, ResumesWithRangeAfterTheConnectionDropsMidBody) {
  FakeHub hub;
  hub.Start(false);
  hub.cut_next_big = true;
  const fs::path dest = souk::testing::TempDir("pull_cut");
  DownloadOptions o = TestOptions(hub);
  o.files = {kBig};
  ASSERT_OK_AND_ASSIGN(auto files, PullModel(kRepo, dest, o, nullptr));
  ASSERT_EQ(files.size(), 1u);
  EXPECT_TRUE(files[0].resumed);
  EXPECT_EQ(files[0].sha256, hub.BigSha());
  EXPECT_EQ(Sha256File(dest / kBig).value(), hub.BigSha());

  const auto cdn = hub.SeenWithPrefix("/cdn/");
  ASSERT_EQ(cdn.size(), 2u);
  EXPECT_EQ(cdn[0].range, "");
  ASSERT_TRUE(cdn[1].range.rfind("bytes=", 0) == 0) << cdn[1].range;
  const uint64_t offset = std::stoull(cdn[1].range.substr(6));
  EXPECT_GT(offset, 0u);
  EXPECT_LT(offset, hub.files[kBig].size());
  // The resolve URL was asked again with the same Range (kept across the redirect).
  const auto resolve = hub.SeenWithPrefix(std::string("/") + kRepo + "/resolve/main/" + kBig);
  ASSERT_EQ(resolve.size(), 2u);
  EXPECT_EQ(resolve[1].range, cdn[1].range);
  EXPECT_FALSE(AnyPartFile(dest));
}

TEST(PullModelTest, ResumesAPartFileLeftByAnEarlierRun) {
  FakeHub hub;
  hub.Start(false);
  const fs::path dest = souk::testing::TempDir("pull_part");
  const size_t have = 1000 * 1000;
  WriteAll(dest / (std::string(kBig) + ".part"), hub.files[kBig].substr(0, have));
  DownloadOptions o = TestOptions(hub);
  o.files = {kBig};
  ASSERT_OK_AND_ASSIGN(auto files, PullModel(kRepo, dest, o, nullptr));
  EXPECT_TRUE(files[0].resumed);
  EXPECT_EQ(files[0].sha256, hub.BigSha());
  EXPECT_TRUE(files[0].verified_against);
  const auto cdn = hub.SeenWithPrefix("/cdn/");
  ASSERT_EQ(cdn.size(), 1u);
  EXPECT_EQ(cdn[0].range, "bytes=" + std::to_string(have) + "-");
  EXPECT_EQ(ReadAll(dest / kBig), hub.files[kBig]);
}

TEST(PullModelTest, StartsOverWhenTheServerIgnoresRange) {
  FakeHub hub;
  hub.Start(false);
  hub.ignore_range = true;
  const fs::path dest = souk::testing::TempDir("pull_norange");
  WriteAll(dest / (std::string(kBig) + ".part"), hub.files[kBig].substr(0, 12345));
  DownloadOptions o = TestOptions(hub);
  o.files = {kBig};
  ASSERT_OK_AND_ASSIGN(auto files, PullModel(kRepo, dest, o, nullptr));
  EXPECT_FALSE(files[0].resumed);  // the 200 replaced the partial bytes
  EXPECT_EQ(files[0].bytes, hub.files[kBig].size());
  EXPECT_EQ(ReadAll(dest / kBig), hub.files[kBig]);
  EXPECT_EQ(hub.SeenWithPrefix("/cdn/").at(0).range, "bytes=12345-");
}

TEST(PullModelTest, CorruptedBytesAreDataLossAndLeaveNothingBehind) {
  FakeHub hub;
  hub.Start(false);
  hub.corrupt_big = true;
  const fs::path dest = souk::testing::TempDir("pull_corrupt");
  DownloadOptions o = TestOptions(hub);
  o.files = {"config.json", kBig};
  auto got = PullModel(kRepo, dest, o, nullptr);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kDataLoss) << got.status().ToString();
  const std::string& msg = got.status().message();
  EXPECT_NE(msg.find(kBig), std::string::npos) << msg;
  EXPECT_NE(msg.find(hub.BigSha()), std::string::npos) << msg;  // expected
  std::string corrupted = hub.files[kBig];
  corrupted[corrupted.size() / 2] ^= 0x5a;
  EXPECT_NE(msg.find(Sha256Hex(corrupted)), std::string::npos) << msg;  // actual
  EXPECT_NE(msg.find(std::to_string(corrupted.size()) + " bytes"), std::string::npos) << msg;
  EXPECT_FALSE(fs::exists(dest / kBig));
  EXPECT_FALSE(AnyPartFile(dest));
  EXPECT_TRUE(fs::exists(dest / "config.json"));  // verified earlier files stay
  EXPECT_FALSE(fs::exists(dest / "souk-download.json"));
}

TEST(PullModelTest, SizeDifferentFromTheAnnouncedSizeIsDataLoss) {
  FakeHub hub;
  hub.Start(false);
  hub.linked_size = 12345;
  const fs::path dest = souk::testing::TempDir("pull_size");
  DownloadOptions o = TestOptions(hub);
  o.files = {kBig};
  auto got = PullModel(kRepo, dest, o, nullptr);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(got.status().message().find("expected 12345 bytes"), std::string::npos)
      << got.status().message();
  EXPECT_NE(got.status().message().find(std::to_string(hub.files[kBig].size())), std::string::npos);
  EXPECT_FALSE(fs::exists(dest / kBig));
  EXPECT_FALSE(AnyPartFile(dest));
}

TEST(PullModelTest, ExpectedSha256FromTheCallerIsEnforced) {
  FakeHub hub;
  hub.Start(false);
  const fs::path dest = souk::testing::TempDir("pull_expected");
  DownloadOptions o = TestOptions(hub);
  o.files = {"config.json"};
  o.expected_sha256["config.json"] = std::string(64, 'a');
  auto got = PullModel(kRepo, dest, o, nullptr);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(got.status().message().find(std::string(64, 'a')), std::string::npos);
  EXPECT_FALSE(fs::exists(dest / "config.json"));
  EXPECT_FALSE(AnyPartFile(dest));

  o.expected_sha256["config.json"] = Sha256Hex(hub.files["config.json"]);
  ASSERT_OK_AND_ASSIGN(auto files, PullModel(kRepo, dest, o, nullptr));
  EXPECT_EQ(files[0].verified_by, "expected");

  o.expected_sha256["config.json"] = "not-hex";
  EXPECT_EQ(PullModel(kRepo, dest, o, nullptr).status().code(), StatusCode::kInvalidArgument);
}

TEST(PullModelTest, MissingRequiredFileIsNotFoundNamingIt) {
  FakeHub hub;
  hub.files.erase("config.json");
  hub.Start(false);
  const fs::path dest = souk::testing::TempDir("pull_404");
  auto got = PullModel(kRepo, dest, TestOptions(hub), nullptr);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kNotFound);
  EXPECT_NE(got.status().message().find("config.json"), std::string::npos)
      << got.status().message();
  EXPECT_NE(got.status().message().find(kRepo), std::string::npos);
  // It failed on the first file: the big one was never requested.
  EXPECT_TRUE(hub.SeenWithPrefix("/cdn/").empty());

  auto unknown = PullModel("acme/other-model", dest, TestOptions(hub), nullptr);
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound);
}

TEST(PullModelTest, NoTokenizerIsNotFound) {
  FakeHub hub;
  hub.files.erase("vocab.txt");
  hub.Start(false);
  auto got = PullModel(kRepo, souk::testing::TempDir("pull_notok"), TestOptions(hub), nullptr);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kNotFound);
  EXPECT_NE(got.status().message().find("tokenizer.json"), std::string::npos);
  EXPECT_NE(got.status().message().find("vocab.txt"), std::string::npos);
}

TEST(PullModelTest, TokenGoesToTheHubAsBearerButNotToAnotherHost) {
  FakeHub hub;
  hub.Start(/*separate_cdn=*/true);
  hub.require_token = true;
  hub.cut_next_big = true;  // also: the Range header survives a cross-host redirect
  const fs::path dest = souk::testing::TempDir("pull_token");
  DownloadOptions o = TestOptions(hub);
  o.token = hub.token;
  ASSERT_OK_AND_ASSIGN(auto files, PullModel(kRepo, dest, o, nullptr));
  EXPECT_EQ(FindFile(files, kBig)->sha256, hub.BigSha());
  size_t hub_requests = 0;
  for (const auto& r : hub.Seen()) {
    if (r.path.rfind("/cdn/", 0) == 0) {
      EXPECT_EQ(r.authorization, "") << "token leaked to the CDN host";
    } else {
      EXPECT_EQ(r.authorization, "Bearer " + hub.token) << r.path;
      ++hub_requests;
    }
  }
  EXPECT_GT(hub_requests, 0u);
  const auto cdn = hub.SeenWithPrefix("/cdn/");
  ASSERT_EQ(cdn.size(), 2u);
  EXPECT_FALSE(cdn[1].range.empty());
  EXPECT_TRUE(FindFile(files, kBig)->resumed);
}

TEST(PullModelTest, UnauthorizedIsFailedPreconditionMentioningHfToken) {
  FakeHub hub;
  hub.Start(false);
  hub.require_token = true;
  auto got = PullModel(kRepo, souk::testing::TempDir("pull_401"), TestOptions(hub), nullptr);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(got.status().message().find("HF_TOKEN"), std::string::npos) << got.status().message();
  EXPECT_NE(got.status().message().find("GatedRepo"), std::string::npos) << got.status().message();
}

TEST(PullModelTest, RetriesServerErrorsAndGivesUpAfterMaxRetries) {
  FakeHub hub;
  hub.Start(false);
  const fs::path dest = souk::testing::TempDir("pull_503");
  DownloadOptions o = TestOptions(hub);
  o.files = {"config.json"};
  o.max_retries = 3;
  hub.fail_503 = 3;
  ASSERT_OK_AND_ASSIGN(auto files, PullModel(kRepo, dest, o, nullptr));
  EXPECT_EQ(ReadAll(dest / "config.json"), hub.files["config.json"]);
  EXPECT_EQ(hub.Seen().size(), 4u);

  hub.ClearSeen();
  hub.fail_503 = 100;
  o.files = {"vocab.txt"};
  auto got = PullModel(kRepo, dest, o, nullptr);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(got.status().message().find("503"), std::string::npos) << got.status().message();
  EXPECT_EQ(hub.Seen().size(), 4u);  // 1 + 3 retries
  hub.fail_503 = 0;
}

TEST(PullModelTest, SecondPullSkipsVerifiedFiles) {
  FakeHub hub;
  hub.Start(false);
  const fs::path dest = souk::testing::TempDir("pull_twice");
  ASSERT_OK(PullModel(kRepo, dest, TestOptions(hub), nullptr));
  hub.ClearSeen();
  ASSERT_OK_AND_ASSIGN(auto files, PullModel(kRepo, dest, TestOptions(hub), nullptr));
  ASSERT_EQ(files.size(), 4u);
  for (const auto& f : files) {
    EXPECT_TRUE(f.skipped_existing) << f.name;
    EXPECT_TRUE(f.verified_against) << f.name;
    EXPECT_EQ(f.sha256, Sha256Hex(hub.files[f.name])) << f.name;
  }
  for (const auto& r : hub.Seen()) {
    for (const auto& f : files) {
      EXPECT_NE(r.path, std::string("/") + kRepo + "/resolve/main/" + f.name)
          << "re-fetched " << r.path;
    }
  }
  // A file changed on disk is fetched again.
  WriteAll(dest / "config.json", "{}");
  hub.ClearSeen();
  ASSERT_OK_AND_ASSIGN(files, PullModel(kRepo, dest, TestOptions(hub), nullptr));
  EXPECT_FALSE(FindFile(files, "config.json")->skipped_existing);
  EXPECT_TRUE(FindFile(files, kBig)->skipped_existing);
  EXPECT_EQ(ReadAll(dest / "config.json"), hub.files["config.json"]);
  // With a caller-provided hash the skip does not need the record.
  fs::remove(dest / "souk-download.json");
  DownloadOptions o = TestOptions(hub);
  o.files = {kBig};
  o.expected_sha256[kBig] = hub.BigSha();
  hub.ClearSeen();
  ASSERT_OK_AND_ASSIGN(files, PullModel(kRepo, dest, o, nullptr));
  EXPECT_TRUE(files[0].skipped_existing);
  EXPECT_EQ(files[0].verified_by, "expected");
  EXPECT_TRUE(hub.Seen().empty());
}

TEST(PullModelTest, ProgressReportsBytes) {
  FakeHub hub;
  hub.Start(false);
  const fs::path dest = souk::testing::TempDir("pull_progress");
  const fs::path log = dest / "progress.txt";
  FILE* out = std::fopen(log.c_str(), "w");
  ASSERT_NE(out, nullptr);
  ProgressOptions po;
  po.mode = ProgressMode::kLines;
  po.out = out;
  DownloadOptions o = TestOptions(hub);
  o.files = {kBig};
  ASSERT_OK(PullModel(kRepo, dest / "m", o, &po));
  std::fclose(out);
  const std::string text = ReadAll(log);
  EXPECT_NE(text.find("download model.safetensors"), std::string::npos) << text;
  EXPECT_NE(text.find("MiB"), std::string::npos) << text;
}

TEST(PullModelTest, ValidatesRepoIdsFileNamesAndEndpoints) {
  ASSERT_OK_AND_ASSIGN(fs::path dir,
                       HubModelDir("/data", "sentence-transformers/all-MiniLM-L6-v2"));
  EXPECT_EQ(dir, fs::path("/data/models/hub/sentence-transformers--all-MiniLM-L6-v2"));
  for (const std::string bad : {"", "a/b/c", "../x", "a/..", "a b/c", "org/"}) {
    EXPECT_EQ(HubModelDir("/data", bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
  const fs::path dest = souk::testing::TempDir("pull_validate");
  DownloadOptions o;
  o.endpoint = "http://127.0.0.1:1";
  for (const std::string bad : {"../etc/passwd", "/abs", "a//b", "a/./b"}) {
    o.files = {bad};
    EXPECT_EQ(PullModel(kRepo, dest, o, nullptr).status().code(), StatusCode::kInvalidArgument)
        << bad;
  }
  o.files = {"config.json"};
  o.endpoint = "ftp://example.com";
  EXPECT_EQ(PullModel(kRepo, dest, o, nullptr).status().code(), StatusCode::kInvalidArgument);
}

TEST(PullModelTest, ConnectionRefusedIsUnavailableAfterRetries) {
  LocalServer s;  // bind a port, then close it: nothing listens there
  s.Start();
  const std::string endpoint = s.Origin();
  s.Stop();
  DownloadOptions o;
  o.endpoint = endpoint;
  o.files = {"config.json"};
  o.max_retries = 1;
  o.retry_base_delay_ms = 1;
  auto got = PullModel(kRepo, souk::testing::TempDir("pull_refused"), o, nullptr);
  EXPECT_EQ(got.status().code(), StatusCode::kUnavailable) << got.status().ToString();
}

TEST(PullModelTest, HubEnvironmentFillsOnlyDefaults) {
  ::setenv("HF_ENDPOINT", "https://mirror.example", 1);
  ::setenv("HF_TOKEN", "tok-env", 1);
  DownloadOptions a;
  ApplyHubEnvironment(&a);
  EXPECT_EQ(a.endpoint, "https://mirror.example");
  EXPECT_EQ(a.token, "tok-env");
  DownloadOptions b;
  b.endpoint = "http://explicit";
  b.token = "explicit";
  ApplyHubEnvironment(&b);
  EXPECT_EQ(b.endpoint, "http://explicit");
  EXPECT_EQ(b.token, "explicit");
  ::unsetenv("HF_ENDPOINT");
  ::unsetenv("HF_TOKEN");
}

// --- VerifyWeights ----------------------------------------------------------

TEST(VerifyWeightsTest, RealRecordsWithoutWeightsReportNotPresent) {
  const fs::path models = souk::testing::SharedDir() / "models";
  if (!fs::exists(models / "all-MiniLM-L6-v2" / "weights-not-included.json")) {
    GTEST_SKIP() << "shared models missing";
  }
  for (const std::string name : {"all-MiniLM-L6-v2", "gte-small", "m3e-small-zh"}) {
    const fs::path dir = models / name;
    const fs::path records = dir / "weights-not-included.json";
    const auto j = nlohmann::json::parse(ReadAll(records));
    ASSERT_OK_AND_ASSIGN(auto checks, VerifyWeights(dir, records));
    ASSERT_EQ(checks.size(), j.size()) << name;
    for (const auto& c : checks) {
      EXPECT_FALSE(c.present) << name << " " << c.name;
      EXPECT_FALSE(c.ok);
      EXPECT_EQ(c.problem, "not present");
      EXPECT_EQ(c.expected_sha256, j[c.name]["sha256"].get<std::string>());
      EXPECT_EQ(c.expected_size, j[c.name]["size"].get<uint64_t>());
    }
    EXPECT_OK(WeightChecksStatus(checks));
  }
  // The MiniLM record names its safetensors weights with the published hash.
  ASSERT_OK_AND_ASSIGN(auto mini,
                       VerifyWeights(models / "all-MiniLM-L6-v2",
                                     models / "all-MiniLM-L6-v2" / "weights-not-included.json"));
  bool found = false;
  for (const auto& c : mini) {
    if (c.name == "model.safetensors") {
      found = true;
      EXPECT_EQ(c.expected_sha256,
                "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db");
      EXPECT_EQ(c.expected_size, 90868376u);
    }
  }
  EXPECT_TRUE(found);
}

TEST(VerifyWeightsTest, MatchesAndMismatchesOfPresentFiles) {
  const fs::path dir = souk::testing::TempDir("verify_weights");
  const std::string weights = RandomBytes(100000, 3);
  WriteAll(dir / "model.safetensors", weights);
  WriteAll(dir / "onnx" / "model.onnx", "short");
  const std::string sha = Sha256Hex(weights);

  nlohmann::json good = {{"model.safetensors", {{"sha256", sha}, {"size", weights.size()}}},
                         {"pytorch_model.bin", {{"sha256", std::string(64, '0')}, {"size", 5}}}};
  WriteAll(dir / "good.json", good.dump());
  ASSERT_OK_AND_ASSIGN(auto checks, VerifyWeights(dir, dir / "good.json"));
  ASSERT_EQ(checks.size(), 2u);
  EXPECT_EQ(checks[0].name, "model.safetensors");
  EXPECT_TRUE(checks[0].present);
  EXPECT_TRUE(checks[0].ok);
  EXPECT_EQ(checks[0].actual_sha256, sha);
  EXPECT_EQ(checks[0].actual_size, weights.size());
  EXPECT_FALSE(checks[1].present);
  EXPECT_OK(WeightChecksStatus(checks));

  std::string wrong = sha;
  wrong[0] = wrong[0] == 'a' ? 'b' : 'a';
  nlohmann::json bad = {{"model.safetensors", {{"sha256", wrong}, {"size", weights.size()}}},
                        {"onnx/model.onnx", {{"sha256", Sha256Hex("short")}, {"size", 999}}}};
  WriteAll(dir / "bad.json", bad.dump());
  ASSERT_OK_AND_ASSIGN(checks, VerifyWeights(dir, dir / "bad.json"));
  ASSERT_EQ(checks.size(), 2u);
  // Sorted by name: model.safetensors, onnx/model.onnx.
  EXPECT_FALSE(checks[0].ok);
  EXPECT_EQ(checks[0].actual_sha256, sha);
  EXPECT_NE(checks[0].problem.find("sha256"), std::string::npos);
  EXPECT_FALSE(checks[1].ok);
  EXPECT_EQ(checks[1].actual_sha256, "");  // size differs: not hashed
  EXPECT_NE(checks[1].problem.find("size 5"), std::string::npos) << checks[1].problem;
  const Status s = WeightChecksStatus(checks);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_NE(s.message().find("model.safetensors"), std::string::npos);
  EXPECT_NE(s.message().find(wrong), std::string::npos);
  EXPECT_NE(s.message().find("onnx/model.onnx"), std::string::npos);
}

TEST(VerifyWeightsTest, MalformedRecordsAreErrors) {
  const fs::path dir = souk::testing::TempDir("verify_bad");
  EXPECT_EQ(VerifyWeights(dir, dir / "missing.json").status().code(), StatusCode::kNotFound);
  WriteAll(dir / "a.json", "{not json");
  EXPECT_EQ(VerifyWeights(dir, dir / "a.json").status().code(), StatusCode::kInvalidArgument);
  WriteAll(dir / "b.json", R"({"model.safetensors": {"sha256": "abc", "size": 3}})");
  auto b = VerifyWeights(dir, dir / "b.json");
  EXPECT_EQ(b.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(b.status().message().find("model.safetensors"), std::string::npos);
  WriteAll(dir / "c.json", R"({"model.safetensors": {"size": 3}})");
  EXPECT_EQ(VerifyWeights(dir, dir / "c.json").status().code(), StatusCode::kInvalidArgument);
  WriteAll(dir / "d.json", R"({"../x": {"sha256": ")" + std::string(64, '0') + R"(", "size": 3}})");
  EXPECT_EQ(VerifyWeights(dir, dir / "d.json").status().code(), StatusCode::kInvalidArgument);
}

// --- EmbeddingCache ----------------------------------------------------------

constexpr int kDim = 6;

// A deterministic fake encoder that counts what it embeds.
struct FakeEmbedder {
  std::atomic<size_t> calls{0};
  std::atomic<size_t> texts{0};
  float salt = 0.0f;
  int fail_on_call = -1;  // 0-based call index that returns an error

  EmbedFn Fn() {
    return [this](std::span<const std::string> batch, float* out) -> Status {
      const size_t call = calls++;
      if (static_cast<int>(call) == fail_on_call) return UnavailableError("fake encoder failed");
      texts += batch.size();
      for (size_t i = 0; i < batch.size(); ++i) Row(batch[i], out + i * kDim);
      return OkStatus();
    };
  }
  void Row(const std::string& text, float* out) const {
    for (int d = 0; d < kDim; ++d) {
      float v = salt + static_cast<float>(d);
      for (char c : text) v = std::fmod(v * 31.0f + static_cast<unsigned char>(c), 1000.0f);
      out[d] = v;
    }
  }
};

std::vector<std::string> Titles(size_t n) {
  std::vector<std::string> t;
  for (size_t i = 0; i < n; ++i) t.push_back("cordless drill model " + std::to_string(i));
  return t;
}

TEST(EmbeddingCacheTest, EmbedsOnlyNewOrChangedTexts) {
  const fs::path file = souk::testing::TempDir("cache_basic") / "cache.db";
  ASSERT_OK_AND_ASSIGN(auto cache, EmbeddingCache::Open(file));
  std::vector<std::string> texts = Titles(25);
  FakeEmbedder enc;

  std::vector<float> first(texts.size() * kDim, -1.0f);
  ASSERT_OK_AND_ASSIGN(auto s1, EmbedWithCache(cache.get(), "fake:v1", kDim, texts, enc.Fn(), 4,
                                               first.data(), nullptr));
  EXPECT_EQ(s1.total, 25u);
  EXPECT_EQ(s1.from_cache, 0u);
  EXPECT_EQ(s1.embedded, 25u);
  EXPECT_EQ(enc.calls.load(), 7u);  // ceil(25 / 4)
  for (size_t i = 0; i < texts.size(); ++i) {
    float want[kDim];
    enc.Row(texts[i], want);
    for (int d = 0; d < kDim; ++d) ASSERT_EQ(first[i * kDim + d], want[d]);
  }

  // Second run: nothing embedded, identical rows.
  enc.calls = 0;
  enc.texts = 0;
  std::vector<float> second(texts.size() * kDim, -1.0f);
  ASSERT_OK_AND_ASSIGN(auto s2, EmbedWithCache(cache.get(), "fake:v1", kDim, texts, enc.Fn(), 4,
                                               second.data(), nullptr));
  EXPECT_EQ(s2.from_cache, 25u);
  EXPECT_EQ(s2.embedded, 0u);
  EXPECT_EQ(enc.calls.load(), 0u);
  EXPECT_EQ(second, first);

  // Two changed texts: exactly two embedded.
  texts[3] = "impact driver";
  texts[17] = "orbital sander";
  std::vector<float> third(texts.size() * kDim, -1.0f);
  ASSERT_OK_AND_ASSIGN(auto s3, EmbedWithCache(cache.get(), "fake:v1", kDim, texts, enc.Fn(), 4,
                                               third.data(), nullptr));
  EXPECT_EQ(s3.embedded, 2u);
  EXPECT_EQ(s3.from_cache, 23u);
  EXPECT_EQ(enc.texts.load(), 2u);
  float want[kDim];
  enc.Row("orbital sander", want);
  for (int d = 0; d < kDim; ++d) EXPECT_EQ(third[17 * kDim + d], want[d]);
  for (int d = 0; d < kDim; ++d) EXPECT_EQ(third[0 * kDim + d], first[0 * kDim + d]);

  // Another encoder version: everything embedded again; Prune drops the old rows.
  enc.texts = 0;
  enc.salt = 5.0f;
  std::vector<float> other(texts.size() * kDim);
  ASSERT_OK_AND_ASSIGN(auto s4, EmbedWithCache(cache.get(), "fake:v2", kDim, texts, enc.Fn(), 8,
                                               other.data(), nullptr));
  EXPECT_EQ(s4.embedded, 25u);
  EXPECT_EQ(enc.texts.load(), 25u);
  EXPECT_NE(other, third);
  ASSERT_OK_AND_ASSIGN(size_t pruned, cache->Prune("fake:v2"));
  EXPECT_EQ(pruned, 27u);  // 25 + the 2 changed texts of v1
  EXPECT_EQ(cache->Count("fake:v1").value(), 0u);
  EXPECT_EQ(cache->Count("fake:v2").value(), 25u);
}

TEST(EmbeddingCacheTest, DimMismatchForAKnownKeyIsInvalidArgument) {
  ASSERT_OK_AND_ASSIGN(auto cache,
                       EmbeddingCache::Open(souk::testing::TempDir("cache_dim") / "c.db"));
  std::vector<std::string> texts = Titles(3);
  std::vector<float> rows(3 * kDim, 1.0f);
  ASSERT_OK(cache->Put("enc:1", texts, kDim, rows.data()));
  std::vector<float> out(3 * 8);
  std::vector<uint8_t> found;
  auto lookup = cache->Lookup("enc:1", texts, 8, out.data(), &found);
  EXPECT_EQ(lookup.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(lookup.status().message().find("enc:1"), std::string::npos);
  EXPECT_EQ(cache->Put("enc:1", texts, 8, out.data()).code(), StatusCode::kInvalidArgument);
  FakeEmbedder enc;
  EXPECT_EQ(EmbedWithCache(cache.get(), "enc:1", 8, texts, enc.Fn(), 2, out.data(), nullptr)
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(enc.calls.load(), 0u);
  // An unknown key with another dim is fine.
  ASSERT_OK_AND_ASSIGN(size_t n, cache->Lookup("enc:2", texts, 8, out.data(), &found));
  EXPECT_EQ(n, 0u);
  EXPECT_EQ(found, std::vector<uint8_t>(3, 0));
  // Bad arguments.
  EXPECT_EQ(cache->Lookup("enc:1", texts, 0, out.data(), &found).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(EmbedWithCache(cache.get(), "enc:1", kDim, texts, enc.Fn(), 0, out.data(), nullptr)
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(EmbedWithCache(nullptr, "enc:1", kDim, texts, enc.Fn(), 2, out.data(), nullptr)
                .status()
                .code(),
            StatusCode::kInvalidArgument);
}

TEST(EmbeddingCacheTest, ReopenedCacheKeepsRows) {
  const fs::path file = souk::testing::TempDir("cache_reopen") / "sub" / "cache.db";
  std::vector<std::string> texts = Titles(10);
  FakeEmbedder enc;
  std::vector<float> first(texts.size() * kDim);
  {
    ASSERT_OK_AND_ASSIGN(auto cache, EmbeddingCache::Open(file));
    ASSERT_OK(
        EmbedWithCache(cache.get(), "fake:v1", kDim, texts, enc.Fn(), 3, first.data(), nullptr));
  }
  ASSERT_OK_AND_ASSIGN(auto cache, EmbeddingCache::Open(file));
  std::vector<float> again(texts.size() * kDim, 0.0f);
  std::vector<uint8_t> found;
  ASSERT_OK_AND_ASSIGN(size_t n, cache->Lookup("fake:v1", texts, kDim, again.data(), &found));
  EXPECT_EQ(n, 10u);
  EXPECT_EQ(again, first);
}

TEST(EmbeddingCacheTest, EmbedErrorIsReturnedAndTheFailingBatchIsNotStored) {
  ASSERT_OK_AND_ASSIGN(auto cache,
                       EmbeddingCache::Open(souk::testing::TempDir("cache_err") / "c.db"));
  std::vector<std::string> texts = Titles(10);
  FakeEmbedder enc;
  enc.fail_on_call = 1;  // batches of 4: the first is stored, the second fails
  std::vector<float> out(texts.size() * kDim);
  auto got = EmbedWithCache(cache.get(), "fake:v1", kDim, texts, enc.Fn(), 4, out.data(), nullptr);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(got.status().message(), "fake encoder failed");
  EXPECT_EQ(cache->Count("fake:v1").value(), 4u);
  std::vector<uint8_t> found;
  ASSERT_OK(cache->Lookup("fake:v1", texts, kDim, out.data(), &found));
  EXPECT_EQ(found, std::vector<uint8_t>({1, 1, 1, 1, 0, 0, 0, 0, 0, 0}));

  enc.fail_on_call = -1;
  enc.texts = 0;
  ASSERT_OK_AND_ASSIGN(auto s, EmbedWithCache(cache.get(), "fake:v1", kDim, texts, enc.Fn(), 4,
                                              out.data(), nullptr));
  EXPECT_EQ(s.from_cache, 4u);
  EXPECT_EQ(s.embedded, 6u);
  EXPECT_EQ(enc.texts.load(), 6u);
}

TEST(EmbeddingCacheTest, WhitespaceVariantsAndDuplicatesShareOneRow) {
  EXPECT_EQ(EmbeddingCache::TextHash("  red \t shoe\n"), EmbeddingCache::TextHash("red shoe"));
  EXPECT_EQ(EmbeddingCache::TextHash("red shoe"), Sha256Hex("red shoe"));
  EXPECT_NE(EmbeddingCache::TextHash("red shoe"), EmbeddingCache::TextHash("redshoe"));
  EXPECT_NE(EmbeddingCache::TextHash("Red shoe"), EmbeddingCache::TextHash("red shoe"));

  ASSERT_OK_AND_ASSIGN(auto cache,
                       EmbeddingCache::Open(souk::testing::TempDir("cache_dup") / "c.db"));
  std::vector<std::string> texts = {"red shoe", "blue hat", " red  shoe ", "red shoe"};
  FakeEmbedder enc;
  std::vector<float> out(texts.size() * kDim);
  ASSERT_OK_AND_ASSIGN(auto s, EmbedWithCache(cache.get(), "fake:v1", kDim, texts, enc.Fn(), 10,
                                              out.data(), nullptr));
  EXPECT_EQ(s.embedded, 2u);
  EXPECT_EQ(s.duplicates, 2u);
  for (size_t i : {2u, 3u}) {
    for (int d = 0; d < kDim; ++d) EXPECT_EQ(out[i * kDim + d], out[d]);
  }
}

TEST(EmbeddingCacheTest, ConcurrentPutsAndLookups) {
  ASSERT_OK_AND_ASSIGN(auto cache,
                       EmbeddingCache::Open(souk::testing::TempDir("cache_mt") / "c.db"));
  std::atomic<int> errors{0};
  auto worker = [&](int id) {
    FakeEmbedder enc;
    for (int round = 0; round < 20; ++round) {
      std::vector<std::string> texts;
      for (int i = 0; i < 5; ++i)
        texts.push_back("t" + std::to_string(id) + "-" + std::to_string(round * 5 + i));
      std::vector<float> out(texts.size() * kDim);
      if (!EmbedWithCache(cache.get(), "fake:v1", kDim, texts, enc.Fn(), 2, out.data(), nullptr)
               .ok())
        ++errors;
    }
  };
  std::thread a(worker, 0), b(worker, 1);
  a.join();
  b.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(cache->Count("fake:v1").value(), 200u);
}

TEST(EmbeddingCacheTest, ANonCacheFileIsAnError) {
  const fs::path file = souk::testing::TempDir("cache_bad") / "c.db";
  WriteAll(file, std::string(4096, 'x'));
  auto got = EmbeddingCache::Open(file);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kDataLoss) << got.status().ToString();
  EXPECT_NE(got.status().message().find("c.db"), std::string::npos);
}

}  // namespace
}  // namespace souk::lm
