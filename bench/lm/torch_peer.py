#!/usr/bin/python3
"""python3-torch eager peer of souk_encoder_bench (see bench/lm/README.md).

A plain torch.nn BERT encoder (Hugging Face tensor names, so the checkpoint's
model.safetensors loads by name) run in eager mode, float32, under
torch.inference_mode(), with torch.set_num_threads(--threads). It encodes the
pre-tokenized id lists that the C++ benchmark wrote (so tokenization is outside
the timing, as on the engine side), mean-pools over real tokens and
L2-normalizes (all-MiniLM-L6-v2's pooling), and prints one JSON object:

  {"sentences": N, "threads": T, "batch": B, "passes": [s, ...],
   "sentences_per_second": median, "latency_ms": {...} | null,
   "check": {"rows": 64, "min_cosine": ..., "agree": true} | null, ...}

Usage (run with Debian's /usr/bin/python3, which has python3-torch):
  torch_peer.py --dir MODEL_DIR --ids IDS.json --threads 2 --batch 32 --passes 3
                [--check VECTORS.json] [--latency N] [--int8]

--check: a JSON list of vectors (one per id list, in order, usually the first
64) that the engine produced; the peer compares its own vectors with them and
exits with status 3 when a cosine is below --min-cosine (0.9999), because the
comparison would then not be of the same computation.
--latency N: also encodes the first N id lists one at a time (batch 1) and
reports the median milliseconds per sentence.
--int8: also times torch.ao.quantization.quantize_dynamic(Linear -> qint8).
"""
import argparse
import json
import math
import pathlib
import statistics
import struct
import sys
import time

import numpy as np
import torch
from torch import nn


# The safetensors reader of the parity tests' reference (float64 there; the
# peer runs in float32).
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "src" / "lm" / "testdata"))
import bert_reference  # noqa: E402


def read_safetensors(path):
    """name -> float32 torch tensor (F32/F16/BF16 checkpoints)."""
    return {name: t.to(torch.float32) for name, t in bert_reference.read_safetensors(path).items()}


class Embeddings(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        h = cfg["hidden_size"]
        self.word_embeddings = nn.Embedding(cfg["vocab_size"], h)
        self.position_embeddings = nn.Embedding(cfg["max_position_embeddings"], h)
        self.token_type_embeddings = nn.Embedding(cfg.get("type_vocab_size", 2), h)
        self.LayerNorm = nn.LayerNorm(h, eps=cfg.get("layer_norm_eps", 1e-12))

    def forward(self, ids):
        seq = ids.shape[1]
        positions = torch.arange(seq, dtype=torch.long).unsqueeze(0)
        types = torch.zeros_like(ids)
        x = self.word_embeddings(ids) + self.position_embeddings(positions) + self.token_type_embeddings(types)
        return self.LayerNorm(x)


class SelfAttention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        h = cfg["hidden_size"]
        self.heads = cfg["num_attention_heads"]
        self.head_dim = h // self.heads
        self.query = nn.Linear(h, h)
        self.key = nn.Linear(h, h)
        self.value = nn.Linear(h, h)

    def split(self, t):
        b, s, _ = t.shape
        return t.view(b, s, self.heads, self.head_dim).permute(0, 2, 1, 3)

    def forward(self, x, mask_bias):
        q, k, v = self.split(self.query(x)), self.split(self.key(x)), self.split(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim) + mask_bias
        probs = torch.softmax(scores, dim=-1)
        ctx = torch.matmul(probs, v).permute(0, 2, 1, 3).contiguous()
        return ctx.view(ctx.shape[0], ctx.shape[1], -1)


class DenseNorm(nn.Module):
    def __init__(self, n_in, n_out, eps):
        super().__init__()
        self.dense = nn.Linear(n_in, n_out)
        self.LayerNorm = nn.LayerNorm(n_out, eps=eps)

    def forward(self, x, residual):
        return self.LayerNorm(self.dense(x) + residual)


class Attention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.self = SelfAttention(cfg)
        self.output = DenseNorm(cfg["hidden_size"], cfg["hidden_size"], cfg.get("layer_norm_eps", 1e-12))

    def forward(self, x, mask_bias):
        return self.output(self.self(x, mask_bias), x)


class Intermediate(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.dense = nn.Linear(cfg["hidden_size"], cfg["intermediate_size"])
        act = cfg.get("hidden_act", "gelu")
        if act == "gelu":
            self.act = nn.GELU()
        elif act in ("gelu_new", "gelu_pytorch_tanh", "gelu_fast"):
            self.act = nn.GELU(approximate="tanh")
        elif act == "relu":
            self.act = nn.ReLU()
        else:
            self.act = nn.SiLU()

    def forward(self, x):
        return self.act(self.dense(x))


class Layer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.attention = Attention(cfg)
        self.intermediate = Intermediate(cfg)
        self.output = DenseNorm(cfg["intermediate_size"], cfg["hidden_size"], cfg.get("layer_norm_eps", 1e-12))

    def forward(self, x, mask_bias):
        x = self.attention(x, mask_bias)
        return self.output(self.intermediate(x), x)


class Encoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.layer = nn.ModuleList([Layer(cfg) for _ in range(cfg["num_hidden_layers"])])


class Bert(nn.Module):
    """BertModel without the pooler; mean pooling + L2 normalization on top."""

    def __init__(self, cfg):
        super().__init__()
        self.embeddings = Embeddings(cfg)
        self.encoder = Encoder(cfg)

    def forward(self, ids, mask):
        x = self.embeddings(ids)
        mask_bias = (1.0 - mask[:, None, None, :].to(torch.float32)) * torch.finfo(torch.float32).min
        for layer in self.encoder.layer:
            x = layer(x, mask_bias)
        m = mask.unsqueeze(-1).to(x.dtype)
        pooled = (x * m).sum(1) / m.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, p=2, dim=1)


def load_model(model_dir):
    with open(model_dir + "/config.json") as f:
        cfg = json.load(f)
    model = Bert(cfg)
    weights = read_safetensors(model_dir + "/model.safetensors")
    state = {k[len("bert."):] if k.startswith("bert.") else k: v for k, v in weights.items()}
    wanted = model.state_dict()
    missing = [k for k in wanted if k not in state]
    if missing:
        raise SystemExit("torch_peer: %s/model.safetensors lacks %s" % (model_dir, ", ".join(missing[:5])))
    model.load_state_dict({k: state[k] for k in wanted}, strict=True)
    model.eval()
    return model, cfg


def encode(model, sequences, batch, pad_id=0):
    """Length-sorted, dynamically padded batches (as sentence-transformers and
    the engine do); returns vectors in input order."""
    order = sorted(range(len(sequences)), key=lambda i: len(sequences[i]))
    out = [None] * len(sequences)
    for start in range(0, len(order), batch):
        rows = order[start:start + batch]
        seq = max(len(sequences[i]) for i in rows)
        ids = torch.full((len(rows), seq), pad_id, dtype=torch.long)
        mask = torch.zeros((len(rows), seq), dtype=torch.long)
        for b, i in enumerate(rows):
            n = len(sequences[i])
            ids[b, :n] = torch.tensor(sequences[i], dtype=torch.long)
            mask[b, :n] = 1
        vectors = model(ids, mask)
        for b, i in enumerate(rows):
            out[i] = vectors[b]
    return out


def timed_passes(model, sequences, batch, passes, pad_id):
    encode(model, sequences[:batch], batch, pad_id)  # warm-up batch
    times = []
    for _ in range(passes):
        t0 = time.perf_counter()
        encode(model, sequences, batch, pad_id)
        times.append(time.perf_counter() - t0)
    return times


def latency_ms(model, sequences, count):
    rows = sequences[:count]
    encode(model, rows[:1], 1)  # warm-up
    per = []
    for r in rows:
        t0 = time.perf_counter()
        encode(model, [r], 1)
        per.append((time.perf_counter() - t0) * 1000.0)
    return {"sentences": len(per), "median_ms": statistics.median(per), "mean_ms": statistics.fmean(per)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", required=True, help="model folder (config.json, model.safetensors)")
    ap.add_argument("--ids", required=True, help="JSON list of token id lists (incl. [CLS]/[SEP])")
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--passes", type=int, default=3)
    ap.add_argument("--check", help="JSON list of engine vectors for the first rows")
    ap.add_argument("--min-cosine", type=float, default=0.9999)
    ap.add_argument("--latency", type=int, default=0, help="batch-1 latency over the first N rows")
    ap.add_argument("--int8", action="store_true", help="also time quantize_dynamic(Linear, qint8)")
    args = ap.parse_args()
    if args.threads <= 0 or args.batch <= 0 or args.passes <= 0:
        raise SystemExit("torch_peer: --threads, --batch and --passes must be positive")

    torch.set_num_threads(args.threads)
    with open(args.ids) as f:
        sequences = json.load(f)
    if not isinstance(sequences, list) or not sequences or not all(isinstance(s, list) and s for s in sequences):
        raise SystemExit("torch_peer: %s: expected a non-empty JSON list of non-empty id lists" % args.ids)
    t0 = time.perf_counter()
    model, cfg = load_model(args.dir)
    load_seconds = time.perf_counter() - t0
    pad_id = cfg.get("pad_token_id", 0)
    result = {
        "peer": "python3-torch eager float32",
        "torch_version": torch.__version__,
        "threads": torch.get_num_threads(),
        "batch": args.batch,
        "sentences": len(sequences),
        "load_seconds": load_seconds,
        "quantized_engine": torch.backends.quantized.engine,
    }
    status = 0
    with torch.inference_mode():
        check = None
        if args.check:
            with open(args.check) as f:
                expected = json.load(f)
            got = encode(model, sequences[:len(expected)], args.batch, pad_id)
            cosines = []
            for e, g in zip(expected, got):
                e = torch.tensor(e, dtype=torch.float32)
                cosines.append(float(torch.dot(e, g) / (e.norm() * g.norm()).clamp(min=1e-12)))
            check = {"rows": len(cosines), "min_cosine": min(cosines), "mean_cosine": statistics.fmean(cosines),
                     "agree": min(cosines) >= args.min_cosine}
            if not check["agree"]:
                status = 3
        result["check"] = check

        times = timed_passes(model, sequences, args.batch, args.passes, pad_id)
        result["passes_seconds"] = times
        result["sentences_per_second"] = len(sequences) / statistics.median(times)
        result["latency_ms"] = latency_ms(model, sequences, args.latency) if args.latency > 0 else None

        if args.int8:
            qmodel = torch.ao.quantization.quantize_dynamic(model, {nn.Linear}, dtype=torch.qint8)
            qtimes = timed_passes(qmodel, sequences, args.batch, args.passes, pad_id)
            result["int8"] = {"passes_seconds": qtimes,
                              "sentences_per_second": len(sequences) / statistics.median(qtimes),
                              "latency_ms": latency_ms(qmodel, sequences, args.latency) if args.latency > 0 else None}
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    if status:
        sys.stderr.write("torch_peer: vectors disagree with the engine's (min cosine %.6f < %g)\n"
                         % (check["min_cosine"], args.min_cosine))
    return status


if __name__ == "__main__":
    sys.exit(main())
