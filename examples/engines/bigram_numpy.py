"""A third party's training program, written only against Anneal's engine contract (docs/engines.md):
no Anneal code, no PyTorch, numpy only. It trains a bigram model (a table of next-token logits)
with SGD and momentum on the token set the wrapper gives it, reports a metrics line a step, commits
checkpoint directories, resumes from one, honours a rollback's skip windows and LR factor and the
RunSpec's injected spike, and checkpoints on SIGTERM. On resume it prints the sha256 of the weights
file it loaded, so a test can compare it with the stored checkpoint's."""

import hashlib
import json
import os
import signal
import struct
import sys
import time

import numpy as np

SUCCESS, CRASH, INVALID_SPEC, INPUT_MISSING, CORRUPT_CHECKPOINT, PREEMPTED = 0, 1, 2, 3, 4, 6


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        start, end = meta["data_offsets"]
        out[name] = np.frombuffer(data[start:end], dtype=np.float32).reshape(meta["shape"]).copy()
    return out


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        b = np.ascontiguousarray(tensors[name], dtype=np.float32).tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def tokens(directory):
    with open(os.path.join(directory, "manifest.json")) as f:
        m = json.load(f)
    dtype = np.uint16 if m["dtype"] == "uint16" else np.uint32
    parts = [np.memmap(os.path.join(directory, s["file"]), dtype=dtype, mode="r") for s in m["shards"]]
    return np.concatenate(parts).astype(np.int64), m["vocabSize"]


def batch_index(step, windows):
    index = step
    for w in sorted(windows, key=lambda w: w["fromBatch"]):
        if w["fromBatch"] <= index:
            index += w["toBatch"] - w["fromBatch"]
    return index


def save(directory, step, batches, weights, velocity, tokenizer):
    d = os.path.join(directory, f"step-{step:08d}")
    os.makedirs(d, exist_ok=True)
    write_safetensors(os.path.join(d, "model.safetensors"), {"bigram.weight": weights})
    write_safetensors(os.path.join(d, "optimizer.safetensors"), {"bigram.weight.velocity": velocity})
    with open(os.path.join(d, "trainer-state.json"), "w") as f:
        json.dump({"step": step, "batchesConsumed": batches}, f)
    if tokenizer:
        with open(tokenizer, "rb") as src, open(os.path.join(d, "tokenizer.json"), "wb") as dst:
            dst.write(src.read())
    with open(os.path.join(d, "COMMITTED"), "w") as f:
        f.write(str(step))


def main():
    with open(os.environ["ANNEAL_RUN_SPEC"]) as f:
        spec = json.load(f)
    try:
        ids, vocab = tokens(os.environ["ANNEAL_TOKENS"])
    except (OSError, KeyError) as e:
        print(f"toy-engine: {e}", file=sys.stderr)
        return INPUT_MISSING
    tc = spec.get("training", {})
    steps, rows, seq = int(tc["steps"]), int(tc.get("batchSize", 8)), int(tc.get("seqLen", 64))
    lr = float(tc.get("lr", 0.5))
    stability = spec.get("stability") or {}
    windows = stability.get("skipWindows") or []
    lr *= float(stability.get("lrFactor") or 1.0)
    inject = spec.get("inject") or {}
    armed = int(spec.get("attempt", 1)) <= int(inject.get("untilAttempt") or 1)
    every = int((spec.get("checkpoint") or {}).get("everySteps", 50))
    seed = int(spec.get("seed", 1))
    out = os.environ["ANNEAL_CHECKPOINT_DIR"]
    tokenizer = os.environ.get("ANNEAL_TOKENIZER")

    weights = np.zeros((vocab, vocab), dtype=np.float32)
    velocity = np.zeros_like(weights)
    start = 0
    resume = os.environ.get("ANNEAL_RESUME_FROM")
    if resume:
        path = os.path.join(resume, "model.safetensors")
        with open(path, "rb") as f:
            print(f"toy-engine: loaded {hashlib.sha256(f.read()).hexdigest()}", file=sys.stderr, flush=True)
        weights = read_safetensors(path)["bigram.weight"]
        velocity = read_safetensors(os.path.join(resume, "optimizer.safetensors"))["bigram.weight.velocity"]
        with open(os.path.join(resume, "trainer-state.json")) as f:
            start = int(json.load(f)["step"])

    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda s, f: stop.__setitem__("now", True))
    metrics = open(os.environ["ANNEAL_METRICS_FILE"], "a")
    for step in range(start, steps):
        if stop["now"]:
            save(out, step, batch_index(step, windows), weights, velocity, tokenizer)
            return PREEMPTED
        t0 = time.perf_counter()
        index = batch_index(step, windows)
        rng = np.random.default_rng([seed, index])
        offsets = rng.integers(0, len(ids) - seq - 1, size=rows)
        x = np.stack([ids[o : o + seq] for o in offsets]).reshape(-1)
        y = np.stack([ids[o + 1 : o + seq + 1] for o in offsets]).reshape(-1)
        logits = weights[x]
        logits = logits - logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        loss = float(-np.log(p[np.arange(len(y)), y] + 1e-12).mean())
        p[np.arange(len(y)), y] -= 1.0
        grad = np.zeros_like(weights)
        np.add.at(grad, x, p / len(y))
        grad_norm = float(np.sqrt((grad * grad).sum()))
        step_lr = lr
        spike = inject.get("spikeAtStep")
        if armed and spike is not None and spike <= step < spike + int(inject.get("spikeSteps") or 5):
            step_lr *= float(inject.get("spikeLrMultiplier") or 100.0)
        velocity = 0.9 * velocity + grad
        weights -= step_lr * velocity
        metrics.write(json.dumps({"step": step, "data_batch": index, "loss": loss, "grad_norm": grad_norm,
                                  "lr": step_lr, "tokens": rows * seq,
                                  "step_ms": (time.perf_counter() - t0) * 1000}) + "\n")
        metrics.flush()
        if (step + 1) % every == 0 and step + 1 < steps:
            save(out, step + 1, batch_index(step + 1, windows), weights, velocity, tokenizer)
    save(out, steps, batch_index(steps, windows), weights, velocity, tokenizer)
    return SUCCESS


if __name__ == "__main__":
    sys.exit(main())
