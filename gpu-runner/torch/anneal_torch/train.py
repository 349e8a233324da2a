"""The reference engine's training program: pre-training (next-token loss) of the LLaMA decoder
with DDP across the ranks the launcher started, speaking Anneal's engine contract (docs/engines.md).

In: the RunSpec (ANNEAL_RUN_SPEC), the token set (ANNEAL_TOKENS), the checkpoint to resume from
(ANNEAL_RESUME_FROM) or an `hf/` directory to start from (ANNEAL_INIT_FROM), where checkpoints go
(ANNEAL_CHECKPOINT_DIR) and metrics go (ANNEAL_METRICS_FILE), and the rendezvous as torchrun sets
it (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT). Out: one JSON line of metrics per
step, committed checkpoint directories, and the protocol's exit codes."""

import json
import math
import os
import signal
import sys
import time

import torch
import torch.distributed as dist

from . import data, model, safetensors

SUCCESS, CRASH, INVALID_SPEC, INPUT_MISSING, CORRUPT_CHECKPOINT, INSTABILITY, PREEMPTED = range(7)
COMMITTED = "COMMITTED"


class SpecError(ValueError):
    pass


def env(name, default=None, required=False):
    v = os.environ.get(name, default)
    if required and not v:
        raise SpecError(f"{name} is not set")
    return v


def lr_at(step, peak, warmup_fraction, total, min_ratio):
    """Linear warm-up, then cosine to min_ratio of the peak (the built-in engine's LrSchedule)."""
    warmup = min(max(1, round(warmup_fraction * total)), total)
    if step < warmup:
        return peak * (step + 1) / warmup
    low = peak * min_ratio
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return low + 0.5 * (peak - low) * (1 + math.cos(math.pi * progress))


def checkpoint_name(step):
    return f"step-{step:08d}"


def save_checkpoint(directory, step, batches, net, opt, tokenizer):
    """Writes a checkpoint directory; the COMMITTED marker goes last, so a half-written one is
    never taken for a checkpoint."""
    out = os.path.join(directory, checkpoint_name(step))
    tmp = out + ".partial"
    os.makedirs(tmp, exist_ok=True)
    safetensors.save(os.path.join(tmp, "model.safetensors"), net.hf_state(), {"format": "pt"})
    slots = {}
    names = {id(p): n for n, p in net.named_parameters()}
    for group in opt.param_groups:
        for p in group["params"]:
            st = opt.state.get(p)
            if st:
                n = names[id(p)]
                slots[n + ".exp_avg"] = st["exp_avg"]
                slots[n + ".exp_avg_sq"] = st["exp_avg_sq"]
    ordered = {k: slots[k] for k in sorted(slots, key=lambda k: (not k.endswith(".exp_avg"), k))}
    safetensors.save(os.path.join(tmp, "optimizer.safetensors"), ordered)
    with open(os.path.join(tmp, "trainer-state.json"), "w") as f:
        json.dump({"step": step, "batchesConsumed": batches, "optimizerSteps": step}, f)
    if tokenizer and os.path.exists(tokenizer):
        with open(tokenizer, "rb") as src, open(os.path.join(tmp, "tokenizer.json"), "wb") as dst:
            dst.write(src.read())
    if os.path.exists(out):
        import shutil

        shutil.rmtree(out)
    os.replace(tmp, out)
    with open(os.path.join(out, COMMITTED), "w") as f:
        f.write(str(step))
    return out


def load_checkpoint(path, net, opt):
    """Restores a committed checkpoint; returns its trainer state."""
    if not os.path.exists(os.path.join(path, COMMITTED)):
        raise FileNotFoundError(f"{path}: not a committed checkpoint (no {COMMITTED} marker)")
    weights, _ = safetensors.load(os.path.join(path, "model.safetensors"))
    net.load_hf_state(weights, f"{path}/model.safetensors")
    slots, _ = safetensors.load(os.path.join(path, "optimizer.safetensors"))
    with open(os.path.join(path, "trainer-state.json")) as f:
        state = json.load(f)
    for n, p in net.named_parameters():
        if n + ".exp_avg" in slots:
            opt.state[p] = {
                "step": torch.tensor(float(state["optimizerSteps"])),
                "exp_avg": slots[n + ".exp_avg"].to(p.device),
                "exp_avg_sq": slots[n + ".exp_avg_sq"].to(p.device),
            }
    return state


class Stop(Exception):
    pass


def main():
    rank = int(env("RANK", "0"))
    world = int(env("WORLD_SIZE", "1"))
    try:
        with open(env("ANNEAL_RUN_SPEC", required=True)) as f:
            spec = json.load(f)
        tokens = data.Tokens(env("ANNEAL_TOKENS", required=True))
    except (SpecError, ValueError, KeyError) as e:
        print(f"anneal-torch: {e}", file=sys.stderr)
        return INVALID_SPEC
    except (FileNotFoundError, data.DataError) as e:
        print(f"anneal-torch: {e}", file=sys.stderr)
        return INPUT_MISSING
    threads = int(env("ANNEAL_THREADS", "0"))
    if threads:
        torch.set_num_threads(threads)
    device = "cuda" if str(spec.get("device", "cpu")).startswith("cuda") else "cpu"
    if device == "cuda":
        if not torch.cuda.is_available():
            print("anneal-torch: device cuda was asked for but PyTorch sees 0 GPU(s)", file=sys.stderr)
            return INVALID_SPEC
        torch.cuda.set_device(int(env("LOCAL_RANK", "0")))
    if world > 1:
        dist.init_process_group("nccl" if device == "cuda" else "gloo", rank=rank, world_size=world)
    try:
        return train(spec, tokens, rank, world, device)
    finally:
        if world > 1 and dist.is_initialized():
            dist.destroy_process_group()


def train(spec, tokens, rank, world, device):
    tc = spec.get("training", {})
    steps = int(tc.get("steps", 100))
    rows = int(tc.get("batchSize", 8))
    seq = int(tc.get("seqLen", 64))
    peak = float(tc.get("lr", 3e-4))
    if rows % world:
        print(f"anneal-torch: training.batchSize {rows} is not a multiple of the {world} ranks", file=sys.stderr)
        return INVALID_SPEC
    stability = spec.get("stability", {}) or {}
    lr_factor = float(stability.get("lrFactor") or 1.0)
    windows = stability.get("skipWindows") or []
    inject = spec.get("inject", {}) or {}
    armed = int(spec.get("attempt", 1)) <= int(inject.get("untilAttempt") or 1)
    every = int((spec.get("checkpoint") or {}).get("everySteps", 50))
    seed = int(spec.get("seed", 1234))
    shape = model.Shape.of(spec.get("model", {}))
    if tokens.vocab_size > shape.vocab_size:
        print(f"anneal-torch: the tokens' vocabulary ({tokens.vocab_size}) exceeds the model's ({shape.vocab_size})", file=sys.stderr)
        return INVALID_SPEC

    net = model.Llama(shape)
    model.init_weights(net, seed)
    init = env("ANNEAL_INIT_FROM")
    if init:
        weights, _ = safetensors.load(os.path.join(init, "model.safetensors"))
        net.load_hf_state(weights, f"{init}/model.safetensors")
    net.to(device)
    decay = [p for n, p in net.named_parameters() if p.dim() >= 2]
    rest = [p for n, p in net.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": float(tc.get("weightDecay", 0.1))}, {"params": rest, "weight_decay": 0.0}],
        lr=peak,
        betas=(float(tc.get("beta1", 0.9)), float(tc.get("beta2", 0.95))),
        eps=float(tc.get("eps", 1e-8)),
    )
    start = 0
    resume = env("ANNEAL_RESUME_FROM")
    if resume:
        try:
            start = int(load_checkpoint(resume, net, opt)["step"])
        except (FileNotFoundError, ValueError) as e:
            print(f"anneal-torch: {e}", file=sys.stderr)
            return CORRUPT_CHECKPOINT
    ddp = torch.nn.parallel.DistributedDataParallel(net) if world > 1 else net

    ckpt_dir = env("ANNEAL_CHECKPOINT_DIR", "checkpoints")
    metrics = open(env("ANNEAL_METRICS_FILE", "metrics.jsonl"), "a") if rank == 0 else None
    tokenizer = env("ANNEAL_TOKENIZER")
    stop = {"signal": None}
    signal.signal(signal.SIGTERM, lambda s, f: stop.__setitem__("signal", s))
    clip = float(tc.get("gradClip", 1.0))
    per_rank = rows // world
    # pre-training learns every next token; SFT only the assistant's, of whole dialogues
    sft = spec.get("stage") == "sft"
    if sft and tokens.examples is None:
        print("anneal-torch: an sft stage needs an example set (dialogues and masks); got a text token set", file=sys.stderr)
        return INVALID_SPEC
    step = start
    try:
        for step in range(start, steps):
            if agreed(stop["signal"] is not None, world):
                raise Stop()
            if armed and inject.get("crashAtStep") is not None and step == int(inject["crashAtStep"]):
                print(f"FAULT INJECTION: crashing at step {step}", file=sys.stderr, flush=True)
                os._exit(CRASH)
            t0 = time.perf_counter()
            index = data.data_batch_index(step, windows)
            if sft:
                x, y, weights = data.sft_batch(tokens, seed, index, rows, seq, rank * per_rank, (rank + 1) * per_rank)
                weights = weights.to(device)
            else:
                x, y = data.batch(tokens, seed, index, rows, seq, rank * per_rank, (rank + 1) * per_rank)
                weights = None
            x, y = x.to(device), y.to(device)
            lr = lr_at(step, peak, float(tc.get("warmupFraction", 0.01)), steps, float(tc.get("minLrRatio", 0.1))) * lr_factor
            spike = inject.get("spikeAtStep")
            if armed and spike is not None and spike <= step < spike + int(inject.get("spikeSteps") or 5):
                lr *= float(inject.get("spikeLrMultiplier") or 100.0)
            for g in opt.param_groups:
                g["lr"] = lr
            if device == "cuda" and tc.get("precision") == "bf16-mixed":
                with torch.autocast("cuda", dtype=torch.bfloat16):
                    logits = ddp(x)
            else:
                logits = ddp(x)
            loss = model.cross_entropy(logits, y, weights)
            if armed and inject.get("nanAtStep") is not None and step == int(inject["nanAtStep"]):
                loss = loss * float("nan")
            opt.zero_grad(set_to_none=True)
            loss.backward()
            grad_norm = float(torch.nn.utils.clip_grad_norm_(net.parameters(), clip))
            reported = loss.detach().clone()
            if world > 1:
                dist.all_reduce(reported)
                reported /= world
            if math.isfinite(grad_norm):
                opt.step()
            if metrics:
                metrics.write(json.dumps({
                    "step": step, "data_batch": index, "loss": float(reported), "grad_norm": grad_norm,
                    "lr": lr, "tokens": rows * seq, "step_ms": (time.perf_counter() - t0) * 1000,
                }) + "\n")
                metrics.flush()
            if (step + 1) % every == 0 and (step + 1) < steps and rank == 0:
                save_checkpoint(ckpt_dir, step + 1, data.data_batch_index(step + 1, windows), net, opt, tokenizer)
            if world > 1 and (step + 1) % every == 0:
                dist.barrier()
    except Stop:
        if rank == 0:
            save_checkpoint(ckpt_dir, step, data.data_batch_index(step, windows), net, opt, tokenizer)
        return PREEMPTED
    digest = weights_sha256(net)
    if world > 1:
        digests = [None] * world
        dist.all_gather_object(digests, digest)
        if len(set(digests)) != 1:
            print(f"anneal-torch: the ranks' weights diverged: {digests}", file=sys.stderr)
            return CRASH
    if rank == 0:
        save_checkpoint(ckpt_dir, steps, data.data_batch_index(steps, windows), net, opt, tokenizer)
        metrics.write(json.dumps({"summary": {"weights_sha256": digest, "ranks": world}}) + "\n")
        metrics.close()
    if world > 1:
        dist.barrier()
    return SUCCESS


def agreed(flag, world):
    """Whether any rank saw the flag: every rank stops at the same step, or DDP would hang."""
    if world == 1:
        return flag
    t = torch.tensor([1.0 if flag else 0.0])
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())


def weights_sha256(net):
    """A digest of every weight's bytes, to check that the ranks hold the same model."""
    import hashlib

    h = hashlib.sha256()
    for name, t in sorted(net.hf_state().items()):
        h.update(name.encode())
        h.update(t.numpy().tobytes())
    return h.hexdigest()


if __name__ == "__main__":
    sys.exit(main())
