#!/usr/bin/env python3
"""Writes docs/openapi.json, the OpenAPI 3.1 description of the HTTP API.

The server compiles that file in and serves it; tests/server_test.cc checks that
the served routes and this document agree and sends each x-souk-example.
Run after changing a route: python3 scripts/gen_openapi.py
"""
import json, collections, os
O = collections.OrderedDict
def obj(req, props, extra=True):
    d = {"type": "object", "required": req, "properties": props}
    if not extra: d["additionalProperties"] = False
    return d
S = {"type": "string"}; I = {"type": "integer"}; N = {"type": "number"}; B = {"type": "boolean"}
A = lambda it: {"type": "array", "items": it}
NS = {"type": ["string", "null"]}; NN = {"type": ["number", "null"]}; NI = {"type": ["integer", "null"]}
ref = lambda n: {"$ref": "#/components/schemas/" + n}
schemas = O()
schemas["Error"] = obj(["error"], {"error": obj(["code", "message"], {"code": S, "message": S, "field": S, "request_id": S})})
schemas["Health"] = obj(["status", "ready", "checks"], {"status": S, "ready": B, "checks": {"type": "object"}, "uptime_s": N})
schemas["Item"] = obj(["id", "title", "category", "price", "in_stock", "attributes", "images"],
    {"id": S, "title": S, "description": S, "brand": S, "category": S, "price": NN, "currency": S,
     "in_stock": {"type": ["boolean", "null"]}, "attributes": {"type": "object"}, "images": A(S), "language": S,
     "stub": B, "deleted": B, "created_at": I, "updated_at": I})
schemas["ItemInput"] = obj(["id"], {"id": S, "title": S, "description": S, "brand": S,
     "category": {"oneOf": [S, A(S)]}, "price": N, "currency": S, "attributes": {"type": "object"},
     "images": A(S), "in_stock": B, "language": S, "created_at": {"oneOf": [I, S]}, "updated_at": {"oneOf": [I, S]}}, extra=False)
schemas["ItemList"] = obj(["items", "offset", "limit", "next_offset"], {"items": A(ref("Item")), "offset": I, "limit": I, "next_offset": NI})
schemas["UpsertResult"] = obj(["received", "inserted", "updated", "unchanged"], {"received": I, "inserted": I, "updated": I, "unchanged": I, "searchable_after": S})
schemas["Deleted"] = obj(["deleted"], {"deleted": S})
schemas["EventInput"] = obj(["type"], {"type": {"type": "string", "enum": ["impression", "view", "click", "add_to_cart", "remove_from_cart", "purchase", "rating", "search", "return"]},
     "user": S, "session": S, "item": S, "query": S, "value": N, "quantity": N, "price": N,
     "timestamp": {"oneOf": [I, S]}, "context": {"type": "object"}, "event_id": S}, extra=False)
schemas["IngestResult"] = obj(["received", "appended", "duplicates", "sessions"], {"received": I, "appended": I, "duplicates": I, "stubs_created": I, "sessions": A(S)})
schemas["SearchHit"] = obj(["id", "title", "score"], {"id": S, "title": S, "score": N})
schemas["SearchResponse"] = obj(["total", "hits", "request_id"], {"total": I, "hits": A(ref("SearchHit")), "facets": {"type": "object"},
     "parsed": {"type": "object"}, "took_ms": N, "ranker": S, "pipeline": S, "encoder": S, "offset": I, "limit": I, "next_offset": NI,
     "experiment": obj(["name", "variant"], {"name": S, "variant": S}), "request_id": S})
schemas["SearchBody"] = obj([], {"query": S, "filters": A(S), "facets": A(S), "sort": S, "limit": I, "offset": I, "user": S, "explain": B, "pipeline": S}, extra=False)
schemas["Completions"] = obj(["prefix", "completions"], {"prefix": S, "completions": A(obj(["text", "score", "source"], {"text": S, "score": N, "source": S}))})
schemas["RecItem"] = obj(["id", "title", "score", "reason"], {"id": S, "title": S, "score": N, "reason": S, "reasons": A(S), "sources": {"type": "array"}, "explain": {"type": "object"}})
schemas["Recommendations"] = obj(["scenario", "items", "notes", "model", "request_id"], {"scenario": S, "pipeline": S, "cold_start": B, "ranked": B,
     "candidates": I, "items": A(ref("RecItem")), "notes": A(S), "model": S, "intent": NN, "intent_level": S,
     "experiment": obj(["name", "variant"], {"name": S, "variant": S}), "request_id": S})
schemas["Intent"] = obj(["session_intent", "items", "notes"], {"user": S, "session": S, "events": I, "model": S,
     "session_intent": obj(["probability", "level", "drivers"], {"probability": N, "level": S, "drivers": {"type": "array"}}),
     "items": A(obj(["item", "probability"], {"item": S, "probability": N})), "customer_intent": {"type": ["object", "null"]},
     "notes": A(S), "request_id": S})
schemas["SessionState"] = obj(["session", "open", "events", "counters"], {"session": S, "open": B, "events": {"type": "array"}, "counters": {"type": "object"}})
schemas["SearchExplanation"] = obj(["query", "item", "rank", "total"], {"query": S, "item": S, "rank": NI, "total": I, "hit": {"type": "object"}, "understanding": {"type": "object"}, "note": S})
schemas["Forgotten"] = obj(["user_hash", "events_removed", "sessions_removed", "note"], {"user_hash": S, "events_removed": I, "sessions_removed": I, "note": S})
schemas["Variant"] = obj(["name", "share"], {"name": S, "share": N, "config": {"type": "object"}})
schemas["Experiment"] = obj(["name", "surface", "variants", "status"], {"name": S, "description": S, "surface": S, "variants": A(ref("Variant")), "control": S, "status": S, "created_ms": I, "stopped_ms": I})
schemas["ExperimentInput"] = obj(["name", "variants"], {"name": S, "description": S, "surface": S, "variants": A(ref("Variant")), "control": S})
schemas["ExperimentList"] = obj(["experiments"], {"experiments": A(ref("Experiment"))})
schemas["ExperimentResults"] = obj(["experiment", "srm", "variants"], {"experiment": {"type": "object"}, "confidence": N, "computed_ms": I,
     "srm": obj(["p_value", "mismatch"], {"chi2": N, "p_value": N, "mismatch": B}),
     "variants": A(obj(["name", "users", "conversion_rate"], {"name": S, "users": I, "conversion_rate": {"type": "object"}}))})
schemas["Job"] = obj(["id", "kind", "state"], {"id": I, "kind": S, "state": {"type": "string", "enum": ["queued", "running", "succeeded", "failed", "cancelled"]},
     "trigger": S, "queued_ms": I, "started_ms": I, "finished_ms": I, "progress": N, "message": S, "result": {}})
schemas["JobsAccepted"] = obj(["jobs"], {"jobs": A(obj(["id", "kind"], {"id": I, "kind": S}))})
schemas["JobList"] = obj(["jobs"], {"jobs": A(ref("Job"))})
schemas["TrainBody"] = obj([], {"kinds": A({"type": "string", "enum": ["index", "ranker", "recommender", "intent", "all"]})}, extra=False)
schemas["Status"] = obj(["status", "ready", "store", "models", "engines", "sessions"], {"status": S, "ready": B, "checks": {"type": "object"},
     "store": obj(["items", "users", "events"], {"items": I, "users": I, "events": I}), "models": {"type": "object"}, "engines": {"type": "object"},
     "sessions": {"type": "object"}, "jobs": {}, "privacy": {"type": "object"}, "keys": I})
schemas["Reloaded"] = obj(["reloaded", "generation"], {"reloaded": B, "generation": I})
schemas["Models"] = obj(["models"], {"models": {"type": "object"}})
schemas["ModelActive"] = obj(["kind", "active"], {"kind": S, "active": S})
schemas["Quality"] = {"type": "object"}
schemas["Quarantine"] = obj(["total", "reasons", "rows", "offset", "limit", "next_offset"], {"total": I, "reasons": {"type": "object"},
     "rows": A(obj(["source", "line", "reason", "detail", "raw"], {"source": S, "line": I, "byte_offset": I, "reason": S, "detail": S, "raw": S})),
     "offset": I, "limit": I, "next_offset": NI})
schemas["ReportList"] = obj(["reports"], {"reports": A(obj(["name", "task", "protocol", "created_ms", "bytes"],
     {"name": S, "task": S, "protocol": S, "dataset": S, "created_ms": I, "bytes": I, "seconds": N, "metrics": {"type": "object"}}))})
schemas["Report"] = obj(["task", "protocol"], {"task": S, "protocol": S, "dataset": S, "metrics": {"type": "object"},
     "ablations": {"type": "object"}, "extra": {"type": "object"}, "seconds": N})
schemas["UserList"] = obj(["users", "sort", "offset", "limit", "next_offset"], {"users": A(obj(["id", "events", "last_event_ms"], {"id": S, "events": I, "last_event_ms": I})),
     "sort": S, "offset": I, "limit": I, "next_offset": NI, "note": S})
schemas["UserEvents"] = obj(["user", "events"], {"user": S, "events": A(obj(["type", "timestamp_ms", "session"],
     {"type": S, "timestamp_ms": I, "session": S, "item": S, "title": S, "category": S, "brand": S, "price": N, "deleted": B,
      "query": S, "value": N, "quantity": N}))})

def resp(code, schema_name, desc="OK", text=False):
    if text:
        return {str(code): {"description": desc, "content": {"text/plain": {"schema": S}}}}
    return {str(code): {"description": desc, "content": {"application/json": {"schema": ref(schema_name)}}}}
ERR = {"default": {"description": "error", "content": {"application/json": {"schema": ref("Error")}}}}
def qp(name, desc, schema=S, required=False):
    return {"name": name, "in": "query", "required": required, "description": desc, "schema": schema}
def pp(name, desc):
    return {"name": name, "in": "path", "required": True, "description": desc, "schema": S}

paths = O()
order = [0]
def op(path, method, scope, summary, responses, params=None, body=None, example=None, tag=None):
    order[0] += 1
    o = {"summary": summary, "operationId": (method + path).replace("/", "_").replace("{", "").replace("}", "").replace(".", "_"),
         "responses": {**responses, **ERR}, "x-souk-order": order[0]}
    if tag: o["tags"] = [tag]
    o["security"] = [] if scope is None else [{"bearer": []}]
    o["x-souk-scope"] = scope
    if params: o["parameters"] = params
    if body: o["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    if example is not None: o["x-souk-example"] = example
    paths.setdefault(path, O())[method.lower()] = o

op("/healthz", "GET", None, "Liveness and readiness (no key needed).", {**resp(200, "Health"), **resp(503, "Health", "not ready")}, example={"status": 200}, tag="ops")
op("/metrics", "GET", "admin", "Prometheus metrics (text exposition format 0.0.4).", resp(200, None, text=True), example={"status": 200}, tag="ops")
op("/v1/openapi.json", "GET", "search", "This document.", {"200": {"description": "OpenAPI 3 document", "content": {"application/json": {"schema": {"type": "object"}}}}}, example={"status": 200}, tag="ops")
op("/v1/items", "POST", "ingest", "Batch upsert of items (all or nothing; at most 1000 per request).", resp(200, "UpsertResult"),
   body=obj(["items"], {"items": A(ref("ItemInput"))}, extra=False),
   example={"status": 200, "body": {"items": [{"id": "api-item-1", "title": "Cordless drill 18V", "brand": "Acme", "category": ["Tools", "Drills"], "price": 89.5, "in_stock": True}]}}, tag="items")
op("/v1/items", "GET", "search", "Items, paginated by offset.", resp(200, "ItemList"),
   params=[qp("limit", "page size (1..1000, default 50)", I), qp("offset", "items to skip", I)], example={"status": 200, "query": {"limit": "2"}}, tag="items")
op("/v1/items/{id}", "GET", "search", "One item.", resp(200, "Item"), params=[pp("id", "the item id")], example={"status": 200, "path": {"id": "api-item-1"}}, tag="items")
op("/v1/events", "POST", "ingest", "Batch ingest of behavior events (at most 10,000; durable when answered). "
   "Send an Idempotency-Key header or an event_id per event so a retried batch is not stored twice.",
   resp(200, "IngestResult"), body=obj(["events"], {"events": A(ref("EventInput"))}, extra=False),
   params=[{"name": "Idempotency-Key", "in": "header", "required": False, "description": "makes retries of this batch idempotent", "schema": S}],
   example={"status": 200, "body": {"events": [{"type": "view", "user": "api-user-1", "session": "api-s1", "item": "api-item-1"},
                                               {"type": "add_to_cart", "user": "api-user-1", "session": "api-s1", "item": "api-item-1", "price": 89.5, "quantity": 1}]}}, tag="events")
op("/v1/search", "GET", "search", "Search with query understanding, filters, facets and learning-to-rank.", resp(200, "SearchResponse"),
   params=[qp("q", "the query"), qp("filter", "brand=X, category=X, price=10..50, in_stock=true, attr=value (repeatable)"),
           qp("facet", "brand, category, price, in_stock or an attribute (repeatable)"), qp("sort", "relevance, price_asc, price_desc, popularity"),
           qp("limit", "hits (1..1000, default 20)", I), qp("offset", "hits to skip", I), qp("user", "personalize for this user"),
           qp("explain", "score components per hit", B),
           qp("pipeline", "full (default), bm25, bm25+qu, dense, hybrid or hybrid+ltr: switch stages off to compare")],
   example={"status": 200, "query": {"q": "drill", "limit": "5", "facet": "brand"}}, tag="search")
op("/v1/search", "POST", "search", "Search with a JSON body (same fields as the query string).", resp(200, "SearchResponse"),
   body=ref("SearchBody"), example={"status": 200, "body": {"query": "drill", "limit": 3, "explain": True}}, tag="search")
op("/v1/autocomplete", "GET", "search", "Completions of a prefix (titles, brands, categories, past queries).", resp(200, "Completions"),
   params=[qp("q", "the prefix", S, True), qp("limit", "completions (1..50, default 8)", I)], example={"status": 200, "query": {"q": "dri"}}, tag="search")
op("/v1/recommendations/{scenario}", "GET", "search", "Recommendations: home, similar, fbt, next, buy-again, trending.", resp(200, "Recommendations"),
   params=[pp("scenario", "home, similar, fbt, next, buy-again or trending"), qp("user", "the shopper"), qp("session", "a live session id"),
           qp("item", "context item (product page or cart; repeatable)"), qp("category", "category path prefix"), qp("n", "items (default 10)", I),
           qp("lang", "reasons in en or zh"), qp("explain", "features and ranker contributions", B), qp("intent_switch", "apply the intent switch (default true)", B)],
   example={"status": 200, "path": {"scenario": "trending"}, "query": {"n": "5"}}, tag="recommend")
op("/v1/intent", "GET", "search", "Purchase intent of a shopper's live session, their items and the customer.", resp(200, "Intent"),
   params=[qp("user", "the shopper"), qp("session", "a session id"), qp("lang", "drivers in en or zh"), qp("drivers", "drivers to return (0..40)", I)],
   example={"status": 200, "query": {"user": "api-user-1"}}, tag="intent")
op("/v1/sessions/{id}", "GET", "search", "Live counters of a session (from ingested events).", resp(200, "SessionState"),
   params=[pp("id", "the session key (as returned by POST /v1/events)")], example={"status": 200, "path": {"id": "api-s1"}}, tag="intent")
op("/v1/explain/search", "GET", "search", "Where and why an item ranks for a query (score components, query understanding).", resp(200, "SearchExplanation"),
   params=[qp("q", "the query"), qp("item", "the item", S, True), qp("user", "personalize for this user"), qp("filter", "filters (repeatable)")],
   example={"status": 200, "query": {"q": "drill", "item": "api-item-1"}}, tag="search")
op("/v1/experiments", "POST", "admin", "Create an A/B experiment (variants with traffic shares; deterministic assignment by user).", resp(201, "Experiment"),
   body=ref("ExperimentInput"), example={"status": 201, "body": {"name": "api-exp", "surface": "recommend",
        "variants": [{"name": "control", "share": 0.5}, {"name": "no-switch", "share": 0.5, "config": {"intent_switch": False}}]}}, tag="experiments")
op("/v1/experiments", "GET", "admin", "Experiments, newest first.", resp(200, "ExperimentList"), example={"status": 200}, tag="experiments")
op("/v1/experiments/{name}", "GET", "admin", "One experiment.", resp(200, "Experiment"), params=[pp("name", "experiment name")], example={"status": 200, "path": {"name": "api-exp"}}, tag="experiments")
op("/v1/experiments/{name}/results", "GET", "admin", "Per-variant metrics with confidence intervals, tests against control, sample-ratio check.",
   resp(200, "ExperimentResults"), params=[pp("name", "experiment name"), qp("confidence", "confidence level (default 0.95)", N)],
   example={"status": 200, "path": {"name": "api-exp"}}, tag="experiments")
op("/v1/experiments/{name}/stop", "POST", "admin", "Stop an experiment (assignment ends; results stay).", resp(200, "Experiment"),
   params=[pp("name", "experiment name")], example={"status": 200, "path": {"name": "api-exp"}}, tag="experiments")
op("/v1/admin/status", "GET", "admin", "Store counts, engines, active models, sessions, jobs.", resp(200, "Status"), example={"status": 200}, tag="admin")
op("/v1/admin/models", "GET", "admin", "Model versions of each kind with manifests' metrics.", resp(200, "Models"), example={"status": 200}, tag="admin")
op("/v1/admin/models/{kind}/activate", "POST", "admin", "Activate a version and hot-swap it in.", resp(200, "ModelActive"),
   params=[pp("kind", "recommender, intent, ltr, bert")], body=obj(["version"], {"version": S}, extra=False),
   example={"status": 404, "path": {"kind": "recommender"}, "body": {"version": "no-such-version"}}, tag="admin")
op("/v1/admin/models/{kind}/rollback", "POST", "admin", "Back to the previously active version (hot swap).", resp(200, "ModelActive"),
   params=[pp("kind", "recommender, intent, ltr, bert")], example={"status": 404, "path": {"kind": "no-such-kind"}}, tag="admin")
op("/v1/admin/reload", "POST", "admin", "Reload the engines from the data directory (hot swap).", resp(200, "Reloaded"), example={"status": 200}, tag="admin")
op("/v1/admin/quality", "GET", "admin", "The data-quality report (cached; refresh=true recomputes).", resp(200, "Quality"),
   params=[qp("refresh", "recompute now", B)], example={"status": 200}, tag="admin")
op("/v1/admin/train", "POST", "admin", "Train in the background (index, ranker, recommender, intent or all), then hot-swap.", resp(202, "JobsAccepted"),
   body=ref("TrainBody"), example={"status": 202, "body": {"kinds": ["intent"]}}, tag="admin")
op("/v1/admin/jobs", "GET", "admin", "Background jobs, newest first.", resp(200, "JobList"), example={"status": 200}, tag="admin")
op("/v1/admin/jobs/{id}", "GET", "admin", "One background job.", resp(200, "Job"), params=[pp("id", "job id")], example={"status": 200, "path": {"id": "1"}}, tag="admin")
op("/v1/items/{id}", "DELETE", "ingest", "Delete an item (gone from search and recommendations).", resp(200, "Deleted"),
   params=[pp("id", "the item id")], example={"status": 200, "path": {"id": "api-item-1"}}, tag="items")
op("/v1/users", "GET", "admin", "Shoppers with their event counts, by id or most active first.", resp(200, "UserList"),
   params=[qp("prefix", "ids starting with this"), qp("sort", "id (default) or events"), qp("limit", "page size (1..1000, default 20)", I), qp("offset", "users to skip", I)],
   example={"status": 200, "query": {"prefix": "api-user", "sort": "events"}}, tag="privacy")
op("/v1/users/{id}/events", "GET", "admin", "A shopper's latest events, oldest first, with item titles.", resp(200, "UserEvents"),
   params=[pp("id", "the user id"), qp("limit", "events (1..1000, default 100)", I), qp("session", "only this session")],
   example={"status": 200, "path": {"id": "api-user-1"}}, tag="privacy")
op("/v1/admin/quarantine", "GET", "admin", "Quarantined input records with their reasons, paginated.", resp(200, "Quarantine"),
   params=[qp("limit", "rows (1..1000, default 50)", I), qp("offset", "rows to skip", I), qp("reason", "only this reason code")], example={"status": 200}, tag="admin")
op("/v1/admin/reports", "GET", "admin", "Saved evaluation reports (souk eval), newest first.", resp(200, "ReportList"),
   params=[qp("task", "search, rec, intent or ner"), qp("protocol", "protocol name")], example={"status": 200}, tag="admin")
op("/v1/admin/reports/{name}", "GET", "admin", "One saved evaluation report, as souk eval --json printed it.", resp(200, "Report"),
   params=[pp("name", "file name, eval-<protocol>-<time>.json")], example={"status": 404, "path": {"name": "eval-none-20000101T000000Z.json"}}, tag="admin")
op("/v1/users/{id}", "DELETE", "admin", "Forget a user: events, profile, sessions, experiment logs (audited; models forget at their next training).",
   resp(200, "Forgotten"), params=[pp("id", "the user id")], example={"status": 200, "path": {"id": "api-user-1"}}, tag="privacy")

doc = O()
doc["openapi"] = "3.1.0"
doc["info"] = {"title": "Souk HTTP API", "version": "1.0.0",
   "description": "Search, recommendations, purchase intent, ingestion, experiments and administration of one Souk data directory. "
                  "Every route but /healthz needs 'Authorization: Bearer KEY' (souk keys create --scope admin|ingest|search). "
                  "Errors are {\"error\": {\"code\", \"message\", \"field\", \"request_id\"}}. "
                  "x-souk-scope names the key scope a route needs (admin keys may call everything); x-souk-example is the request the "
                  "conformance test (src/server/server_test.cc) sends."}
doc["servers"] = [{"url": "http://127.0.0.1:8080"}]
doc["paths"] = paths
doc["components"] = {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}, "schemas": schemas}
open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs", "openapi.json"), "w").write(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
print(sum(len(v) for v in paths.values()), "operations")
