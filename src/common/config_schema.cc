// The one list of configuration keys. Keep each doc line short and concrete.
#include <algorithm>

#include "common/config.h"

namespace souk {

const std::vector<ConfigKey>& ConfigSchema() {
  static const std::vector<ConfigKey> keys = [] {
    std::vector<ConfigKey> k = {
        // general
        {"general.log_level", ConfigType::kString, "info", "trace, debug, info, warn, error or off"},
        {"general.progress", ConfigType::kString, "auto", "progress display: auto (bar on a terminal), bar, lines, off"},
        // store
        {"store.synchronous", ConfigType::kString, "full", "SQLite synchronous mode in WAL: full (a returned batch survives power loss) or normal (survives a process crash)"},
        {"store.cache_mb", ConfigType::kInt, "256", "SQLite page cache per connection, MiB"},
        {"store.busy_timeout_ms", ConfigType::kInt, "10000", "how long a writer waits for a lock before failing, ms"},
        // import
        {"import.batch_size", ConfigType::kInt, "20000", "records per write transaction; a batch is durable when acknowledged"},
        {"import.unknown_item", ConfigType::kString, "stub", "an event naming an item not in the catalog: stub (create a placeholder item) or quarantine"},
        {"import.max_field_bytes", ConfigType::kInt, "1048576", "a field longer than this is quarantined as oversized"},
        {"import.min_timestamp", ConfigType::kString, "1995-01-01", "events older than this date are quarantined as absurdly old"},
        {"import.max_future_s", ConfigType::kInt, "86400", "events more than this many seconds in the future are quarantined"},
        {"import.max_price", ConfigType::kDouble, "10000000", "prices above this are quarantined as out of range"},
        {"import.max_quantity", ConfigType::kDouble, "100000", "|quantity| above this is quarantined as out of range"},
        {"import.defer_indexes", ConfigType::kString, "auto", "bulk loads drop and rebuild the secondary event indexes: auto (large inputs), always, never"},
        {"import.quarantine_raw_bytes", ConfigType::kInt, "4096", "how much of a bad record's raw text is kept in quarantine"},
        // quality
        {"quality.bot_events_per_minute", ConfigType::kDouble, "30", "a user or session above this sustained event rate is bot-like"},
        {"quality.bot_min_events", ConfigType::kInt, "20", "only users/sessions with at least this many events are judged for bot-likeness"},
        {"quality.no_dwell_seconds", ConfigType::kDouble, "1", "a view followed by the next event within this many seconds had no dwell"},
        {"quality.outlier_z", ConfigType::kDouble, "3.5", "robust z-score (median/MAD) above which a price is an outlier in its category"},
        {"quality.cold_threshold", ConfigType::kInt, "5", "items/users with fewer interactions than this count as cold"},
        {"quality.session_gap_s", ConfigType::kInt, "1800", "inactivity that ends a session when events carry no session id"},
        // search (issue #3): query understanding, retrieval, fusion, ranking
        {"search.lexical_candidates", ConfigType::kInt, "300", "lexical (BM25) hits fed to fusion per query"},
        {"search.dense_candidates", ConfigType::kInt, "200", "dense (vector) hits fed to fusion per query"},
        {"search.dense", ConfigType::kBool, "true", "use dense retrieval (the encoder + vector index)"},
        {"search.fusion", ConfigType::kString, "rrf", "how lexical and dense lists are merged: rrf (reciprocal rank) or weighted (max-normalized scores)"},
        {"search.rrf_k", ConfigType::kDouble, "60", "k of reciprocal-rank fusion: score = w / (k + rank)"},
        {"search.lexical_weight", ConfigType::kDouble, "1", "weight of the lexical list in fusion"},
        {"search.dense_weight", ConfigType::kDouble, "1", "weight of the dense list in fusion"},
        {"search.ltr", ConfigType::kBool, "true", "re-rank with the learning-to-rank model when one is trained"},
        {"search.rerank_depth", ConfigType::kInt, "300", "fused candidates scored by the ranker"},
        {"search.personalization_weight", ConfigType::kDouble, "0.3", "boost of a known user's category/brand/price affinity (0 = off)"},
        {"search.spelling", ConfigType::kBool, "true", "correct misspelled query words from the catalog and past queries"},
        {"search.spelling_min_confidence", ConfigType::kDouble, "0.5", "corrections below this confidence are not applied"},
        {"search.brand_as_filter", ConfigType::kBool, "false", "a brand named in the query becomes a filter (else a ranking signal)"},
        {"search.category_intent", ConfigType::kBool, "true", "predict the query's categories from past searches"},
        {"search.synonyms", ConfigType::kString, "", "synonym rules word=synonym separated by ';' (both directions), e.g. tv=television;sofa=couch"},
        {"search.mine_synonyms", ConfigType::kBool, "true", "add synonyms between queries that lead to the same purchases (souk index)"},
        // lexical / vector indexes
        {"lexical.bm25_k1", ConfigType::kDouble, "1", "BM25 term-frequency saturation (Xapian's default; better than 1.2 on short titles, docs/BENCHMARKS.md)"},
        {"lexical.bm25_b", ConfigType::kDouble, "0.5", "BM25 document-length normalization (Xapian's default)"},
        {"lexical.stem_language", ConfigType::kString, "english", "Snowball stemmer of the index (none = no stemming)"},
        {"lexical.weight_title", ConfigType::kDouble, "3", "weight of the title field's BM25"},
        {"lexical.weight_brand", ConfigType::kDouble, "2", "weight of the brand field's BM25"},
        {"lexical.weight_category", ConfigType::kDouble, "1.5", "weight of the category path's BM25"},
        {"lexical.weight_description", ConfigType::kDouble, "1", "weight of the description's BM25"},
        {"lexical.weight_attributes", ConfigType::kDouble, "1", "weight of the attribute values' BM25"},
        {"vector.hnsw_m", ConfigType::kInt, "32", "HNSW graph degree"},
        {"vector.ef_construction", ConfigType::kInt, "200", "HNSW build beam width"},
        {"vector.ef_search", ConfigType::kInt, "128", "HNSW search beam width"},
        {"vector.exact_below", ConfigType::kInt, "20000", "below this many vectors search is exact (brute force)"},
        // subword encoder (the dense baseline until the language-model layer)
        {"subword.dim", ConfigType::kInt, "128", "dimension of the baseline sub-word encoder trained on the catalog"},
        {"subword.epochs", ConfigType::kInt, "5", "training epochs of the sub-word encoder"},
        {"subword.threads", ConfigType::kInt, "2", "training threads of the sub-word encoder"},
        // language models: BERT encoders for search, `souk embed`, `souk train encoder`
        {"lm.encoder", ConfigType::kString, "subword", "dense encoder of the search index: subword (trained on the catalog by souk index) or bert (lm.model)"},
        {"lm.model", ConfigType::kString, "", "BERT model for search: a model folder or a pulled hub id (souk model pull); empty = the latest `souk train encoder` result (models/bert/CURRENT)"},
        {"lm.threads", ConfigType::kInt, "0", "threads of BERT inference and training (0 = all cores)"},
        {"lm.batch_size", ConfigType::kInt, "32", "texts per BERT forward pass when embedding"},
        {"lm.int8", ConfigType::kBool, "false", "int8 dynamic quantization of BERT inference (faster; vectors differ slightly)"},
        {"lm.max_length", ConfigType::kInt, "0", "tokens per text for BERT inference (0 = the model's max_seq_length, else 128)"},
        {"lm.query_prefix", ConfigType::kString, "", "text prepended to queries before BERT encoding (e.g. \"query: \" for e5 models)"},
        {"lm.document_prefix", ConfigType::kString, "", "text prepended to item texts before BERT encoding (e.g. \"passage: \")"},
        {"lm.embedding_cache", ConfigType::kBool, "true", "keep item embeddings in <data>/cache/embeddings.db so re-indexing only embeds new or changed texts"},
        {"lm.base_model", ConfigType::kString, "", "souk train encoder: model folder or pulled hub id to fine-tune from; empty = pre-train one on the catalog"},
        {"lm.pretrain.hidden_size", ConfigType::kInt, "256", "pre-training: hidden size of the new BERT"},
        {"lm.pretrain.layers", ConfigType::kInt, "4", "pre-training: transformer layers"},
        {"lm.pretrain.heads", ConfigType::kInt, "4", "pre-training: attention heads (must divide hidden_size)"},
        {"lm.pretrain.intermediate_size", ConfigType::kInt, "1024", "pre-training: feed-forward width"},
        {"lm.pretrain.vocab_size", ConfigType::kInt, "8000", "pre-training: WordPiece vocabulary built from the catalog"},
        {"lm.pretrain.epochs", ConfigType::kInt, "3", "pre-training: passes over the catalog texts (masked-language modeling)"},
        {"lm.pretrain.batch_size", ConfigType::kInt, "64", "pre-training: texts per step"},
        {"lm.pretrain.learning_rate", ConfigType::kDouble, "0.0005", "pre-training: peak AdamW learning rate"},
        {"lm.pretrain.max_length", ConfigType::kInt, "32", "pre-training: tokens per text incl. [CLS]/[SEP]"},
        {"lm.finetune.epochs", ConfigType::kInt, "3", "fine-tuning: passes over the mined (query, item) and (item, item) pairs"},
        {"lm.finetune.batch_size", ConfigType::kInt, "64", "fine-tuning: pairs per step (the other pairs of a batch are the negatives)"},
        {"lm.finetune.learning_rate", ConfigType::kDouble, "0.0001", "fine-tuning: peak AdamW learning rate (LoRA usually wants ~0.001)"},
        {"lm.finetune.lora", ConfigType::kBool, "false", "fine-tune LoRA adapters only (base weights frozen); souk train encoder --lora"},
        {"lm.finetune.lora_rank", ConfigType::kInt, "8", "fine-tuning: LoRA rank"},
        {"lm.finetune.lora_alpha", ConfigType::kDouble, "16", "fine-tuning: LoRA scaling alpha"},
        {"lm.finetune.temperature", ConfigType::kDouble, "0.05", "fine-tuning: softmax temperature of the in-batch contrastive loss"},
        {"lm.finetune.max_seconds", ConfigType::kDouble, "0", "fine-tuning: wall-time budget in seconds (0 = none); souk train encoder --max-seconds"},
        {"lm.finetune.max_pairs", ConfigType::kInt, "200000", "fine-tuning: cap on mined training pairs"},
        // model downloads (souk model pull)
        {"models.hub_endpoint", ConfigType::kString, "", "hub URL for souk model pull (empty = $HF_ENDPOINT or https://huggingface.co)"},
        {"models.download_retries", ConfigType::kInt, "5", "retries per file after network errors (souk model pull)"},
        {"models.download_timeout_s", ConfigType::kInt, "60", "connect and per-read timeout of model downloads, seconds"},
        // live sessions and purchase intent
        {"online.session_timeout_minutes", ConfigType::kInt, "30", "events without a session id start a new session after this many minutes of inactivity (intent training, souk intent, the recommender's intent)"},
        {"intent.calibration", ConfigType::kString, "isotonic", "calibration of the intent models: isotonic, platt or none (fitted on out-of-fold predictions)"},
        {"intent.folds", ConfigType::kInt, "5", "folds for the intent models' out-of-fold calibration and conversion priors"},
        // HTTP API (souk serve)
        {"server.host", ConfigType::kString, "127.0.0.1", "address souk serve listens on (0.0.0.0 = every interface)"},
        {"server.port", ConfigType::kInt, "8080", "port souk serve listens on (--port overrides)"},
        {"server.threads", ConfigType::kInt, "8", "request worker threads of souk serve"},
        {"server.max_body_bytes", ConfigType::kInt, "8388608", "largest request body accepted (bigger: 413)"},
        {"server.rate_limit_per_second", ConfigType::kDouble, "200", "requests per second per API key (token bucket; 0 = unlimited; over: 429 with Retry-After)"},
        {"server.rate_limit_burst", ConfigType::kDouble, "400", "burst size of the per-key rate limit"},
        {"server.train_schedule", ConfigType::kString, "", "scheduled retraining (UTC): empty/off, nightly, hourly, daily HH:MM, every 6h, every 30m"},
        {"server.tls_cert", ConfigType::kString, "", "PEM certificate file: serve HTTPS when set (with server.tls_key)"},
        {"server.tls_key", ConfigType::kString, "", "PEM private key file of server.tls_cert"},
        {"server.console_dir", ConfigType::kString, "", "serve the web console from this folder (a `vite build` output) instead of the copy built into the binary; for console development"},
        // privacy
        {"privacy.mode", ConfigType::kBool, "false", "privacy mode: request logs carry no raw user ids, paths or query text"},
        {"privacy.pseudonymize_users", ConfigType::kBool, "false", "replace user ids by a keyed HMAC-SHA256 at ingestion and lookup (key in <data>/privacy.key)"},
        {"privacy.pii", ConfigType::kString, "redact", "e-mail addresses, phone and card numbers in event context: off, redact or reject"},
        // ranker
        {"ranker.rounds", ConfigType::kInt, "300", "maximum boosting rounds of the learning-to-rank model (early stopping on validation)"},
        {"ranker.max_depth", ConfigType::kInt, "6", "tree depth of the learning-to-rank model"},
        {"ranker.eta", ConfigType::kDouble, "0.1", "learning rate of the learning-to-rank model"},
        {"ranker.threads", ConfigType::kInt, "2", "training threads of the learning-to-rank model"},
        {"ranker.holdout_fraction", ConfigType::kDouble, "0.2", "latest share of logged searches held out to evaluate the ranker"},
        // generate
        {"generate.seed", ConfigType::kInt, "42", "seed of the demo's synthetic store (souk demo); souk generate takes --seed"},
    };
    std::sort(k.begin(), k.end(), [](auto& a, auto& b) { return a.name < b.name; });
    return k;
  }();
  return keys;
}

}  // namespace souk
