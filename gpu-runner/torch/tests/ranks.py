"""Starts the engine's ranks as the wrapper's local launcher does: one process a rank, each with
the rendezvous environment torchrun would set (Debian's torchrun crashes under Python 3.11)."""

import json
import os
import socket
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(spec, tokens, workdir, ranks=1, threads=1, extra_env=None, timeout=300):
    """Runs every rank to its end; returns (exit codes, metrics lines, stderr texts)."""
    os.makedirs(workdir, exist_ok=True)
    spec_path = os.path.join(workdir, "run-spec.json")
    with open(spec_path, "w") as f:
        json.dump(spec, f)
    metrics = os.path.join(workdir, "metrics.jsonl")
    port = str(free_port())
    procs = []
    for r in range(ranks):
        env = dict(os.environ)
        env.update({
            "RANK": str(r), "WORLD_SIZE": str(ranks), "LOCAL_RANK": str(r), "LOCAL_WORLD_SIZE": str(ranks),
            "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": port,
            "ANNEAL_RUN_SPEC": spec_path, "ANNEAL_TOKENS": tokens,
            "ANNEAL_CHECKPOINT_DIR": os.path.join(workdir, "checkpoints"),
            "ANNEAL_METRICS_FILE": metrics, "ANNEAL_THREADS": str(threads),
            "OMP_NUM_THREADS": str(threads), "PYTHONPATH": ROOT,
        })
        env.update(extra_env or {})
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "anneal_torch.train"], env=env, cwd=workdir,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    codes, errs = [], []
    for p in procs:
        out, err = p.communicate(timeout=timeout)
        codes.append(p.returncode)
        errs.append(err)
    lines = []
    if os.path.exists(metrics):
        with open(metrics) as f:
            lines = [json.loads(l) for l in f if l.strip()]
    return codes, lines, errs


def spec(steps=80, batch=8, seq=32, lr=1e-2, every=40, **extra):
    s = {
        "stage": "pretrain", "attempt": 1, "seed": 11, "device": "cpu",
        "model": {"preset": "micro"},
        "training": {"steps": steps, "batchSize": batch, "seqLen": seq, "lr": lr, "warmupFraction": 0.05},
        "checkpoint": {"everySteps": every},
    }
    s.update(extra)
    return s
