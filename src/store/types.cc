#include "store/types.h"

#include <cctype>
#include <cstring>

namespace souk::store {
namespace {

constexpr uint64_t kFnvOffset = 1469598103934665603ULL;
constexpr uint64_t kFnvPrime = 1099511628211ULL;

void Mix(uint64_t& h, std::string_view s) {
  for (unsigned char c : s) {
    h ^= c;
    h *= kFnvPrime;
  }
  h ^= 0xff;  // field separator so ("ab","c") != ("a","bc")
  h *= kFnvPrime;
}

void Mix(uint64_t& h, const std::optional<double>& v) {
  if (!v) {
    Mix(h, std::string_view("\x01null", 5));
    return;
  }
  double d = *v;
  if (d == 0) d = 0;  // -0 == 0
  char buf[sizeof(double)];
  std::memcpy(buf, &d, sizeof d);
  Mix(h, std::string_view(buf, sizeof buf));
}

}  // namespace

std::string_view EventTypeName(EventType t) {
  switch (t) {
    case EventType::kImpression: return "impression";
    case EventType::kView: return "view";
    case EventType::kClick: return "click";
    case EventType::kAddToCart: return "add_to_cart";
    case EventType::kRemoveFromCart: return "remove_from_cart";
    case EventType::kPurchase: return "purchase";
    case EventType::kRating: return "rating";
    case EventType::kSearch: return "search";
    case EventType::kReturn: return "return";
  }
  return "unknown";
}

std::optional<EventType> ParseEventType(std::string_view s) {
  std::string l;
  l.reserve(s.size());
  for (char c : s) l.push_back(c == '-' || c == ' ' ? '_' : static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (l == "impression") return EventType::kImpression;
  if (l == "view" || l == "detail_page_view" || l == "page_view") return EventType::kView;
  if (l == "click") return EventType::kClick;
  if (l == "add_to_cart" || l == "cart" || l == "addtocart") return EventType::kAddToCart;
  if (l == "remove_from_cart" || l == "remove_from_carts" || l == "removefromcart") return EventType::kRemoveFromCart;
  if (l == "purchase" || l == "transaction" || l == "buy") return EventType::kPurchase;
  if (l == "rating" || l == "rate") return EventType::kRating;
  if (l == "search") return EventType::kSearch;
  if (l == "return" || l == "cancel" || l == "refund") return EventType::kReturn;
  return std::nullopt;
}

uint64_t Item::ContentHash() const {
  uint64_t h = kFnvOffset;
  for (auto* s : {&external_id, &title, &description, &brand, &category, &currency,
                  &attributes_json, &images_json, &language}) {
    Mix(h, *s);
  }
  Mix(h, price);
  Mix(h, in_stock ? std::optional<double>(*in_stock ? 1.0 : 0.0) : std::nullopt);
  Mix(h, std::optional<double>(is_stub ? 1.0 : 0.0));
  return h;
}

uint64_t Event::ContentHash() const {
  uint64_t h = kFnvOffset;
  for (auto* s : {&user_id, &session_id, &item_id, &query, &context_json}) Mix(h, *s);
  Mix(h, std::optional<double>(static_cast<double>(type)));
  Mix(h, value);
  Mix(h, quantity);
  Mix(h, price);
  Mix(h, std::optional<double>(static_cast<double>(timestamp_ms)));
  return h;
}

}  // namespace souk::store
