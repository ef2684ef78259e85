#!/usr/bin/python3
"""Independent reference for Souk's BERT encoder parity tests (protocol G).

Written for these tests with plain torch tensor operations in float64 (no
`transformers`, no Souk code), following the published BERT architecture
(Devlin et al. 2019) and Hugging Face's tensor names.

  bert_reference.py generate --dir D --seed S --dtype F32|F16|BF16 --config '{json}'
      writes D/config.json and D/model.safetensors with random weights
  bert_reference.py forward --dir D --ids IDS.json --out OUT.json [--pooling mean|cls|max] [--normalize]
      runs every id sequence alone (no padding) and writes token states and pooled vectors
"""
import argparse
import json
import math
import struct
import sys

import numpy as np
import torch

DTYPES = {"F32": (np.float32, 4), "F16": (np.float16, 2), "BF16": (None, 2)}


def to_bf16_bytes(a):
    # Round-to-nearest-even float32 -> bfloat16.
    u = a.astype(np.float32).view(np.uint32).astype(np.uint64)
    rounded = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    return rounded.astype(np.uint16).tobytes()


def from_bf16_bytes(b, shape):
    u = np.frombuffer(b, dtype=np.uint16).astype(np.uint32) << 16
    return u.view(np.float32).reshape(shape)


def write_safetensors(path, tensors, dtype):
    header, blobs, offset = {}, [], 0
    for name, arr in tensors:
        if dtype == "F32":
            raw = arr.astype(np.float32).tobytes()
        elif dtype == "F16":
            raw = arr.astype(np.float16).tobytes()
        else:
            raw = to_bf16_bytes(arr)
        header[name] = {"dtype": dtype, "shape": list(arr.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    header["__metadata__"] = {"format": "pt"}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in blobs:
            f.write(raw)


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        raw = data[base + b:base + e]
        shape = info["shape"]
        if info["dtype"] == "F32":
            arr = np.frombuffer(raw, dtype=np.float32).reshape(shape)
        elif info["dtype"] == "F16":
            arr = np.frombuffer(raw, dtype=np.float16).reshape(shape).astype(np.float32)
        elif info["dtype"] == "BF16":
            arr = from_bf16_bytes(raw, shape)
        else:
            raise SystemExit("unsupported dtype " + info["dtype"])
        out[name] = torch.from_numpy(arr.astype(np.float64))
    return out


def generate(args):
    cfg = {
        "architectures": ["BertModel"], "model_type": "bert", "vocab_size": 30522, "hidden_size": 64,
        "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 128,
        "max_position_embeddings": 512, "type_vocab_size": 2, "layer_norm_eps": 1e-12,
        "hidden_act": "gelu", "pad_token_id": 0, "position_embedding_type": "absolute",
    }
    cfg.update(json.loads(args.config))
    rng = np.random.default_rng(args.seed)
    h, inter = cfg["hidden_size"], cfg["intermediate_size"]

    def normal(*shape, std=0.05):
        return rng.normal(0.0, std, size=shape).astype(np.float32)

    tensors = [
        ("embeddings.word_embeddings.weight", normal(cfg["vocab_size"], h, std=0.5)),
        ("embeddings.position_embeddings.weight", normal(cfg["max_position_embeddings"], h, std=0.5)),
        ("embeddings.token_type_embeddings.weight", normal(cfg["type_vocab_size"], h, std=0.5)),
        ("embeddings.LayerNorm.weight", 1.0 + normal(h, std=0.1)),
        ("embeddings.LayerNorm.bias", normal(h, std=0.1)),
    ]
    for i in range(cfg["num_hidden_layers"]):
        p = "encoder.layer.%d." % i
        for part in ("query", "key", "value"):
            tensors.append((p + "attention.self.%s.weight" % part, normal(h, h, std=1.0 / math.sqrt(h) * 2)))
            tensors.append((p + "attention.self.%s.bias" % part, normal(h, std=0.1)))
        tensors += [
            (p + "attention.output.dense.weight", normal(h, h, std=1.0 / math.sqrt(h))),
            (p + "attention.output.dense.bias", normal(h, std=0.1)),
            (p + "attention.output.LayerNorm.weight", 1.0 + normal(h, std=0.1)),
            (p + "attention.output.LayerNorm.bias", normal(h, std=0.1)),
            (p + "intermediate.dense.weight", normal(inter, h, std=1.0 / math.sqrt(h))),
            (p + "intermediate.dense.bias", normal(inter, std=0.1)),
            (p + "output.dense.weight", normal(h, inter, std=1.0 / math.sqrt(inter))),
            (p + "output.dense.bias", normal(h, std=0.1)),
            (p + "output.LayerNorm.weight", 1.0 + normal(h, std=0.1)),
            (p + "output.LayerNorm.bias", normal(h, std=0.1)),
        ]
    tensors += [("pooler.dense.weight", normal(h, h)), ("pooler.dense.bias", normal(h))]
    write_safetensors(args.dir + "/model.safetensors", tensors, args.dtype)
    with open(args.dir + "/config.json", "w") as f:
        json.dump(cfg, f, indent=2)


def layer_norm(x, w, b, eps):
    mean = x.mean(-1, keepdim=True)
    var = ((x - mean) ** 2).mean(-1, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps) * w + b


def act(name, x):
    if name == "gelu":
        return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))
    if name in ("gelu_new", "gelu_pytorch_tanh", "gelu_fast"):
        return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))
    if name == "relu":
        return torch.clamp(x, min=0)
    return x * torch.sigmoid(x)


def bert_forward(w, cfg, ids):
    n = len(ids)
    h = cfg["hidden_size"]
    heads = cfg["num_attention_heads"]
    d = h // heads
    eps = cfg.get("layer_norm_eps", 1e-12)
    idx = torch.tensor(ids, dtype=torch.long)
    x = (w["embeddings.word_embeddings.weight"][idx] + w["embeddings.position_embeddings.weight"][:n]
         + w["embeddings.token_type_embeddings.weight"][0])
    x = layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], eps)
    for i in range(cfg["num_hidden_layers"]):
        p = "encoder.layer.%d." % i
        lin = lambda t, name: t @ w[p + name + ".weight"].T + w[p + name + ".bias"]
        q = lin(x, "attention.self.query").reshape(n, heads, d).permute(1, 0, 2)
        k = lin(x, "attention.self.key").reshape(n, heads, d).permute(1, 0, 2)
        v = lin(x, "attention.self.value").reshape(n, heads, d).permute(1, 0, 2)
        scores = q @ k.transpose(1, 2) / math.sqrt(d)
        scores = scores - scores.max(-1, keepdim=True).values
        probs = torch.exp(scores)
        probs = probs / probs.sum(-1, keepdim=True)
        ctx = (probs @ v).permute(1, 0, 2).reshape(n, h)
        x = layer_norm(lin(ctx, "attention.output.dense") + x, w[p + "attention.output.LayerNorm.weight"],
                       w[p + "attention.output.LayerNorm.bias"], eps)
        hmid = act(cfg.get("hidden_act", "gelu"), lin(x, "intermediate.dense"))
        x = layer_norm(lin(hmid, "output.dense") + x, w[p + "output.LayerNorm.weight"],
                       w[p + "output.LayerNorm.bias"], eps)
    return x


def forward(args):
    with open(args.dir + "/config.json") as f:
        cfg = json.load(f)
    w = read_safetensors(args.dir + "/model.safetensors")
    with open(args.ids) as f:
        sequences = json.load(f)
    out = {"states": [], "pooled": []}
    for ids in sequences:
        states = bert_forward(w, cfg, ids)
        if args.pooling == "cls":
            pooled = states[0]
        elif args.pooling == "max":
            pooled = states.max(0).values
        else:
            pooled = states.mean(0)
        if args.normalize:
            pooled = pooled / torch.sqrt((pooled ** 2).sum())
        out["states"].append(states.flatten().tolist())
        out["pooled"].append(pooled.tolist())
    with open(args.out, "w") as f:
        json.dump(out, f)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["generate", "forward"])
    ap.add_argument("--dir", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--dtype", default="F32", choices=list(DTYPES))
    ap.add_argument("--config", default="{}")
    ap.add_argument("--ids")
    ap.add_argument("--out")
    ap.add_argument("--pooling", default="mean")
    ap.add_argument("--normalize", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(1)
    generate(args) if args.mode == "generate" else forward(args)


if __name__ == "__main__":
    sys.exit(main())
