// Test fixture shared by the importer and dataset-adapter tests: a fresh store
// in a temporary folder, the built-in adapters, and Import() running one adapter
// through an Importer exactly as `souk import` does.
#pragma once

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "common/testing.h"
#include "ingest/adapter.h"
#include "ingest/importer.h"
#include "store/sqlite_store.h"

namespace souk::ingest {

class ImportFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::TempDir("import");
    // synchronous=normal: these tests check content, not power-loss durability.
    auto s = store::SqliteStore::Open((dir_ / "souk.db").string(), {.synchronous = "normal"});
    ASSERT_OK(s);
    store_ = std::move(s).value();
    RegisterBuiltinAdapters(registry_);
  }

  StatusOr<ImportSummary> Import(const std::string& format, std::vector<std::string> paths,
                                 AdapterOptions ao = {}, ImportOptions o = {}) {
    o.progress.mode = ProgressMode::kOff;
    Importer imp(store_.get(), o);
    RETURN_IF_ERROR(imp.Begin(format, paths));
    Adapter* a = registry_.Find(format);
    if (!a) return NotFoundError("no adapter " + format);
    Status s = a->Import(paths, ao, imp);
    if (!s.ok()) {
      imp.Abort(s);
      return s;
    }
    return imp.Finish();
  }

  // Writes a file into the test folder and returns its path.
  std::string Write(const std::string& name, const std::string& content) {
    auto p = (dir_ / name).string();
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }

  std::filesystem::path dir_;
  std::unique_ptr<store::SqliteStore> store_;
  AdapterRegistry registry_;
};

}  // namespace souk::ingest
