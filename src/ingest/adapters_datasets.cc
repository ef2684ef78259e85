// Adapters for the public datasets in ../shared/data (see its README). Each
// maps the dataset's own columns onto items, users, events and judgments.
#include <filesystem>
#include <fmt/format.h>

#include "ingest/adapter.h"
#include "ingest/adapters_internal.h"
#include "ingest/parse.h"

namespace souk::ingest {
namespace {

std::string FileName(const std::string& p) { return std::filesystem::path(p).filename().string(); }

// Home Depot search relevance: products.csv (product_uid,title) -> items;
// judgments*.csv (query,product_uid,relevance) -> relevance judgments.
class HomeDepotAdapter final : public Adapter {
 public:
  std::string_view Name() const override { return "homedepot"; }
  std::string_view Description() const override {
    return "Home Depot: products.csv (product_uid,title) -> items; judgments*.csv (query,product_uid,relevance) -> judgments";
  }
  Status Import(const std::vector<std::string>& paths, const AdapterOptions&, Importer& sink) override {
    ASSIGN_OR_RETURN(auto files, ExpandPaths(paths));
    // Products before judgments, whatever order the paths came in.
    std::stable_sort(files.begin(), files.end(), [](const std::string& a, const std::string& b) {
      return (FileName(a).find("judg") != std::string::npos) < (FileName(b).find("judg") != std::string::npos);
    });
    for (const auto& f : files) {
      int c_id = -1, c_title = -1, c_query = -1, c_rel = -1;
      bool judgments = false;
      RETURN_IF_ERROR(ForEachCsvRecord(
          sink, f, CsvOptions{},
          [&](const CsvColumns& cols) -> Status {
            ASSIGN_OR_RETURN(c_id, cols.Require("product_uid"));
            c_query = cols.Optional("query");
            judgments = c_query >= 0;
            if (judgments) {
              ASSIGN_OR_RETURN(c_rel, cols.Require("relevance"));
            } else {
              ASSIGN_OR_RETURN(c_title, cols.Require("title"));
            }
            return OkStatus();
          },
          [&](const CsvRecord& rec) -> Status {
            if (judgments) {
              store::Judgment j;
              j.query = std::string(Field(rec, c_query));
              j.item_id = NormalizeNumericId(Field(rec, c_id));
              auto r = ParseNumber(Field(rec, c_rel));
              if (!r) return sink.Reject(RefOf(rec), "invalid_number", fmt::format("relevance '{}' is not a number", Field(rec, c_rel)));
              j.relevance = *r;
              return sink.AddJudgment(std::move(j), RefOf(rec));
            }
            store::Item it;
            it.external_id = NormalizeNumericId(Field(rec, c_id));
            it.title = std::string(Field(rec, c_title));
            it.language = "en";
            it.currency = "USD";
            return sink.AddItem(std::move(it), store::ItemWriteMode::kCatalog, RefOf(rec));
          }));
    }
    return OkStatus();
  }
};

// REES46 multi-category store events: event_time,event_type,product_id,category_id,
// category_code,brand,price,user_id,user_session. Items are merged from the rows.
class Rees46Adapter final : public Adapter {
 public:
  std::string_view Name() const override { return "rees46"; }
  std::string_view Description() const override {
    return "REES46: event CSV (view/cart/remove_from_cart/purchase) -> events; items merged from product columns";
  }
  Status Import(const std::vector<std::string>& paths, const AdapterOptions&, Importer& sink) override {
    ASSIGN_OR_RETURN(auto files, ExpandPaths(paths));
    for (const auto& f : files) {
      int c_time, c_type, c_pid, c_catid, c_cat, c_brand, c_price, c_user, c_sess;
      RETURN_IF_ERROR(ForEachCsvRecord(
          sink, f, CsvOptions{},
          [&](const CsvColumns& cols) -> Status {
            ASSIGN_OR_RETURN(c_time, cols.Require("event_time"));
            ASSIGN_OR_RETURN(c_type, cols.Require("event_type"));
            ASSIGN_OR_RETURN(c_pid, cols.Require("product_id"));
            ASSIGN_OR_RETURN(c_user, cols.Require("user_id"));
            ASSIGN_OR_RETURN(c_sess, cols.Require("user_session"));
            c_catid = cols.Optional("category_id");
            c_cat = cols.Optional("category_code");
            c_brand = cols.Optional("brand");
            c_price = cols.Optional("price");
            return OkStatus();
          },
          [&](const CsvRecord& rec) -> Status {
            Status st;
            auto ts = TimestampOrReject(sink, rec, "event_time", Field(rec, c_time), &st);
            if (!ts) return st;
            auto type = store::ParseEventType(Field(rec, c_type));
            if (!type) return sink.Reject(RefOf(rec), "unknown_event_type", fmt::format("event_type '{}' is not view, cart, remove_from_cart or purchase", Field(rec, c_type)));
            std::optional<double> price;
            if (!Field(rec, c_price).empty()) {
              price = ParseNumber(Field(rec, c_price));
              if (!price) return sink.Reject(RefOf(rec), "invalid_number", fmt::format("price '{}' is not a number", Field(rec, c_price)));
            }
            store::Item it;
            it.external_id = std::string(Field(rec, c_pid));
            std::string cat(Field(rec, c_cat));
            for (size_t p = 0; (p = cat.find('.', p)) != std::string::npos;) cat.replace(p, 1, " > ");
            it.category = cat;
            it.brand = std::string(Field(rec, c_brand));
            it.price = price;
            if (!Field(rec, c_catid).empty()) it.attributes_json = "{\"category_id\":" + JsonQuote(Field(rec, c_catid)) + "}";
            if (!it.external_id.empty()) {
              if (auto r = sink.validator().CheckItem(it); !r) {
                RETURN_IF_ERROR(sink.AddItem(std::move(it), store::ItemWriteMode::kMerge, RefOf(rec)));
              }
            }
            store::Event e;
            e.type = *type;
            e.timestamp_ms = *ts;
            e.item_id = std::string(Field(rec, c_pid));
            e.user_id = std::string(Field(rec, c_user));
            e.session_id = std::string(Field(rec, c_sess));
            e.price = price;
            if (e.type == store::EventType::kPurchase || e.type == store::EventType::kAddToCart) e.quantity = 1;
            return sink.AddEvent(std::move(e), RefOf(rec));
          }));
    }
    return OkStatus();
  }
};

// UCI Online Retail: InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,
// CustomerID,Country. Each line is a purchase (an invoice is a session); invoices
// starting with C are cancellations, imported as `return` events.
class OnlineRetailAdapter final : public Adapter {
 public:
  std::string_view Name() const override { return "online-retail"; }
  std::string_view Description() const override {
    return "UCI Online Retail: invoice lines -> purchase events (C-invoices -> return events); items merged from StockCode/Description/UnitPrice";
  }
  Status Import(const std::vector<std::string>& paths, const AdapterOptions&, Importer& sink) override {
    ASSIGN_OR_RETURN(auto files, ExpandPaths(paths));
    for (const auto& f : files) {
      int c_inv, c_code, c_desc, c_qty, c_date, c_price, c_cust, c_country;
      RETURN_IF_ERROR(ForEachCsvRecord(
          sink, f, CsvOptions{},
          [&](const CsvColumns& cols) -> Status {
            ASSIGN_OR_RETURN(c_inv, cols.Require("InvoiceNo"));
            ASSIGN_OR_RETURN(c_code, cols.Require("StockCode"));
            ASSIGN_OR_RETURN(c_qty, cols.Require("Quantity"));
            ASSIGN_OR_RETURN(c_date, cols.Require("InvoiceDate"));
            ASSIGN_OR_RETURN(c_price, cols.Require("UnitPrice"));
            ASSIGN_OR_RETURN(c_cust, cols.Require("CustomerID"));
            c_desc = cols.Optional("Description");
            c_country = cols.Optional("Country");
            return OkStatus();
          },
          [&](const CsvRecord& rec) -> Status {
            Status st;
            auto ts = TimestampOrReject(sink, rec, "InvoiceDate", Field(rec, c_date), &st);
            if (!ts) return st;
            auto qty = ParseNumber(Field(rec, c_qty));
            if (!qty) return sink.Reject(RefOf(rec), "invalid_number", fmt::format("Quantity '{}' is not a number", Field(rec, c_qty)));
            auto price = ParseNumber(Field(rec, c_price));
            if (!price) return sink.Reject(RefOf(rec), "invalid_number", fmt::format("UnitPrice '{}' is not a number", Field(rec, c_price)));
            const std::string_view inv = Field(rec, c_inv);
            const bool cancel = !inv.empty() && (inv[0] == 'C' || inv[0] == 'c');
            store::Event e;
            e.type = cancel ? store::EventType::kReturn : store::EventType::kPurchase;
            e.timestamp_ms = *ts;
            e.item_id = std::string(Trim(Field(rec, c_code)));
            e.user_id = NormalizeNumericId(Field(rec, c_cust));
            e.session_id = std::string(inv);
            e.quantity = cancel ? -*qty : *qty;
            e.price = *price;
            if (c_country >= 0 && !Field(rec, c_country).empty()) e.context_json = "{\"country\":" + JsonQuote(Field(rec, c_country)) + "}";
            // Validate the event before merging its item, so a bad line adds nothing.
            if (auto r = sink.validator().CheckEvent(e)) return sink.Reject(RefOf(rec), r->reason, r->detail);
            store::Item it;
            it.external_id = e.item_id;
            it.title = std::string(Trim(Field(rec, c_desc)));
            it.price = *price;
            it.currency = "GBP";
            it.language = "en";
            RETURN_IF_ERROR(sink.AddItem(std::move(it), store::ItemWriteMode::kMerge, RefOf(rec)));
            return sink.AddEvent(std::move(e), RefOf(rec));
          }));
    }
    return OkStatus();
  }
};

// Datasets that are not catalog or behavior data: say so and where they are used.
class NotStoreDataAdapter final : public Adapter {
 public:
  NotStoreDataAdapter(std::string name, std::string why) : name_(std::move(name)), why_(std::move(why)) {}
  std::string_view Name() const override { return name_; }
  std::string_view Description() const override { return why_; }
  Status Import(const std::vector<std::string>&, const AdapterOptions&, Importer&) override {
    return InvalidArgumentError(fmt::format("{}: {}", name_, why_));
  }

 private:
  std::string name_, why_;
};

}  // namespace

void RegisterDatasetAdapters(AdapterRegistry& r) {
  r.Register(std::make_unique<HomeDepotAdapter>());
  r.Register(std::make_unique<Rees46Adapter>());
  r.Register(std::make_unique<OnlineRetailAdapter>());
  r.Register(std::make_unique<NotStoreDataAdapter>(
      "online-shoppers",
      "holds one row of aggregated page/duration features per session, with no item, user or event "
      "ids, so it is evaluation data, not store data: use `souk eval intent --protocol "
      "online-shoppers --data FILE`"));
  r.Register(std::make_unique<NotStoreDataAdapter>(
      "cn-ecommerce-ner",
      "holds character-level BIEOS tags of titles and queries for training a brand/product tagger, "
      "not catalog or behavior records: use `souk eval ner --train FILE --dev FILE`"));
  RegisterMoreDatasetAdapters(r);
}

void RegisterBuiltinAdapters(AdapterRegistry& r) {
  RegisterGenericAdapters(r);
  RegisterDatasetAdapters(r);
}

}  // namespace souk::ingest
