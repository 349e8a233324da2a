#!/usr/bin/python3
"""PyTorch-eager peer for `anneal bench engine`.

Reads the JSON the Java engine bench wrote (model shapes, batch, sequence length, its step times),
trains the same LLaMA-style model with the same batch in plain PyTorch (same ops: RMSNorm, rotary
embeddings, grouped KV heads, softmax attention with an additive causal mask, SwiGLU, tied head,
AdamW (0.9, 0.95, 1e-8, wd 0.1 on matrices), global-norm clipping at 1.0) and prints both side by
side. Runs with two threads, as DJL's PyTorch does here.
"""
import json
import math
import statistics
import sys
import time

import torch
import torch.nn.functional as F

torch.set_num_threads(2)
torch.manual_seed(0)


def matmul_peak(reps=10):
    n = 1024
    a = torch.randn(n, n)
    b = torch.randn(n, n)
    for _ in range(3):
        a @ b
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - t0)
    return 2 * n ** 3 / statistics.median(times) / 1e9


class Llama(torch.nn.Module):
    def __init__(self, s, seq):
        super().__init__()
        d, h, kv, f, v = s["dModel"], s["nHeads"], s["nKvHeads"], s["ffnHidden"], s["vocabSize"]
        self.h, self.kv, self.hd = h, kv, d // h
        self.embed = torch.nn.Parameter(torch.randn(v, d) * 0.02)
        self.layers = torch.nn.ModuleList()
        for _ in range(s["nLayers"]):
            layer = torch.nn.Module()
            layer.n1 = torch.nn.Parameter(torch.ones(d))
            layer.q = torch.nn.Linear(d, d, bias=False)
            layer.k = torch.nn.Linear(d, kv * self.hd, bias=False)
            layer.v = torch.nn.Linear(d, kv * self.hd, bias=False)
            layer.o = torch.nn.Linear(d, d, bias=False)
            layer.n2 = torch.nn.Parameter(torch.ones(d))
            layer.gate = torch.nn.Linear(d, f, bias=False)
            layer.up = torch.nn.Linear(d, f, bias=False)
            layer.down = torch.nn.Linear(f, d, bias=False)
            self.layers.append(layer)
        self.norm = torch.nn.Parameter(torch.ones(d))
        half = self.hd // 2
        freq = 1.0 / (10000 ** (torch.arange(half).float() * 2 / self.hd))
        ang = torch.arange(seq).float()[:, None] * freq[None, :]
        emb = torch.cat([ang, ang], dim=-1)
        self.register_buffer("cos", emb.cos())
        self.register_buffer("sin", emb.sin())
        mask = torch.full((seq, seq), -1e9).triu(1)
        self.register_buffer("mask", mask[None, None])

    @staticmethod
    def rms(x, w):
        return x / (x.square().mean(-1, keepdim=True) + 1e-5).sqrt() * w

    def rope(self, x):
        half = x.shape[-1] // 2
        rot = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
        return x * self.cos + rot * self.sin

    def forward(self, tokens):
        b, t = tokens.shape
        x = F.embedding(tokens, self.embed)
        for l in self.layers:
            a = self.rms(x, l.n1)
            q = l.q(a).view(b, t, self.h, self.hd).transpose(1, 2)
            k = l.k(a).view(b, t, self.kv, self.hd).transpose(1, 2)
            v = l.v(a).view(b, t, self.kv, self.hd).transpose(1, 2)
            q, k = self.rope(q), self.rope(k)
            if self.kv != self.h:
                rep = self.h // self.kv
                k = k[:, :, None].expand(b, self.kv, rep, t, self.hd).reshape(b, self.h, t, self.hd)
                v = v[:, :, None].expand(b, self.kv, rep, t, self.hd).reshape(b, self.h, t, self.hd)
            s = q @ k.transpose(-1, -2) / math.sqrt(self.hd) + self.mask
            o = (s.softmax(-1) @ v).transpose(1, 2).reshape(b, t, -1)
            x = x + l.o(o)
            m = self.rms(x, l.n2)
            g = l.gate(m)
            x = x + l.down(g * torch.sigmoid(g) * l.up(m))
        return F.linear(self.rms(x, self.norm), self.embed)


def step_times(row, steps):
    s, seq, batch = row["shape"], row["seq"], row["batch"]
    model = Llama(s, seq)
    decay = [p for p in model.parameters() if p.dim() >= 2]
    other = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": other, "weight_decay": 0.0}],
                            lr=1e-3, betas=(0.9, 0.95), eps=1e-8)
    tokens = torch.randint(0, s["vocabSize"], (batch, seq + 1))
    times = []
    for i in range(3 + steps):
        t0 = time.perf_counter()
        logits = model(tokens[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tokens[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        loss.item()
        if i >= 3:
            times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def measure(anneal_json, steps):
    """Step times of the peer in this process's threading setup, as JSON on stdout."""
    anneal = json.load(open(anneal_json))
    rows = [{"preset": r["preset"], "stepMs": step_times(r, steps)} for r in anneal["rows"] if r["precision"] == "fp32"]
    import os
    json.dump({"openblasThreads": os.environ.get("OPENBLAS_NUM_THREADS", "default"),
               "torchThreads": torch.get_num_threads(), "matmulPeakGflops": matmul_peak(), "rows": rows}, sys.stdout)


def report(anneal_json, peer_jsons):
    anneal = json.load(open(anneal_json))
    peers = [json.load(open(f)) for f in peer_jsons]
    print(f"fp32 matmul peak, 1024^3: Anneal (DJL PyTorch 2.7.1, 2 threads) {anneal['matmulPeakGflops']:.1f} GFLOP/s")
    for p in peers:
        print(f"                          peer (Debian PyTorch {torch.__version__}, torch threads {p['torchThreads']},"
              f" OpenBLAS threads {p['openblasThreads']}) {p['matmulPeakGflops']:.1f} GFLOP/s")
    print("the peer's step time is the faster of its threading setups (two OpenBLAS threads under two torch"
          " threads oversubscribe the two cores on the model's small matrices)")
    fair = max(p["matmulPeakGflops"] for p in peers) >= 0.5 * anneal["matmulPeakGflops"]
    if not fair:
        print("the peer's matmul peak is under half of Anneal's: its BLAS is not running at this CPU's speed"
              " (see the OpenBLAS core above), so no ratio against it is printed")
    print(f"{'model':<7}{'precision':<12}{'batch x seq':<13}{'Anneal ms':>10}{'PyTorch ms':>12}{'ratio':>8}"
          f"{'Anneal tok/s':>14}{'Anneal MFU':>12}")
    for row in anneal["rows"]:
        peer = float("nan")
        if row["precision"] == "fp32":
            peer = min(r["stepMs"] for p in peers for r in p["rows"] if r["preset"] == row["preset"])
        ratio = row["stepMs"] / peer if peer == peer and fair else float("nan")
        print(f"{row['preset']:<7}{row['precision']:<12}{str(row['batch']) + ' x ' + str(row['seq']):<13}"
              f"{row['stepMs']:>10.1f}{peer:>12.1f}{ratio:>8.2f}{row['tokensPerSecond']:>14.0f}"
              f"{100 * row['mfu']:>11.1f}%")
    stall = anneal["checkpointSnapshotMs"] / anneal["checkpointSyncSaveMs"]
    print(f"async checkpoint: the loop stalls {anneal['checkpointSnapshotMs']:.1f} ms for the device clone, "
          f"a synchronous save takes {anneal['checkpointSyncSaveMs']:.1f} ms: {100 * stall:.1f}% (goal <= 10%)")
    print("(ratio = Anneal step time / PyTorch eager step time, same model and batch, lower is faster;"
          " MFU against Anneal's own measured matmul peak; fp16-mixed has no CPU peer: Debian's PyTorch"
          " 1.13 has no CPU fp16 autocast)")


if __name__ == "__main__":
    if sys.argv[1] == "measure":
        measure(sys.argv[2], int(sys.argv[3]))
    else:
        report(sys.argv[2], sys.argv[3:])
