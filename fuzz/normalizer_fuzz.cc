// libFuzzer target for the text pipeline: Normalizer + Analyzer on arbitrary
// bytes. Traps when the output is not valid UTF-8, when Normalize is not
// idempotent, or when offsets leave the input.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "text/analyzer.h"
#include "text/normalizer.h"
#include "text/quantity.h"
#include "text/utf8.h"

namespace {

struct Pipeline {
  std::unique_ptr<souk::text::Analyzer> analyzer;
};

const Pipeline& GetPipeline() {
  static const Pipeline* pipeline = [] {
    auto* p = new Pipeline;
    auto analyzer = souk::text::Analyzer::Create();
    if (!analyzer.ok()) __builtin_trap();  // the environment lacks ICU/OpenCC data
    p->analyzer = std::move(analyzer).value();
    return p;
  }();
  return *pipeline;
}

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Pipeline& p = GetPipeline();
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const souk::text::Normalizer& normalizer = p.analyzer->normalizer();

  const souk::text::NormalizedText nt = normalizer.NormalizeWithOffsets(input);
  Check(souk::IsValidUtf8(nt.text));
  Check(nt.source_begin.size() == nt.text.size() && nt.source_end.size() == nt.text.size());
  for (size_t k = 0; k < nt.text.size(); ++k) {
    Check(nt.source_begin[k] <= nt.source_end[k] && nt.source_end[k] <= size);
  }
  const std::string again = normalizer.Normalize(nt.text);
  Check(again == nt.text);

  for (const souk::text::Quantity& q : souk::text::ExtractQuantities(nt.text)) {
    Check(q.begin < q.end && q.end <= nt.text.size());
  }

  uint32_t last_begin = 0;
  for (const souk::text::AnalyzedToken& t : p.analyzer->Analyze(input)) {
    Check(t.begin <= t.end && t.end <= size);
    Check(t.begin >= last_begin);
    last_begin = t.begin;
    Check(!t.term.empty() && souk::IsValidUtf8(t.term));
    Check(souk::IsValidUtf8(t.original));
  }
  return 0;
}
