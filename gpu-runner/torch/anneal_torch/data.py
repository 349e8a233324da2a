"""Token shards and the batch sampler.

A token set is a directory: `manifest.json` (written last: format `anneal-tokens/v1`, the dtype,
the vocabulary size, the tokenizer's and the dataset's sha256, and the shards with their token
counts and sha256s) and shards of raw little-endian token ids (uint16, or uint32 for a vocabulary
over 65,536), documents separated by the end-of-text id. Shards are memory-mapped, so memory does
not grow with the corpus.

A batch is a pure function of (seed, global data batch index): row r of batch i is the window of
seqLen + 1 tokens at an offset drawn from a generator seeded with (seed, i, r). Ranks take disjoint
slices of the same global batch, so the global batch, and the curve, do not depend on the world
size. A rollback's skip windows move the data index past the batches they name, as the built-in
engine's `Sampler.dataBatchIndex` does."""

import hashlib
import json
import os

import numpy as np
import torch

FORMAT = "anneal-tokens/v1"
_DTYPES = {"uint16": np.uint16, "uint32": np.uint32}


class DataError(ValueError):
    """A token set that is missing, incomplete or disagrees with its manifest."""


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_tokens(directory, documents, vocab_size, eos, shard_tokens=1 << 24, **meta):
    """Writes documents (lists of ids) as a token set, the manifest last; returns the manifest."""
    os.makedirs(directory, exist_ok=True)
    dtype = "uint16" if vocab_size <= 1 << 16 else "uint32"
    stream = []
    for d in documents:
        stream.extend(d)
        stream.append(eos)
    arr = np.asarray(stream, dtype=_DTYPES[dtype])
    shards = []
    for i, start in enumerate(range(0, len(arr), shard_tokens)):
        name = f"tokens-{i:05d}.bin"
        path = os.path.join(directory, name)
        arr[start : start + shard_tokens].tofile(path)
        shards.append({"file": name, "tokens": int(min(shard_tokens, len(arr) - start)), "sha256": sha256(path)})
    manifest = {"format": FORMAT, "dtype": dtype, "vocabSize": vocab_size, "eos": eos, "shards": shards, **meta}
    with open(os.path.join(directory, "manifest.json.tmp"), "w") as f:
        json.dump(manifest, f, indent=1)
    os.replace(os.path.join(directory, "manifest.json.tmp"), os.path.join(directory, "manifest.json"))
    return manifest


class Tokens:
    """A token set, memory-mapped, checked against its manifest."""

    def __init__(self, directory, verify=True):
        path = os.path.join(directory, "manifest.json")
        if not os.path.exists(path):
            raise DataError(f"{directory}: no manifest.json (an incomplete or missing token set)")
        with open(path) as f:
            m = json.load(f)
        if m.get("format") != FORMAT:
            raise DataError(f"{path}: format must be {FORMAT}, got {m.get('format')!r}")
        if m.get("dtype") not in _DTYPES:
            raise DataError(f"{path}: dtype must be uint16 or uint32, got {m.get('dtype')!r}")
        self.manifest = m
        self.vocab_size = m["vocabSize"]
        self.eos = m["eos"]
        parts = []
        for s in m["shards"]:
            p = os.path.join(directory, s["file"])
            if not os.path.exists(p):
                raise DataError(f"{path}: shard {s['file']} is missing")
            if verify and sha256(p) != s["sha256"]:
                raise DataError(f"{p}: sha256 differs from the manifest's")
            mm = np.memmap(p, dtype=_DTYPES[m["dtype"]], mode="r")
            if len(mm) != s["tokens"]:
                raise DataError(f"{p}: {len(mm)} tokens, the manifest says {s['tokens']}")
            parts.append(mm)
        self.parts = parts
        self.starts = np.cumsum([0] + [len(p) for p in parts])
        self.total = int(self.starts[-1])
        # an example set (an SFT stage's dialogues): a uint8 mask a token, and every example's start
        self.masks = None
        self.examples = None
        if "examples" in m:
            masks = []
            for s in m.get("masks", []):
                p = os.path.join(directory, s["file"])
                if not os.path.exists(p):
                    raise DataError(f"{path}: mask shard {s['file']} is missing")
                if verify and sha256(p) != s["sha256"]:
                    raise DataError(f"{p}: sha256 differs from the manifest's")
                masks.append(np.memmap(p, dtype=np.uint8, mode="r"))
            self.masks = np.concatenate(masks) if masks else np.zeros(0, dtype=np.uint8)
            e = m["examples"]
            p = os.path.join(directory, e["file"])
            if not os.path.exists(p):
                raise DataError(f"{path}: {e['file']} is missing")
            if verify and sha256(p) != e["sha256"]:
                raise DataError(f"{p}: sha256 differs from the manifest's")
            self.examples = np.fromfile(p, dtype="<i8")
            if len(self.examples) != e["count"] + 1 or len(self.masks) != self.total:
                raise DataError(f"{path}: {e['count']} examples and {self.total} tokens do not match its files")
            self.pad = m.get("pad", self.eos)

    def window(self, offset, n):
        """n tokens from the global offset, across shard boundaries."""
        out = np.empty(n, dtype=np.int64)
        got = 0
        while got < n:
            i = int(np.searchsorted(self.starts, offset + got, side="right") - 1)
            local = offset + got - int(self.starts[i])
            take = min(n - got, len(self.parts[i]) - local)
            out[got : got + take] = self.parts[i][local : local + take]
            got += take
        return out


def data_batch_index(step, windows):
    """The data batch a step reads: the step moved past every skip window [from, to) it reaches."""
    index = step
    merged_to = None
    for w in sorted(windows, key=lambda w: w["fromBatch"]):
        start = w["fromBatch"] if merged_to is None else max(w["fromBatch"], merged_to)
        if w["toBatch"] <= start:
            continue
        if start > index:
            break
        index += w["toBatch"] - start
        merged_to = w["toBatch"]
    return index


def batch(tokens, seed, index, rows, seq_len, row_from=0, row_to=None):
    """Inputs and targets `[rows', seqLen]` for rows [row_from, row_to) of global batch `index`."""
    row_to = rows if row_to is None else row_to
    span = seq_len + 1
    if tokens.total < span:
        raise DataError(f"the token set holds {tokens.total} tokens, fewer than seqLen + 1 = {span}")
    xs = []
    for r in range(row_from, row_to):
        g = np.random.default_rng([seed & 0xFFFFFFFF, index, r])
        off = int(g.integers(0, tokens.total - span + 1))
        xs.append(tokens.window(off, span))
    w = torch.from_numpy(np.stack(xs))
    return w[:, :-1].contiguous(), w[:, 1:].contiguous()


def sft_batch(tokens, seed, index, rows, seq_len, row_from=0, row_to=None):
    """Inputs, targets and target weights `[rows', seqLen]` for rows [row_from, row_to) of global
    batch `index` of an example set: row r is one whole example drawn with (seed, index, r), cut at
    seqLen + 1 tokens and padded; a target counts only where the example's mask says it is learned
    (an assistant's turn), as the built-in engine's SFT batches do."""
    if tokens.examples is None:
        raise DataError("an sft stage reads an example set (rendered dialogues with masks), not text")
    row_to = rows if row_to is None else row_to
    span = seq_len + 1
    n_examples = len(tokens.examples) - 1
    xs, ws = [], []
    for r in range(row_from, row_to):
        g = np.random.default_rng([seed & 0xFFFFFFFF, index, r])
        e = int(g.integers(0, n_examples))
        start, end = int(tokens.examples[e]), int(tokens.examples[e + 1])
        n = min(end - start, span)
        ids = np.full(span, tokens.pad, dtype=np.int64)
        ids[:n] = tokens.window(start, n)
        w = np.zeros(seq_len, dtype=np.float32)
        # target i is token i + 1
        w[: max(0, n - 1)] = tokens.masks[start + 1 : start + n]
        xs.append(ids)
        ws.append(w)
    t = torch.from_numpy(np.stack(xs))
    return t[:, :-1].contiguous(), t[:, 1:].contiguous(), torch.from_numpy(np.stack(ws))


def main(argv):
    """`python3 -m anneal_torch.data window DIR OFFSET N`: N tokens from OFFSET as a JSON list;
    `python3 -m anneal_torch.data write DIR DOCS.json VOCAB EOS [SHARD_TOKENS]`: a token set."""
    if len(argv) == 4 and argv[0] == "window":
        print(json.dumps([int(t) for t in Tokens(argv[1]).window(int(argv[2]), int(argv[3]))]))
        return 0
    if len(argv) in (5, 6) and argv[0] == "write":
        with open(argv[2]) as f:
            docs = json.load(f)
        extra = {"shard_tokens": int(argv[5])} if len(argv) == 6 else {}
        write_tokens(argv[1], docs, vocab_size=int(argv[3]), eos=int(argv[4]), **extra)
        return 0
    print(main.__doc__, file=__import__("sys").stderr)
    return 2


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
