#include "lm/wordpiece_trainer.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <queue>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace souk::lm {

namespace {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
};

struct Word {
  std::vector<int32_t> syms;
  int64_t freq = 0;
};

inline uint64_t PairKey(int32_t a, int32_t b) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
}
inline int32_t First(uint64_t key) { return static_cast<int32_t>(key >> 32); }
inline int32_t Second(uint64_t key) { return static_cast<int32_t>(key & 0xFFFFFFFFu); }

struct Candidate {
  double score;
  int64_t count;
  uint64_t key;
  // Max-heap order: higher score, then higher count, then smaller key.
  bool operator<(const Candidate& o) const {
    if (score != o.score) return score < o.score;
    if (count != o.count) return count < o.count;
    return key > o.key;
  }
};

class Trainer {
 public:
  Trainer(const WordPieceTrainOptions& o, const ProgressOptions* po) : o_(o), po_(po) {}

  std::vector<std::string> Run(const std::vector<std::string>& texts) {
    CountWords(texts);
    std::vector<std::string> vocab;
    std::unordered_set<std::string, StringHash, std::equal_to<>> emitted;
    for (const std::string& s : o_.special_tokens) {
      if (emitted.insert(s).second) vocab.push_back(s);
    }
    const size_t target = static_cast<size_t>(std::max(0, o_.vocab_size));
    BuildAlphabet(target > vocab.size() ? target - vocab.size() : 0);
    for (const std::string& s : sym_str_) {
      if (emitted.insert(s).second) vocab.push_back(s);
    }
    if (vocab.size() >= target) return vocab;
    BuildWordsAndPairs();
    std::unique_ptr<Progress> progress;
    if (po_ != nullptr) {
      progress = std::make_unique<Progress>("wordpiece: merges", target - vocab.size(), *po_);
    }
    while (vocab.size() < target) {
      const int32_t m = MergeBest();
      if (m < 0) break;  // no pair left with min_frequency occurrences
      if (emitted.insert(sym_str_[m]).second) {
        vocab.push_back(sym_str_[m]);
        if (progress) progress->Add(1);
      }
    }
    if (progress) progress->Finish();
    return vocab;
  }

 private:
  void CountWords(const std::vector<std::string>& texts) {
    std::unique_ptr<Progress> progress;
    if (po_ != nullptr) {
      progress = std::make_unique<Progress>("wordpiece: count words", texts.size(), *po_);
    }
    const size_t max_chars =
        static_cast<size_t>(std::max(1, o_.tokenizer.max_input_chars_per_word));
    for (const std::string& text : texts) {
      BertPreTokenize(text, o_.tokenizer, [&](std::string_view w) {
        size_t chars = 0;
        for (char c : w) chars += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
        if (chars > max_chars) return;
        auto it = word_counts_.find(w);
        if (it == word_counts_.end()) {
          word_counts_.emplace(std::string(w), 1);
        } else {
          ++it->second;
        }
      });
      if (progress) progress->Add(1);
    }
    if (progress) progress->Finish();
  }

  // Splits a word into its characters' byte ranges.
  static void Chars(std::string_view w, std::vector<std::string_view>* out) {
    out->clear();
    size_t i = 0;
    while (i < w.size()) {
      size_t j = i + 1;
      while (j < w.size() && (static_cast<unsigned char>(w[j]) & 0xC0) == 0x80) ++j;
      out->push_back(w.substr(i, j - i));
      i = j;
    }
  }

  std::string Form(std::string_view ch, bool continuation) const {
    return continuation ? o_.tokenizer.continuing_prefix + std::string(ch) : std::string(ch);
  }

  // Keeps the characters seen >= min_frequency times, at most `room` of them.
  void BuildAlphabet(size_t room) {
    std::unordered_map<std::string, int64_t, StringHash, std::equal_to<>> counts;
    std::vector<std::string_view> chars;
    for (const auto& [w, f] : word_counts_) {
      Chars(w, &chars);
      for (size_t k = 0; k < chars.size(); ++k) counts[Form(chars[k], k > 0)] += f;
    }
    std::vector<std::pair<std::string, int64_t>> kept;
    for (auto& [s, c] : counts) {
      if (c >= o_.min_frequency) kept.emplace_back(s, c);
    }
    const std::string& prefix = o_.tokenizer.continuing_prefix;
    auto is_cont = [&](const std::string& s) {
      return !prefix.empty() && s.size() > prefix.size() &&
             s.compare(0, prefix.size(), prefix) == 0;
    };
    // Most frequent first to choose what fits, then initial forms before
    // continuation forms for the output order.
    std::sort(kept.begin(), kept.end(), [](const auto& a, const auto& b) {
      return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    if (kept.size() > room) kept.resize(room);
    std::stable_sort(kept.begin(), kept.end(), [&](const auto& a, const auto& b) {
      return !is_cont(a.first) && is_cont(b.first);
    });
    for (auto& [s, c] : kept) {
      sym_id_.emplace(s, static_cast<int32_t>(sym_str_.size()));
      sym_str_.push_back(s);
      sym_cont_.push_back(is_cont(s));
    }
  }

  void BuildWordsAndPairs() {
    std::vector<std::pair<std::string_view, int64_t>> sorted(word_counts_.begin(),
                                                             word_counts_.end());
    std::sort(sorted.begin(), sorted.end());
    std::vector<std::string_view> chars;
    std::string form;
    for (const auto& [w, f] : sorted) {
      Chars(w, &chars);
      Word word;
      word.freq = f;
      bool ok = true;
      for (size_t k = 0; k < chars.size() && ok; ++k) {
        form = Form(chars[k], k > 0);
        auto it = sym_id_.find(form);
        if (it == sym_id_.end()) {
          ok = false;
        } else {
          word.syms.push_back(it->second);
        }
      }
      if (ok && !word.syms.empty()) words_.push_back(std::move(word));
    }
    word_counts_.clear();
    sym_count_.assign(sym_str_.size(), 0);
    partners_.assign(sym_str_.size(), {});
    for (size_t wi = 0; wi < words_.size(); ++wi) {
      const Word& w = words_[wi];
      for (size_t k = 0; k < w.syms.size(); ++k) {
        sym_count_[w.syms[k]] += w.freq;
        total_ += w.freq;
        if (k + 1 < w.syms.size()) AddPair(w.syms[k], w.syms[k + 1], w.freq, wi);
      }
    }
    seen_.assign(words_.size(), -1);
    RebuildHeap();
  }

  void AddPair(int32_t a, int32_t b, int64_t freq, size_t word) {
    const uint64_t key = PairKey(a, b);
    int64_t& c = pair_count_[key];
    if (c == 0) {
      partners_[a].push_back(key);
      if (b != a) partners_[b].push_back(key);
    }
    c += freq;
    auto& list = pair_words_[key];
    if (list.empty() || list.back() != static_cast<int32_t>(word)) {
      list.push_back(static_cast<int32_t>(word));
    }
    touched_.push_back(key);
  }

  void RemovePair(int32_t a, int32_t b, int64_t freq) {
    const uint64_t key = PairKey(a, b);
    auto it = pair_count_.find(key);
    if (it == pair_count_.end()) return;
    it->second -= freq;
    touched_.push_back(key);
  }

  // Scores only rise through changes of c(a), c(b) or c(ab) (those pairs are
  // re-pushed); the fall of N lowers every gain score, so stale heap entries
  // are upper bounds and are re-scored when popped.
  double Score(uint64_t key, int64_t count) const {
    const double ca = static_cast<double>(sym_count_[First(key)]);
    const double cb = static_cast<double>(sym_count_[Second(key)]);
    const double c = static_cast<double>(count);
    if (o_.score == WordPieceScore::kLikelihoodRatio) return c / (ca * cb);
    return c * std::log(c * static_cast<double>(total_) / (ca * cb));
  }

  void Push(uint64_t key) {
    auto it = pair_count_.find(key);
    if (it == pair_count_.end() || it->second < o_.min_frequency) return;
    heap_.push(Candidate{Score(key, it->second), it->second, key});
  }

  void RebuildHeap() {
    std::vector<Candidate> all;
    all.reserve(pair_count_.size());
    for (auto it = pair_count_.begin(); it != pair_count_.end();) {
      if (it->second <= 0) {
        pair_words_.erase(it->first);
        it = pair_count_.erase(it);
        continue;
      }
      if (it->second >= o_.min_frequency) {
        all.push_back(Candidate{Score(it->first, it->second), it->second, it->first});
      }
      ++it;
    }
    heap_ = std::priority_queue<Candidate>(std::less<Candidate>(), std::move(all));
  }

  // Pops the best live pair, merges it everywhere; returns the merged symbol
  // id or -1 when nothing is left.
  int32_t MergeBest() {
    Candidate best{};
    bool found = false;
    while (!heap_.empty()) {
      Candidate c = heap_.top();
      heap_.pop();
      auto it = pair_count_.find(c.key);
      if (it == pair_count_.end() || it->second < o_.min_frequency) continue;
      const double score = Score(c.key, it->second);
      if (score != c.score || it->second != c.count) {  // stale entry: re-score
        heap_.push(Candidate{score, it->second, c.key});
        continue;
      }
      best = c;
      found = true;
      break;
    }
    if (!found) return -1;
    const int32_t a = First(best.key), b = Second(best.key);
    std::string merged = sym_str_[a];
    merged.append(sym_str_[b], sym_cont_[b] ? o_.tokenizer.continuing_prefix.size() : 0);
    int32_t m;
    if (auto it = sym_id_.find(merged); it != sym_id_.end()) {
      m = it->second;
    } else {
      m = static_cast<int32_t>(sym_str_.size());
      sym_id_.emplace(merged, m);
      sym_str_.push_back(std::move(merged));
      sym_cont_.push_back(sym_cont_[a]);
      sym_count_.push_back(0);
      partners_.emplace_back();
    }
    ++merge_index_;
    touched_.clear();
    std::vector<int32_t> words = std::move(pair_words_[best.key]);
    pair_words_.erase(best.key);
    for (int32_t wi : words) {
      if (seen_[wi] == merge_index_) continue;
      seen_[wi] = merge_index_;
      Word& w = words_[wi];
      std::vector<int32_t>& s = w.syms;
      for (size_t i = 0; i + 1 < s.size(); ++i) {
        if (s[i] != a || s[i + 1] != b) continue;
        if (i > 0) {
          RemovePair(s[i - 1], a, w.freq);
          AddPair(s[i - 1], m, w.freq, wi);
        }
        if (i + 2 < s.size()) {
          RemovePair(b, s[i + 2], w.freq);
          AddPair(m, s[i + 2], w.freq, wi);
        }
        RemovePair(a, b, w.freq);
        sym_count_[a] -= w.freq;
        sym_count_[b] -= w.freq;
        sym_count_[m] += w.freq;
        total_ -= w.freq;
        s[i] = m;
        s.erase(s.begin() + static_cast<std::ptrdiff_t>(i) + 1);
      }
    }
    // Scores change for every pair whose count changed and for every pair of
    // a, b (their symbol counts fell): re-push them.
    std::vector<uint64_t> repush = std::move(touched_);
    touched_.clear();
    for (int32_t sym : {a, b}) {
      std::vector<uint64_t>& list = partners_[sym];
      size_t keep = 0;
      for (uint64_t key : list) {
        auto it = pair_count_.find(key);
        if (it == pair_count_.end() || it->second <= 0) continue;  // dead pair: drop
        list[keep++] = key;
        repush.push_back(key);
      }
      list.resize(keep);
    }
    std::sort(repush.begin(), repush.end());
    repush.erase(std::unique(repush.begin(), repush.end()), repush.end());
    for (uint64_t key : repush) Push(key);
    // Keep memory bounded: stale entries accumulate; rebuild when they dominate.
    if (heap_.size() > 4 * pair_count_.size() + (1u << 20)) RebuildHeap();
    return m;
  }

  const WordPieceTrainOptions& o_;
  const ProgressOptions* po_;
  std::unordered_map<std::string, int64_t, StringHash, std::equal_to<>> word_counts_;
  std::vector<std::string> sym_str_;
  std::vector<bool> sym_cont_;
  std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>> sym_id_;
  std::vector<int64_t> sym_count_;
  std::vector<Word> words_;
  std::unordered_map<uint64_t, int64_t> pair_count_;
  std::unordered_map<uint64_t, std::vector<int32_t>> pair_words_;
  std::vector<std::vector<uint64_t>> partners_;
  std::vector<uint64_t> touched_;
  std::vector<int64_t> seen_;
  int64_t merge_index_ = 0;
  int64_t total_ = 0;  // N: symbols in the current segmentation of all words
  std::priority_queue<Candidate> heap_;
};

}  // namespace

std::vector<std::string> TrainWordPieceVocab(const std::vector<std::string>& texts,
                                             const WordPieceTrainOptions& options,
                                             const ProgressOptions* progress_options) {
  Trainer trainer(options, progress_options);
  return trainer.Run(texts);
}

}  // namespace souk::lm
