// Search settings from the configuration file (config keys search.*, lexical.*,
// vector.*, subword.*, ranker.*, lm.*; see docs/config.md), and the BERT model
// lookups shared by `souk index`, `souk search`, `souk embed` and `souk train
// encoder`.
#pragma once

#include <filesystem>
#include <string>

#include "common/config.h"
#include "common/status.h"
#include "lm/bert_encoder.h"
#include "search/store_search.h"

namespace souk::app {

// Everything search needs from the configuration. With lm.encoder = "bert" the
// returned config's load_encoder loads the model of SearchBertModelDir (lazily,
// when an index is built or opened); its encoder registry knows "subword" and
// "bert"; with lm.embedding_cache it opens <data>/cache/embeddings.db. An
// lm.encoder other than subword/bert makes load_encoder return InvalidArgument.
search::StoreSearchConfig SearchConfigFrom(const Config& config);

// BERT inference options from lm.threads, lm.batch_size, lm.max_length,
// lm.int8, lm.query_prefix and lm.document_prefix.
lm::BertEncoderOptions BertOptionsFrom(const Config& config);

// A model given as a folder, or as a hub id pulled with `souk model pull`
// (<data_dir>/models/hub/<org>--<name>) when no such folder exists.
// Errors: NotFound naming the folder (and the hub folder tried); InvalidArgument
// when the path exists but is not a folder.
StatusOr<std::filesystem::path> ResolveModelDir(const std::string& data_dir, const std::string& spec);

// The BERT model search uses: lm.model (ResolveModelDir), else
// <data_dir>/models/bert/<CURRENT>. Errors: FailedPrecondition telling the user
// to run `souk train encoder` or set lm.model when neither exists.
StatusOr<std::filesystem::path> SearchBertModelDir(const Config& config, const std::string& data_dir);

// <data_dir>/models/bert
std::filesystem::path BertModelsDir(const std::string& data_dir);

}  // namespace souk::app
