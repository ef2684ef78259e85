#!/usr/bin/python3
"""The lexical peers of EVAL.md protocol A, measured side by side with Souk.

Xapian BM25 OR-query over the Home Depot titles (English stemmer, Xapian's own
TermGenerator/QueryParser), and SQLite FTS5 bm25() with tokenize='porter
unicode61'. Prints full-corpus NDCG@10 / Recall@100 over the judgments and the
single-thread latency (p50, p99, QPS) after one warm-up pass, as JSON.

usage: xapian_peer.py PRODUCTS.csv JUDGMENTS.csv [--max-queries N] [--engine xapian|fts5|both]
"""
import argparse, csv, json, math, os, sqlite3, sys, tempfile, time

def gain(r):
    return 2 ** (r - 1) - 1

def metrics(rankings, judged):
    nd, nn, rc, nr = 0.0, 0, 0.0, 0
    for q, ranked in rankings.items():
        j = judged[q]
        ideal = sorted((gain(r) for r in j.values()), reverse=True)[:10]
        idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
        if idcg > 0:
            dcg = sum(gain(j[d]) / math.log2(i + 2) for i, d in enumerate(ranked[:10]) if d in j)
            nd += dcg / idcg; nn += 1
        rel = {d for d, r in j.items() if r >= 2.33}
        if rel:
            rc += len(rel & set(ranked[:100])) / len(rel); nr += 1
    return {"full_ndcg@10": nd / max(nn, 1), "full_recall@100": rc / max(nr, 1),
            "n_queries_ndcg": nn, "n_queries_recall": nr}

def timed(queries, fn):
    for q in queries: fn(q)  # warm-up
    lat, out = [], {}
    t0 = time.perf_counter()
    for q in queries:
        s = time.perf_counter(); out[q] = fn(q); lat.append(time.perf_counter() - s)
    total = time.perf_counter() - t0
    lat.sort()
    pct = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] * 1e3
    return out, {"p50_ms": pct(0.5), "p99_ms": pct(0.99), "qps": len(queries) / total}

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("products"); ap.add_argument("judgments")
    ap.add_argument("--max-queries", type=int, default=0)
    ap.add_argument("--engine", default="both")
    a = ap.parse_args()
    titles = [(r["product_uid"], r["title"]) for r in csv.DictReader(open(a.products, encoding="utf-8"))]
    judged = {}
    for r in csv.DictReader(open(a.judgments, encoding="utf-8")):
        judged.setdefault(r["query"], {})[r["product_uid"]] = float(r["relevance"])
    queries = list(judged)
    if a.max_queries: queries = queries[: a.max_queries]
    judged = {q: judged[q] for q in queries}
    result = {}
    if a.engine in ("xapian", "both"):
        import xapian
        db = xapian.WritableDatabase("", xapian.DB_BACKEND_INMEMORY)
        tg = xapian.TermGenerator(); tg.set_stemmer(xapian.Stem("english"))
        for uid, t in titles:
            doc = xapian.Document(); tg.set_document(doc); tg.index_text(t); doc.set_data(uid)
            db.add_document(doc)
        qp = xapian.QueryParser(); qp.set_stemmer(xapian.Stem("english"))
        qp.set_stemming_strategy(xapian.QueryParser.STEM_SOME); qp.set_database(db)
        qp.set_default_op(xapian.Query.OP_OR)
        enq = xapian.Enquire(db); enq.set_weighting_scheme(xapian.BM25Weight())
        def search(q):
            enq.set_query(qp.parse_query(q, 0))
            return [m.document.get_data().decode() for m in enq.get_mset(0, 100)]
        ranked, lat = timed(queries, search)
        result["xapian_bm25"] = {**metrics(ranked, judged), **lat}
    if a.engine in ("fts5", "both"):
        path = os.path.join(tempfile.mkdtemp(), "fts.db")
        con = sqlite3.connect(path)
        con.execute("CREATE VIRTUAL TABLE t USING fts5(uid UNINDEXED, title, tokenize='porter unicode61')")
        con.executemany("INSERT INTO t VALUES (?, ?)", titles); con.commit()
        def search(q):
            words = ['"' + w.replace('"', '""') + '"' for w in q.split() if w.strip()]
            if not words: return []
            rows = con.execute("SELECT uid FROM t WHERE t MATCH ? ORDER BY bm25(t) LIMIT 100",
                               (" OR ".join(words),)).fetchall()
            return [r[0] for r in rows]
        ranked, lat = timed(queries, search)
        result["sqlite_fts5_bm25"] = {**metrics(ranked, judged), **lat}
    print(json.dumps(result))

if __name__ == "__main__":
    main()
