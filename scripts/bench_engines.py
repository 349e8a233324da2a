"""`./anneal bench engines`: the reference distributed engine against itself and the built-in one,
in one run on this machine, as ratios.

1. wrapper overhead: the reference engine's step time under `anneal-runner exec` / started bare
   (1 rank on 2 cores; bare and wrapped runs alternate, three times each);
2. the reference engine (1 rank) / the built-in engine: the same tiny model, batch and threads;
3. two ranks x one thread / one rank x two threads (DDP with gloo on the same two cores); one rank's
   two threads are split between torch and OpenBLAS both ways, and the faster split counts.

Step times are medians over the steps after the first three, as the engines report them."""

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

WARMUP = 3


def corpus_tokens(root, directory, vocab=1024):
    """A token set of a seeded order-1 chain, as the engine's tests use."""
    sys.path.insert(0, root)
    from anneal_torch import data

    g = np.random.default_rng(7)
    table = g.integers(1, vocab, size=vocab)
    docs = []
    for _ in range(400):
        t = int(g.integers(1, vocab))
        doc = []
        for _ in range(200):
            doc.append(t)
            t = int(table[t]) if g.random() < 0.9 else int(g.integers(1, vocab))
        docs.append(doc)
    data.write_tokens(directory, docs, vocab_size=vocab, eos=0)


def run_spec(steps, batch, seq, store):
    return {
        "team": "bench", "pipeline": "engines", "stage": "pretrain",
        "attempt": 1, "device": "cpu", "seed": 11, "model": {"preset": "tiny"},
        "training": {"steps": steps, "batchSize": batch, "seqLen": seq, "lr": 3e-3, "warmupFraction": 0.05},
        "datasets": [{"name": "chain", "key": "tokens"}],
        "checkpoint": {"everySteps": steps, "keepLast": 2},
        "store": {"endpoint": "file:" + store, "bucket": "local"},
    }


def median_step_ms(metrics):
    with open(metrics) as f:
        rows = [json.loads(l) for l in f if l.strip()]
    ms = [r["step_ms"] for r in rows if "step" in r and r["step"] >= WARMUP]
    return statistics.median(ms)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def engine_env(root, threads):
    """`threads` is (torch's intra-op threads, OpenBLAS's threads): the two multiply, so two and two
    would put four threads on two cores."""
    torch_threads, blas = threads
    return {"PYTHONPATH": root, "ANNEAL_THREADS": str(torch_threads), "OMP_NUM_THREADS": str(torch_threads),
            "OPENBLAS_NUM_THREADS": str(blas)}


def bare(root, spec_path, tokens, work, ranks, threads):
    """One run of the engine started bare, `ranks` processes with `threads` (torch, OpenBLAS) each."""
    os.makedirs(work)
    metrics = os.path.join(work, "metrics.jsonl")
    port = str(free_port())
    procs = []
    for r in range(ranks):
        env = dict(os.environ, **engine_env(root, threads))
        env.update(RANK=str(r), WORLD_SIZE=str(ranks), LOCAL_RANK=str(r), MASTER_ADDR="127.0.0.1",
                   MASTER_PORT=port, ANNEAL_RUN_SPEC=spec_path, ANNEAL_TOKENS=tokens,
                   ANNEAL_CHECKPOINT_DIR=os.path.join(work, "checkpoints"), ANNEAL_METRICS_FILE=metrics)
        procs.append(subprocess.Popen(["/usr/bin/python3", "-m", "anneal_torch.train"], env=env, cwd=work))
    codes = [p.wait() for p in procs]
    if any(codes):
        raise SystemExit(f"bench: the bare engine exited {codes}")
    return median_step_ms(metrics)


def wrapped(root, jar, spec_path, tokens, work, threads):
    cmd = ["java", "-jar", jar, "exec", "--spec", spec_path, "--tokens", tokens, "--work", work, "--"]
    cmd += ["env"] + [f"{k}={v}" for k, v in engine_env(root, threads).items()]
    cmd += ["/usr/bin/python3", "-m", "anneal_torch.train"]
    with open(os.path.join(os.path.dirname(work), os.path.basename(work) + ".events"), "w") as out:
        code = subprocess.call(cmd, stdout=out, stderr=subprocess.STDOUT)
    if code:
        raise SystemExit(f"bench: anneal-runner exec exited {code} (events: {out.name})")
    return median_step_ms(os.path.join(work, "metrics.jsonl"))


def builtin(jar, steps, out):
    env = dict(os.environ, OMP_NUM_THREADS="2")
    subprocess.check_call(["java", "-jar", jar, "bench", "--presets", "tiny", "--precisions", "fp32",
                           "--steps", str(steps), "--json", out], env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(out) as f:
        row = json.load(f)["rows"][0]
    return row["stepMs"], row["batch"], row["seq"]


def main():
    root, jar = sys.argv[1], sys.argv[2]
    steps = int(sys.argv[3]) if len(sys.argv) > 3 else 30
    tmp = tempfile.mkdtemp(prefix="anneal-bench-engines-")
    tokens = os.path.join(tmp, "tokens")
    corpus_tokens(root, tokens)
    builtin_ms, batch, seq = builtin(jar, steps, os.path.join(tmp, "builtin.json"))
    def spec_for(name):
        # each run its own store: checkpoints are never overwritten
        path = os.path.join(tmp, name + ".json")
        with open(path, "w") as f:
            json.dump(run_spec(steps, batch, seq, os.path.join(tmp, name + "-store")), f)
        return path

    # one rank on two cores: the faster way of splitting them between torch and OpenBLAS
    splits = {s: bare(root, spec_for(f"split-{s[0]}-{s[1]}"), tokens, os.path.join(tmp, f"split-{s[0]}-{s[1]}"), 1, s)
              for s in ((2, 1), (1, 2))}
    best = min(splits, key=splits.get)
    b, w = [], []
    for i in range(3):
        b.append(bare(root, spec_for(f"bare-{i}"), tokens, os.path.join(tmp, f"bare-{i}"), 1, best))
        w.append(wrapped(root, jar, spec_for(f"exec-{i}"), tokens, os.path.join(tmp, f"exec-{i}"), best))
    ddp = bare(root, spec_for("ddp"), tokens, os.path.join(tmp, "ddp"), 2, (1, 1))
    bare_ms, exec_ms = statistics.median(b), statistics.median(w)
    print(f"tiny model, batch {batch} x {seq} tokens, {steps} steps, median step time after {WARMUP}")
    print(f"{'run':<58}{'step ms':>9}")
    for s, ms in splits.items():
        print(f"{'reference engine, 1 rank, torch ' + str(s[0]) + ' + OpenBLAS ' + str(s[1]) + ' thread(s)':<58}{ms:>9.1f}")
    print(f"{'reference engine, bare, the faster split (runs: ' + ', '.join(f'{x:.1f}' for x in b) + ')':<58}{bare_ms:>9.1f}")
    print(f"{'reference engine, under anneal-runner exec (runs: ' + ', '.join(f'{x:.1f}' for x in w) + ')':<58}{exec_ms:>9.1f}")
    print(f"{'reference engine, DDP 2 ranks x 1 thread':<58}{ddp:>9.1f}")
    print(f"{'built-in engine (DJL, PyTorch 2.7.1), 2 threads':<58}{builtin_ms:>9.1f}")
    spread = (max(b + w) - min(b + w)) / statistics.median(b + w)
    print(f"wrapper overhead (exec / bare): {exec_ms / bare_ms:.3f} (goal <= 1.02); the six runs spread over"
          f" {100 * spread:.0f}% of their median, so a ratio inside that says only that the overhead is smaller")
    print(f"reference engine / built-in engine: {bare_ms / builtin_ms:.2f}")
    print(f"2 ranks x 1 thread / 1 rank x 2 threads: {ddp / bare_ms:.2f}")
    print(f"(raw results: {tmp})")


if __name__ == "__main__":
    main()
