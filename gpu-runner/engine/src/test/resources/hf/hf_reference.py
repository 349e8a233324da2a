"""An independent forward pass of the LLaMA family, written from the architectures' definitions
(Hugging Face transformers' modeling_llama / modeling_mistral / modeling_qwen2 / modeling_qwen3),
in numpy and float64, reading a Hugging Face directory without any code of Anneal's.

    python3 hf_reference.py DIR TOKENS_JSON  ->  {"logits": [[...], ...]}  (one row per position)
"""
import json
import math
import os
import sys

import numpy as np


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8 : 8 + n])
    base = 8 + n
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        a, b = t["data_offsets"]
        buf = raw[base + a : base + b]
        if t["dtype"] == "F32":
            x = np.frombuffer(buf, dtype="<f4")
        elif t["dtype"] == "F16":
            x = np.frombuffer(buf, dtype="<f2")
        elif t["dtype"] == "BF16":
            # bfloat16 is the upper half of a float32
            x = (np.frombuffer(buf, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            raise ValueError(name + ": dtype " + t["dtype"])
        out[name] = x.astype(np.float64).reshape(t["shape"])
    return out


def read_weights(d):
    index = os.path.join(d, "model.safetensors.index.json")
    if os.path.exists(index):
        with open(index) as f:
            files = sorted(set(json.load(f)["weight_map"].values()))
        w = {}
        for name in files:
            w.update(read_safetensors(os.path.join(d, name)))
        return w
    return read_safetensors(os.path.join(d, "model.safetensors"))


def inverse_frequencies(cfg, head_dim):
    theta = cfg.get("rope_theta", 10000.0)
    inv = 1.0 / theta ** (np.arange(0, head_dim, 2, dtype=np.float64) / head_dim)
    scaling = cfg.get("rope_scaling")
    if not scaling:
        return inv
    kind = scaling.get("rope_type", scaling.get("type"))
    if kind == "default":
        return inv
    assert kind == "llama3", kind
    factor = scaling["factor"]
    low = scaling["low_freq_factor"]
    high = scaling["high_freq_factor"]
    old = scaling["original_max_position_embeddings"]
    wavelen = 2 * math.pi / inv
    out = np.empty_like(inv)
    for i, (f, w) in enumerate(zip(inv, wavelen)):
        if w < old / high:  # high frequencies: unchanged
            out[i] = f
        elif w > old / low:  # low frequencies: divided by the factor
            out[i] = f / factor
        else:  # in between: interpolated
            s = (old / w - low) / (high - low)
            out[i] = (1 - s) * f / factor + s * f
    return out


def rms_norm(x, w, eps):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w


def rotate(x, cos, sin):
    half = x.shape[-1] // 2
    rot = np.concatenate([-x[..., half:], x[..., :half]], axis=-1)
    return x * cos + rot * sin


def forward(d, tokens):
    with open(os.path.join(d, "config.json")) as f:
        cfg = json.load(f)
    kind = cfg["model_type"]
    w = read_weights(d)
    hidden = cfg["hidden_size"]
    heads = cfg["num_attention_heads"]
    kv_heads = cfg.get("num_key_value_heads", heads)
    head_dim = cfg.get("head_dim") or hidden // heads
    eps = cfg.get("rms_norm_eps", 1e-6)
    t = len(tokens)
    pos = np.arange(t, dtype=np.float64)
    angles = np.outer(pos, inverse_frequencies(cfg, head_dim))
    emb = np.concatenate([angles, angles], axis=-1)
    cos, sin = np.cos(emb), np.sin(emb)
    causal = np.triu(np.full((t, t), -np.inf), 1)

    def linear(x, name):
        y = x @ w[name + ".weight"].T
        if name + ".bias" in w:
            y = y + w[name + ".bias"]
        return y

    h = w["model.embed_tokens.weight"][tokens]
    for i in range(cfg["num_hidden_layers"]):
        p = "model.layers.%d." % i
        x = rms_norm(h, w[p + "input_layernorm.weight"], eps)
        q = linear(x, p + "self_attn.q_proj").reshape(t, heads, head_dim).transpose(1, 0, 2)
        k = linear(x, p + "self_attn.k_proj").reshape(t, kv_heads, head_dim).transpose(1, 0, 2)
        v = linear(x, p + "self_attn.v_proj").reshape(t, kv_heads, head_dim).transpose(1, 0, 2)
        if kind == "qwen3":  # per-head RMSNorm of queries and keys, before the rotation
            q = rms_norm(q, w[p + "self_attn.q_norm.weight"], eps)
            k = rms_norm(k, w[p + "self_attn.k_norm.weight"], eps)
        q, k = rotate(q, cos, sin), rotate(k, cos, sin)
        rep = heads // kv_heads
        k, v = np.repeat(k, rep, axis=0), np.repeat(v, rep, axis=0)
        s = q @ k.transpose(0, 2, 1) / math.sqrt(head_dim) + causal
        s = np.exp(s - s.max(axis=-1, keepdims=True))
        a = (s / s.sum(axis=-1, keepdims=True)) @ v
        h = h + linear(a.transpose(1, 0, 2).reshape(t, heads * head_dim), p + "self_attn.o_proj")
        x = rms_norm(h, w[p + "post_attention_layernorm.weight"], eps)
        gate = linear(x, p + "mlp.gate_proj")
        act = gate / (1 + np.exp(-gate))
        h = h + linear(act * linear(x, p + "mlp.up_proj"), p + "mlp.down_proj")
    h = rms_norm(h, w["model.norm.weight"], eps)
    head = w.get("lm_head.weight", w["model.embed_tokens.weight"])
    return h @ head.T


if __name__ == "__main__":
    logits = forward(sys.argv[1], json.loads(sys.argv[2]))
    json.dump({"logits": logits.tolist()}, sys.stdout)
