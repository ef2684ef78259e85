// Protocol A of ../shared/EVAL.md: product search on Home Depot, through the
// same SearchEngine that serves `souk search`.
//
//   products.csv -> SearchCatalog -> lexical index + baseline encoder + vector
//   index; judgments -> per query: understanding, hybrid retrieval, features of
//   the candidates and of every judged product -> LTR ranker and relevance
//   regressor trained on --train-judgments or cross-fitted by query (5 folds,
//   FoldOfQuery) -> full-corpus NDCG@10 / Recall@100, rerank NDCG@10, RMSE.
//
// Ablations (each a complete ranking, same metrics where defined): "bm25"
// (lexical only, no query understanding), "bm25+qu", "dense" (dense only),
// "hybrid" (fusion, no LTR), "hybrid+ltr" (the headline numbers).
#pragma once

#include <memory>
#include <string>

#include "eval/protocol.h"

namespace souk::eval {

struct SearchProtocolOptions {
  size_t max_queries = 0;       // 0 = all (a prefix of the judgments' queries, for quick runs)
  int folds = 5;                // cross-fitting folds when there is no --train-judgments
  bool dense = true;            // build the baseline encoder + vector index
  int encoder_epochs = 5;       // sub-word encoder epochs
  int encoder_dim = 128;
  int threads = 2;              // training threads (encoder, XGBoost)
  size_t candidates = 200;      // fused candidates scored by the ranker per query
  int ltr_rounds = 300;
  size_t train_negatives = 60;
  double bm25_k1 = 1.0, bm25_b = 0.5;   // Xapian's BM25Weight defaults (the peer's)
  // Dense encoder: "subword" (trained on the titles, no judgments) or "bert":
  // a BERT encoder (pre-trained on the titles with MLM unless bert_base names a
  // checkpoint folder) fine-tuned contrastively on (query, judged product)
  // pairs of the training queries -- one fine-tune per cross-fitting fold, so
  // no query is scored by an encoder that saw it.
  std::string encoder = "subword";
  std::string bert_base;          // HF / Souk model folder to fine-tune from
  std::string bert_work_dir;      // where models go; "" = a temporary folder
  bool bert_reuse = false;        // reuse models already in bert_work_dir
  int bert_hidden = 256, bert_layers = 4, bert_heads = 4, bert_intermediate = 1024;
  int bert_vocab = 8000;
  int bert_pretrain_epochs = 3;
  int bert_finetune_epochs = 3;
  int bert_batch = 64;
  float bert_pretrain_lr = 5e-4f, bert_finetune_lr = 1e-4f;
  bool bert_lora = false;
  bool bert_int8 = false;
  double bert_min_relevance = 2.33; // judged products at or above this are positives
};

class HomeDepotSearchProtocol : public EvalProtocol {
 public:
  std::string Name() const override { return "homedepot"; }
  std::string Task() const override { return "search"; }
  std::string Description() const override {
    return "Home Depot product search (EVAL.md A): full-corpus NDCG@10/Recall@100, rerank, RMSE";
  }
  void AddOptions(CLI::App* cmd) override;
  StatusOr<EvalReport> Run(const EvalContext& ctx) override;
  SearchProtocolOptions& options() { return options_; }

 private:
  SearchProtocolOptions options_;
};

}  // namespace souk::eval
