#include "recommend/store_data.h"

#include <fmt/format.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unordered_map>

#include "common/file.h"

namespace souk::recommend {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr int kDataFormatVersion = 1;
constexpr char kMagic[8] = {'S', 'O', 'U', 'K', 'I', 'N', 'T', '1'};
constexpr size_t kRecordBytes = 4 + 4 + 1 + 8 + 4 + 4 + 4;
constexpr size_t kMaxDescriptionChars = 1000;

ItemInfo InfoOfImpl(const store::Item& it) {
  ItemInfo info;
  info.external_id = it.external_id;
  info.title = it.title;
  info.brand = it.brand;
  info.category = it.category;
  info.price = it.price;
  info.in_stock = it.in_stock.value_or(true);
  info.created_at_ms = it.created_at_ms;
  std::string text = it.title;
  for (const std::string* part : {&it.brand, &it.category}) {
    if (!part->empty()) text += (text.empty() ? "" : " ") + *part;
  }
  if (!it.description.empty()) {
    std::string d = it.description.substr(0, kMaxDescriptionChars);
    // Do not cut a UTF-8 sequence in half.
    while (!d.empty() && (static_cast<unsigned char>(d.back()) & 0xC0) == 0x80) d.pop_back();
    if (!d.empty() && (static_cast<unsigned char>(d.back()) & 0x80)) d.pop_back();
    text += (text.empty() ? "" : " ") + d;
  }
  info.text = std::move(text);
  return info;
}

template <typename T>
void Put(std::string* out, T v) {
  char buf[sizeof(T)];
  std::memcpy(buf, &v, sizeof(T));
  out->append(buf, sizeof(T));
}

template <typename T>
T Take(const char*& p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  p += sizeof(T);
  return v;
}

}  // namespace

ItemInfo ItemInfoOf(const store::Item& item) { return InfoOfImpl(item); }

StatusOr<InteractionData> LoadInteractionData(store::Snapshot& snapshot,
                                              const StoreDataOptions& options,
                                              const ProgressOptions* progress) {
  InteractionData data;
  // Store dense item id -> our dense item (-1 = not taken); stubs wait for an event.
  std::unordered_map<int64_t, int32_t> item_of;
  std::unordered_map<int64_t, ItemInfo> stubs;
  Status st = snapshot.ForEachItem([&](const store::StoredItem& s) {
    if (s.deleted) return true;
    if (s.item.is_stub) {
      if (options.keep_stub_items_with_events) stubs.emplace(s.id, InfoOfImpl(s.item));
      return true;
    }
    item_of.emplace(s.id, data.AddItem(InfoOfImpl(s.item)));
    return true;
  });
  if (!st.ok()) return st.WithContext("reading the items");
  auto user_ids = snapshot.UserIds();
  if (!user_ids.ok()) return user_ids.status().WithContext("reading the users");
  std::vector<int32_t> user_of(user_ids->size(), -1);
  std::unordered_map<std::string, int32_t> session_user;

  std::unique_ptr<Progress> bar;
  if (progress) {
    ProgressOptions po = *progress;
    po.unit = "events";
    bar = std::make_unique<Progress>("load events", static_cast<uint64_t>(snapshot.watermark()), po);
  }
  Status add_status;
  st = snapshot.ForEachEvent([&](const store::StoredEvent& e) {
    if (bar && (e.id & 1023) == 0) bar->Set(static_cast<uint64_t>(e.id));
    if (ImplicitWeight(e.type, static_cast<float>(e.value.value_or(0))) <= 0) return true;
    if (e.item <= 0) return true;
    int32_t item = -1;
    if (auto it = item_of.find(e.item); it != item_of.end()) {
      item = it->second;
    } else if (auto s = stubs.find(e.item); s != stubs.end()) {
      item = data.AddItem(std::move(s->second));
      item_of.emplace(e.item, item);
      stubs.erase(s);
    } else {
      return true;  // deleted or unknown item
    }
    int32_t user = -1;
    if (e.user > 0 && static_cast<size_t>(e.user) < user_of.size()) {
      int32_t& u = user_of[e.user];
      if (u < 0) u = data.AddUser((*user_ids)[e.user]);
      user = u;
    } else if (!e.session.empty() && options.anonymous_sessions_as_users) {
      auto [it, fresh] = session_user.emplace(e.session, -1);
      if (fresh) it->second = data.AddUser("session:" + e.session);
      user = it->second;
    } else {
      return true;
    }
    Interaction x;
    x.user = user;
    x.item = item;
    x.type = e.type;
    x.timestamp_ms = e.timestamp_ms;
    x.session = e.session.empty() ? -1 : data.SessionIndex(e.session);
    x.quantity = static_cast<float>(e.quantity.value_or(1.0));
    if (!(x.quantity > 0)) x.quantity = 1;
    x.value = static_cast<float>(e.value.value_or(0.0));
    add_status = data.Add(x);
    return add_status.ok();
  });
  if (!st.ok()) return st.WithContext("reading the events");
  RETURN_IF_ERROR(add_status);
  if (bar) bar->Finish();
  data.Finalize();
  return data;
}

Status WriteInteractionData(const InteractionData& data, const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return UnavailableError(fmt::format("cannot create '{}': {}", dir, ec.message()));
  std::string items;
  for (const ItemInfo& i : data.items()) {
    json j = {{"id", i.external_id}, {"title", i.title},     {"brand", i.brand},
              {"category", i.category}, {"text", i.text},    {"in_stock", i.in_stock},
              {"created_at_ms", i.created_at_ms}};
    if (i.price) j["price"] = *i.price;
    items += j.dump(-1, ' ', false, json::error_handler_t::replace);
    items += '\n';
  }
  RETURN_IF_ERROR(WriteFileAtomically(fs::path(dir) / "items.jsonl", items));
  std::string users;
  for (int32_t u = 0; u < data.num_users(); ++u) {
    users += json(data.user_id(u)).dump(-1, ' ', false, json::error_handler_t::replace);
    users += '\n';
  }
  RETURN_IF_ERROR(WriteFileAtomically(fs::path(dir) / "users.jsonl", users));
  std::string bin(kMagic, sizeof(kMagic));
  Put<uint64_t>(&bin, data.interactions().size());
  bin.reserve(bin.size() + data.interactions().size() * kRecordBytes);
  for (const Interaction& x : data.interactions()) {
    Put<int32_t>(&bin, x.user);
    Put<int32_t>(&bin, x.item);
    Put<uint8_t>(&bin, static_cast<uint8_t>(x.type));
    Put<int64_t>(&bin, x.timestamp_ms);
    Put<int32_t>(&bin, x.session);
    Put<float>(&bin, x.quantity);
    Put<float>(&bin, x.value);
  }
  RETURN_IF_ERROR(WriteFileAtomically(fs::path(dir) / "interactions.bin", bin));
  json meta = {{"kind", "interaction_data"},
               {"format_version", kDataFormatVersion},
               {"items", data.num_items()},
               {"users", data.num_users()},
               {"sessions", data.num_sessions()},
               {"interactions", data.interactions().size()}};
  return WriteFileAtomically(fs::path(dir) / "data.json", meta.dump(2) + "\n");
}

StatusOr<InteractionData> ReadInteractionData(const std::string& dir) {
  const fs::path d(dir);
  ASSIGN_OR_RETURN(std::string meta_text, ReadFileToString(d / "data.json"));
  json meta = json::parse(meta_text, nullptr, false);
  if (meta.is_discarded() || !meta.is_object() || meta.value("kind", "") != "interaction_data") {
    return DataLossError(fmt::format("'{}' is not an interaction data manifest", (d / "data.json").string()));
  }
  if (meta.value("format_version", 0) != kDataFormatVersion) {
    return FailedPreconditionError(fmt::format("'{}' has format_version {}, this souk reads {}",
                                               (d / "data.json").string(),
                                               meta.value("format_version", 0), kDataFormatVersion));
  }
  InteractionData data;
  {
    std::ifstream in(d / "items.jsonl");
    if (!in) return NotFoundError(fmt::format("'{}' is missing", (d / "items.jsonl").string()));
    std::string line;
    int64_t n = 0;
    while (std::getline(in, line)) {
      ++n;
      json j = json::parse(line, nullptr, false);
      if (j.is_discarded() || !j.is_object()) {
        return DataLossError(fmt::format("{}:{}: not a JSON object", (d / "items.jsonl").string(), n));
      }
      ItemInfo i;
      i.external_id = j.value("id", "");
      i.title = j.value("title", "");
      i.brand = j.value("brand", "");
      i.category = j.value("category", "");
      i.text = j.value("text", "");
      i.in_stock = j.value("in_stock", true);
      i.created_at_ms = j.value("created_at_ms", int64_t{0});
      if (j.contains("price") && j["price"].is_number()) i.price = j["price"].get<double>();
      data.AddItem(std::move(i));
    }
  }
  {
    std::ifstream in(d / "users.jsonl");
    if (!in) return NotFoundError(fmt::format("'{}' is missing", (d / "users.jsonl").string()));
    std::string line;
    while (std::getline(in, line)) {
      json j = json::parse(line, nullptr, false);
      if (!j.is_string()) return DataLossError(fmt::format("'{}' is damaged", (d / "users.jsonl").string()));
      data.AddUser(j.get<std::string>());
    }
  }
  const int64_t sessions = meta.value("sessions", int64_t{0});
  for (int64_t s = 0; s < sessions; ++s) data.SessionIndex(fmt::format("#{}", s));
  if (data.num_items() != meta.value("items", -1) || data.num_users() != meta.value("users", -1)) {
    return DataLossError(fmt::format("'{}': item or user count differs from data.json", dir));
  }
  ASSIGN_OR_RETURN(std::string bin, ReadFileToString(d / "interactions.bin"));
  const std::string bin_path = (d / "interactions.bin").string();
  if (bin.size() < sizeof(kMagic) + 8 || std::memcmp(bin.data(), kMagic, sizeof(kMagic)) != 0) {
    return DataLossError(fmt::format("'{}' is not an interactions file", bin_path));
  }
  const char* p = bin.data() + sizeof(kMagic);
  const uint64_t count = Take<uint64_t>(p);
  if (bin.size() != sizeof(kMagic) + 8 + count * kRecordBytes) {
    return DataLossError(fmt::format("'{}' is truncated ({} bytes for {} interactions)", bin_path,
                                     bin.size(), count));
  }
  for (uint64_t k = 0; k < count; ++k) {
    Interaction x;
    x.user = Take<int32_t>(p);
    x.item = Take<int32_t>(p);
    x.type = static_cast<EventType>(Take<uint8_t>(p));
    x.timestamp_ms = Take<int64_t>(p);
    x.session = Take<int32_t>(p);
    x.quantity = Take<float>(p);
    x.value = Take<float>(p);
    if (Status s = data.Add(x); !s.ok()) return DataLossError(bin_path + ": " + s.message());
  }
  data.Finalize();
  return data;
}

}  // namespace souk::recommend
