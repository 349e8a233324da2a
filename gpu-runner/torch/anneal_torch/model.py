"""The LLaMA decoder of Anneal's built-in engine, in PyTorch, with its Hugging Face tensor names:
pre-norm RMSNorm, attention with rotary embeddings (rotate_half convention) over grouped KV heads,
SwiGLU, final norm, an LM head tied to the embedding or not. The arithmetic follows the Java
engine's (`Transformer.java`) step by step, so an `hf/` export of either engine gives the other the
same logits to float32 rounding."""

import json
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

# the built-in engine's presets (ModelShape.java): d, layers, heads, kv heads, max seq, vocab
PRESETS = {
    "tiny": (128, 4, 4, 2, 256, 1024),
    "small": (256, 12, 8, 4, 512, 4096),
    "micro": (32, 2, 4, 2, 64, 300),
}
MASKED = -1e9


@dataclass(frozen=True)
class Shape:
    d_model: int
    n_layers: int
    n_heads: int
    n_kv_heads: int
    ffn_hidden: int
    max_seq_len: int
    vocab_size: int
    tie_embeddings: bool = True
    rope_theta: float = 10000.0
    norm_eps: float = 1e-5

    def __post_init__(self):
        if self.d_model % self.n_heads:
            raise ValueError("nHeads must divide dModel")
        if self.n_heads % self.n_kv_heads:
            raise ValueError("nKvHeads must divide nHeads")
        if (self.d_model // self.n_heads) % 2:
            raise ValueError("the head size must be even for rotary embeddings")

    @property
    def head_dim(self):
        return self.d_model // self.n_heads

    @staticmethod
    def of(model):
        """A RunSpec's `model` section resolved against its preset, as ModelShape.of does."""
        preset = model.get("preset", "tiny")
        if preset not in PRESETS:
            raise ValueError(f"model.preset: unknown preset '{preset}' ({', '.join(PRESETS)})")
        d, layers, heads, kv, seq, vocab = PRESETS[preset]
        d = model.get("dModel") or d
        if model.get("nHeads") is not None:
            heads = model["nHeads"]
            kv = model.get("nKvHeads") or heads
        else:
            kv = model.get("nKvHeads") or kv
        layers = model.get("nLayers") or layers
        seq = model.get("maxSeqLen") or seq
        vocab = model.get("vocabSize") or vocab
        mult = model.get("ffnMult") or 8.0 / 3.0
        # Java's Math.round: half up
        hidden = int(math.floor(mult * d / 32.0 + 0.5)) * 32
        tie = model.get("tieEmbeddings")
        return Shape(d, layers, heads, kv, max(32, hidden), seq, vocab, True if tie is None else tie)

    def config(self):
        """The `config.json` of an `hf/` export (LlamaForCausalLM), as the Java engine writes it."""
        return {
            "architectures": ["LlamaForCausalLM"],
            "model_type": "llama",
            "hidden_size": self.d_model,
            "intermediate_size": self.ffn_hidden,
            "num_hidden_layers": self.n_layers,
            "num_attention_heads": self.n_heads,
            "num_key_value_heads": self.n_kv_heads,
            "head_dim": self.head_dim,
            "vocab_size": self.vocab_size,
            "max_position_embeddings": self.max_seq_len,
            "rms_norm_eps": self.norm_eps,
            "rope_theta": self.rope_theta,
            "tie_word_embeddings": self.tie_embeddings,
            "hidden_act": "silu",
            "attention_bias": False,
            "mlp_bias": False,
            "torch_dtype": "float32",
        }

    @staticmethod
    def from_config(config, where="config.json"):
        """The shape of a Hugging Face LLaMA `config.json`; refuses anything else."""
        c = json.loads(config) if isinstance(config, (bytes, str)) else config
        if c.get("model_type") != "llama":
            raise ValueError(f"{where}: model_type must be llama, got '{c.get('model_type')}'")
        if c.get("anneal_prefix_lm"):
            raise ValueError(f"{where}: a prefix-LM model; this engine trains causal models only")

        def need(k):
            if k not in c:
                raise ValueError(f"{where}: has no {k}")
            return c[k]

        heads = need("num_attention_heads")
        return Shape(
            need("hidden_size"),
            need("num_hidden_layers"),
            heads,
            c.get("num_key_value_heads", heads),
            need("intermediate_size"),
            c.get("max_position_embeddings", 2048),
            need("vocab_size"),
            c.get("tie_word_embeddings", True),
            float(c.get("rope_theta", 10000.0)),
            float(c.get("rms_norm_eps", 1e-5)),
        )


class RMSNorm(nn.Module):
    def __init__(self, d, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        ms = x.square().mean(-1, keepdim=True)
        return x / (ms + self.eps).sqrt() * self.weight


def rope(t, head_dim, theta, positions=None):
    """cos and sin `[t, head_dim]`, computed in float64 and rounded once, as the Java engine does."""
    half = head_dim // 2
    pos = torch.arange(t, dtype=torch.float64) if positions is None else positions.double()
    freq = 1.0 / torch.pow(torch.tensor(theta, dtype=torch.float64),
                           torch.arange(half, dtype=torch.float64) * 2.0 / head_dim)
    angle = pos[:, None] * freq[None, :]
    angle = torch.cat([angle, angle], dim=-1)
    return angle.cos().float(), angle.sin().float()


def rotate(x, cos, sin):
    half = x.shape[-1] // 2
    rotated = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
    return x * cos + rotated * sin


class Attention(nn.Module):
    def __init__(self, s):
        super().__init__()
        self.s = s
        self.q_proj = nn.Linear(s.d_model, s.n_heads * s.head_dim, bias=False)
        self.k_proj = nn.Linear(s.d_model, s.n_kv_heads * s.head_dim, bias=False)
        self.v_proj = nn.Linear(s.d_model, s.n_kv_heads * s.head_dim, bias=False)
        self.o_proj = nn.Linear(s.n_heads * s.head_dim, s.d_model, bias=False)

    def forward(self, x, mask, cos, sin):
        b, t, _ = x.shape
        s = self.s
        q = self.q_proj(x).view(b, t, s.n_heads, s.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(b, t, s.n_kv_heads, s.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(b, t, s.n_kv_heads, s.head_dim).transpose(1, 2)
        q, k = rotate(q, cos, sin), rotate(k, cos, sin)
        if s.n_kv_heads != s.n_heads:
            rep = s.n_heads // s.n_kv_heads
            k = k[:, :, None].expand(b, s.n_kv_heads, rep, t, s.head_dim).reshape(b, s.n_heads, t, s.head_dim)
            v = v[:, :, None].expand(b, s.n_kv_heads, rep, t, s.head_dim).reshape(b, s.n_heads, t, s.head_dim)
        scores = q @ k.transpose(2, 3) / math.sqrt(s.head_dim) + mask
        out = scores.softmax(-1) @ v
        return self.o_proj(out.transpose(1, 2).reshape(b, t, s.n_heads * s.head_dim))


class Mlp(nn.Module):
    def __init__(self, s):
        super().__init__()
        self.gate_proj = nn.Linear(s.d_model, s.ffn_hidden, bias=False)
        self.up_proj = nn.Linear(s.d_model, s.ffn_hidden, bias=False)
        self.down_proj = nn.Linear(s.ffn_hidden, s.d_model, bias=False)

    def forward(self, x):
        gate = self.gate_proj(x)
        return self.down_proj(gate * torch.sigmoid(gate) * self.up_proj(x))


class Layer(nn.Module):
    def __init__(self, s):
        super().__init__()
        self.input_layernorm = RMSNorm(s.d_model, s.norm_eps)
        self.self_attn = Attention(s)
        self.post_attention_layernorm = RMSNorm(s.d_model, s.norm_eps)
        self.mlp = Mlp(s)

    def forward(self, h, mask, cos, sin):
        h = h + self.self_attn(self.input_layernorm(h), mask, cos, sin)
        return h + self.mlp(self.post_attention_layernorm(h))


class Decoder(nn.Module):
    """`model.*` of the Hugging Face names."""

    def __init__(self, s):
        super().__init__()
        self.embed_tokens = nn.Embedding(s.vocab_size, s.d_model)
        self.layers = nn.ModuleList(Layer(s) for _ in range(s.n_layers))
        self.norm = RMSNorm(s.d_model, s.norm_eps)


class Llama(nn.Module):
    def __init__(self, s):
        super().__init__()
        self.shape = s
        self.model = Decoder(s)
        if not s.tie_embeddings:
            self.lm_head = nn.Linear(s.d_model, s.vocab_size, bias=False)

    def forward(self, tokens, mask=None):
        """Logits `[B, T, V]` for int64 tokens `[B, T]` under an additive mask (causal if none)."""
        t = tokens.shape[1]
        if mask is None:
            mask = causal_mask(t, tokens.device)
        cos, sin = rope(t, self.shape.head_dim, self.shape.rope_theta)
        cos, sin = cos.to(tokens.device), sin.to(tokens.device)
        h = self.model.embed_tokens(tokens)
        for layer in self.model.layers:
            h = layer(h, mask, cos, sin)
        h = self.model.norm(h)
        head = self.model.embed_tokens.weight if self.shape.tie_embeddings else self.lm_head.weight
        return F.linear(h, head)

    def hf_state(self):
        """Weights by Hugging Face name (the tied head is not repeated), float32 on the CPU."""
        return {k: v.detach().float().cpu() for k, v in self.state_dict().items()}

    def load_hf_state(self, weights, where="model.safetensors"):
        """Loads weights by Hugging Face name; a missing, extra or mis-shaped tensor is an error."""
        own = self.state_dict()
        missing = sorted(set(own) - set(weights))
        extra = sorted(set(weights) - set(own) - {"score.weight"})
        if missing or extra:
            raise ValueError(f"{where}: missing {missing[:5]}, unexpected {extra[:5]}")
        for k, v in own.items():
            if tuple(weights[k].shape) != tuple(v.shape):
                raise ValueError(f"{where}: {k} has shape {list(weights[k].shape)}, want {list(v.shape)}")
        self.load_state_dict({k: weights[k].to(v.dtype) for k, v in own.items()})


def causal_mask(t, device=None):
    """`[1, 1, T, T]`: 0 where position i sees j <= i, a large negative number elsewhere."""
    m = torch.full((t, t), MASKED)
    return torch.triu(m, diagonal=1).view(1, 1, t, t).to(device)


def init_weights(model, seed):
    """Seeded initialisation: normal(0, 0.02) matrices, projections into the residual scaled by
    1/sqrt(2 * layers) (GPT-2's), norms at 1."""
    g = torch.Generator().manual_seed(seed)
    scale = 0.02 / math.sqrt(2 * model.shape.n_layers)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                p.fill_(1.0)
            elif name.endswith("o_proj.weight") or name.endswith("down_proj.weight"):
                p.copy_(torch.randn(p.shape, generator=g) * scale)
            else:
                p.copy_(torch.randn(p.shape, generator=g) * 0.02)


def cross_entropy(logits, targets, weights=None):
    """Mean next-token cross-entropy over the weighted targets (all when `weights` is None)."""
    logp = logits.float().log_softmax(-1)
    picked = logp.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    if weights is None:
        return -picked.mean()
    return -(picked * weights).sum() / weights.sum().clamp(min=1)
