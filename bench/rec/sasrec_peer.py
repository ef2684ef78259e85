#!/usr/bin/python3
"""Peer for souk_sasrec_bench: the SASRec training recipe of pmixer/SASRec.pytorch,
re-implemented here (not copied) for Debian's python3-torch (torch 1.13).

Recipe: item embedding (0 = padding) scaled by sqrt(hidden) + learned positions,
embedding dropout, per block a pre-LayerNorm on the queries, torch's
MultiheadAttention with a causal mask, residual from the normalized queries,
LayerNorm, a point-wise feed-forward of two kernel-size-1 Conv1d with ReLU and
dropout plus residual, padding positions zeroed; a final LayerNorm. Loss: BCE on
the next item against one random item the user never saw, at every
non-padding position. Adam lr 1e-3, betas (0.9, 0.98). Each step draws
batch_size random users (with replacement) and takes the last maxlen+1 items of
each training part, like the repo's WarpSampler; an epoch is
ceil(users / batch_size) steps.

Split: protocol B (EVAL.md B) leave-one-out -- the training part is every item
before the second-to-last; with --eval the test target (last item) is ranked
against all items with the user's earlier items removed (full ranking).

Prints one JSON object: seconds per epoch (median of the epochs after the
first), every epoch's seconds and loss, and with --eval test HR@10/NDCG@10.

  /usr/bin/python3 bench/rec/sasrec_peer.py --data Beauty.txt --epochs 3 --threads 2
"""

import argparse
import json
import math
import random
import statistics
import sys
import time

import numpy as np
import torch


def read_sequences(path):
    users, seqs = [], []
    with open(path) as f:
        for line in f:
            tok = line.split()
            if not tok:
                continue
            users.append(int(tok[0]))
            seqs.append([int(t) for t in tok[1:]])
    ids = sorted({i for s in seqs for i in s})
    dense = {item: k + 1 for k, item in enumerate(ids)}  # 1..N, 0 = padding
    return [[dense[i] for i in s] for s in seqs], len(ids)


def split_train(seq):
    # Protocol B: the last item is the test target, the one before the
    # validation target; the training part is everything before them.
    return seq[:-2] if len(seq) >= 2 else []


class FeedForward(torch.nn.Module):
    def __init__(self, hidden, dropout):
        super().__init__()
        self.conv1 = torch.nn.Conv1d(hidden, hidden, kernel_size=1)
        self.conv2 = torch.nn.Conv1d(hidden, hidden, kernel_size=1)
        self.drop1 = torch.nn.Dropout(dropout)
        self.drop2 = torch.nn.Dropout(dropout)

    def forward(self, x):  # x [B, T, H]
        y = self.drop1(torch.relu(self.conv1(x.transpose(1, 2))))
        y = self.drop2(self.conv2(y)).transpose(1, 2)
        return x + y


class SasRec(torch.nn.Module):
    def __init__(self, num_items, maxlen, hidden, blocks, heads, dropout):
        super().__init__()
        self.hidden = hidden
        self.item_emb = torch.nn.Embedding(num_items + 1, hidden, padding_idx=0)
        self.pos_emb = torch.nn.Embedding(maxlen, hidden)
        self.emb_drop = torch.nn.Dropout(dropout)
        self.attn_ln = torch.nn.ModuleList()
        self.attn = torch.nn.ModuleList()
        self.ffn_ln = torch.nn.ModuleList()
        self.ffn = torch.nn.ModuleList()
        for _ in range(blocks):
            self.attn_ln.append(torch.nn.LayerNorm(hidden, eps=1e-8))
            self.attn.append(torch.nn.MultiheadAttention(hidden, heads, dropout))
            self.ffn_ln.append(torch.nn.LayerNorm(hidden, eps=1e-8))
            self.ffn.append(FeedForward(hidden, dropout))
        self.last_ln = torch.nn.LayerNorm(hidden, eps=1e-8)
        for name, p in self.named_parameters():
            if p.dim() >= 2:
                torch.nn.init.xavier_normal_(p)
        with torch.no_grad():
            self.item_emb.weight[0].zero_()

    def encode(self, ids):  # ids [B, T] long, left-padded
        t = ids.shape[1]
        x = self.item_emb(ids) * math.sqrt(self.hidden)
        x = x + self.pos_emb(torch.arange(self.pos_emb.num_embeddings - t,
                                          self.pos_emb.num_embeddings)).unsqueeze(0)
        x = self.emb_drop(x)
        keep = (ids != 0).unsqueeze(-1).float()
        x = x * keep
        causal = ~torch.tril(torch.ones(t, t, dtype=torch.bool))
        for ln, attn, fln, ffn in zip(self.attn_ln, self.attn, self.ffn_ln, self.ffn):
            xt = x.transpose(0, 1)  # [T, B, H]
            q = ln(xt)
            out, _ = attn(q, xt, xt, attn_mask=causal, need_weights=False)
            x = (q + out).transpose(0, 1)
            x = ffn(fln(x))
            x = x * keep
        return self.last_ln(x)

    def forward(self, ids, pos, neg):
        h = self.encode(ids)
        pos_logit = (h * self.item_emb(pos)).sum(-1)
        neg_logit = (h * self.item_emb(neg)).sum(-1)
        return pos_logit, neg_logit


def sample_batch(train, users, num_items, maxlen, batch_size, rng):
    ids = np.zeros((batch_size, maxlen), dtype=np.int64)
    pos = np.zeros((batch_size, maxlen), dtype=np.int64)
    neg = np.zeros((batch_size, maxlen), dtype=np.int64)
    for r in range(batch_size):
        u = users[rng.randrange(len(users))]
        seq = train[u]
        seen = set(seq)
        nxt = seq[-1]
        k = maxlen - 1
        for item in reversed(seq[:-1]):
            ids[r, k] = item
            pos[r, k] = nxt
            j = rng.randint(1, num_items)
            while j in seen:
                j = rng.randint(1, num_items)
            neg[r, k] = j
            nxt = item
            k -= 1
            if k < 0:
                break
    return torch.from_numpy(ids), torch.from_numpy(pos), torch.from_numpy(neg)


def evaluate(model, seqs, num_items, maxlen):
    model.eval()
    hr = ndcg = 0.0
    n = 0
    with torch.no_grad():
        items = model.item_emb.weight[1:]
        rows = [s for s in seqs if s]
        for start in range(0, len(rows), 256):
            chunk = rows[start:start + 256]
            ids = np.zeros((len(chunk), maxlen), dtype=np.int64)
            for r, s in enumerate(chunk):
                hist = s[:-1][-maxlen:]
                ids[r, maxlen - len(hist):] = hist
            h = model.encode(torch.from_numpy(ids))[:, -1, :]
            scores = (h @ items.t()).numpy()
            for r, s in enumerate(chunk):
                target = s[-1] - 1
                row = scores[r]
                st = row[target]
                ahead = (row > st).sum() + (row[:target] == st).sum()
                for j in set(s[:-1]):
                    j -= 1
                    if j != target and (row[j] > st or (row[j] == st and j < target)):
                        ahead -= 1
                rank = int(ahead) + 1
                n += 1
                if rank <= 10:
                    hr += 1
                    ndcg += 1 / math.log2(rank + 1)
    model.train()
    return hr / max(n, 1), ndcg / max(n, 1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--maxlen", type=int, default=50)
    ap.add_argument("--hidden", type=int, default=50)
    ap.add_argument("--blocks", type=int, default=2)
    ap.add_argument("--heads", type=int, default=1)
    ap.add_argument("--dropout", type=float, default=0.2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--eval", action="store_true", help="protocol-B test metrics at the end")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    seqs, num_items = read_sequences(args.data)
    train = [split_train(s) for s in seqs]
    users = [u for u, s in enumerate(train) if len(s) > 1]
    steps = math.ceil(len(seqs) / args.batch_size)

    model = SasRec(num_items, args.maxlen, args.hidden, args.blocks, args.heads, args.dropout)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=args.lr, betas=(0.9, 0.98))
    bce = torch.nn.BCEWithLogitsLoss()
    epoch_seconds, epoch_loss = [], []
    for epoch in range(args.epochs):
        start = time.perf_counter()
        total = 0.0
        for _ in range(steps):
            ids, pos, neg = sample_batch(train, users, num_items, args.maxlen, args.batch_size, rng)
            pos_logit, neg_logit = model(ids, pos, neg)
            where = pos != 0
            loss = bce(pos_logit[where], torch.ones_like(pos_logit[where])) + \
                bce(neg_logit[where], torch.zeros_like(neg_logit[where]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item()
        epoch_seconds.append(time.perf_counter() - start)
        epoch_loss.append(total / steps)
        print(f"peer epoch {epoch + 1}: {epoch_seconds[-1]:.2f} s, loss {epoch_loss[-1]:.4f}",
              file=sys.stderr)
    steady = epoch_seconds[1:] if len(epoch_seconds) > 1 else epoch_seconds
    out = {"system": "pmixer-recipe python3-torch " + torch.__version__,
           "threads": args.threads, "epochs": args.epochs, "steps_per_epoch": steps,
           "seconds_per_epoch": statistics.median(steady), "epoch_seconds": epoch_seconds,
           "epoch_loss": epoch_loss}
    if args.eval:
        hr, ndcg = evaluate(model, seqs, num_items, args.maxlen)
        out["test_hr@10"] = hr
        out["test_ndcg@10"] = ndcg
    print(json.dumps(out))


if __name__ == "__main__":
    main()
