"""Writes a toy Hugging Face checkpoint of the Qwen3 or Llama layout, as transformers'
save_pretrained lays one out (config.json, bf16 safetensors shards with
model.safetensors.index.json, tokenizer.json, tokenizer_config.json), in numpy, with no code of
Anneal's: an independent writer for the import's tests.

    python3 write_toy_checkpoint.py FAMILY DIR [SEED [TOKENIZER_DIR]]

With TOKENIZER_DIR (a model's tokenizer.json and tokenizer_config.json), the checkpoint takes that
tokenizer, and its vocabulary size from it.
"""
import json
import os
import shutil
import sys

import numpy as np

HIDDEN, HEADS, KV_HEADS, LAYERS, FFN = 32, 4, 2, 2, 64
SPECIALS = ["<|endoftext|>", "<|pad|>", "<|system|>", "<|user|>", "<|assistant|>", "<|end|>"]


def bytes_to_unicode():
    """GPT-2's printable stand-ins for the 256 byte values (the ByteLevel alphabet)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(
        range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


def tokenizer():
    """Byte-level BPE with the 256 bytes, no merges, and the chat specials after them."""
    vocab = {ch: i for i, ch in enumerate(bytes_to_unicode()[b] for b in range(256))}
    added = []
    for s in SPECIALS:
        vocab[s] = len(vocab)
        added.append({"id": vocab[s], "content": s, "single_word": False, "lstrip": False,
                      "rstrip": False, "normalized": False, "special": True})
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                  "use_regex": True}
    return {"version": "1.0", "truncation": None, "padding": None, "added_tokens": added,
            "normalizer": None, "pre_tokenizer": byte_level, "post_processor": None,
            "decoder": byte_level,
            "model": {"type": "BPE", "dropout": None, "unk_token": None,
                      "continuing_subword_prefix": None, "end_of_word_suffix": None,
                      "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                      "vocab": vocab, "merges": []}}


def config(family, vocab):
    c = {"hidden_act": "silu", "hidden_size": HIDDEN, "intermediate_size": FFN,
         "num_hidden_layers": LAYERS, "num_attention_heads": HEADS,
         "num_key_value_heads": KV_HEADS, "vocab_size": vocab, "torch_dtype": "bfloat16",
         "initializer_range": 0.02, "use_cache": True, "attention_dropout": 0.0,
         "eos_token_id": vocab - 1}
    if family == "qwen3":
        c.update({"architectures": ["Qwen3ForCausalLM"], "model_type": "qwen3",
                  "attention_bias": False, "head_dim": 16, "max_position_embeddings": 40960,
                  "max_window_layers": 28, "rms_norm_eps": 1e-6, "rope_scaling": None,
                  "rope_theta": 1000000, "sliding_window": None, "use_sliding_window": False,
                  "tie_word_embeddings": True})
    else:
        c.update({"architectures": ["LlamaForCausalLM"], "model_type": "llama",
                  "attention_bias": False, "mlp_bias": False, "head_dim": HIDDEN // HEADS,
                  "max_position_embeddings": 131072, "pretraining_tp": 1, "rms_norm_eps": 1e-5,
                  "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                                   "original_max_position_embeddings": 8192,
                                   "rope_type": "llama3"},
                  "rope_theta": 500000.0, "tie_word_embeddings": False})
    return c


def tensors(family, vocab, rng):
    hd = 16 if family == "qwen3" else HIDDEN // HEADS
    t = {"model.embed_tokens.weight": rng.normal(0, 0.02, (vocab, HIDDEN))}
    for i in range(LAYERS):
        p = "model.layers.%d." % i
        t[p + "input_layernorm.weight"] = np.ones(HIDDEN)
        t[p + "post_attention_layernorm.weight"] = np.ones(HIDDEN)
        t[p + "self_attn.q_proj.weight"] = rng.normal(0, 0.02, (HEADS * hd, HIDDEN))
        t[p + "self_attn.k_proj.weight"] = rng.normal(0, 0.02, (KV_HEADS * hd, HIDDEN))
        t[p + "self_attn.v_proj.weight"] = rng.normal(0, 0.02, (KV_HEADS * hd, HIDDEN))
        t[p + "self_attn.o_proj.weight"] = rng.normal(0, 0.02, (HIDDEN, HEADS * hd))
        if family == "qwen3":
            t[p + "self_attn.q_norm.weight"] = np.ones(hd)
            t[p + "self_attn.k_norm.weight"] = np.ones(hd)
        t[p + "mlp.gate_proj.weight"] = rng.normal(0, 0.02, (FFN, HIDDEN))
        t[p + "mlp.up_proj.weight"] = rng.normal(0, 0.02, (FFN, HIDDEN))
        t[p + "mlp.down_proj.weight"] = rng.normal(0, 0.02, (HIDDEN, FFN))
    t["model.norm.weight"] = np.ones(HIDDEN)
    if family != "qwen3":
        t["lm_head.weight"] = rng.normal(0, 0.02, (vocab, HIDDEN))
    return t


def bf16(x):
    """Round-to-nearest-even float32 → bfloat16 bits."""
    bits = np.asarray(x, dtype=np.float32).view(np.uint32)
    return ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype("<u2")


def write_safetensors(path, named):
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name, x in named:
        data = bf16(x).tobytes()
        header[name] = {"dtype": "BF16", "shape": list(x.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(len(h).to_bytes(8, "little"))
        f.write(h)
        for b in blobs:
            f.write(b)


def main(family, out, seed, tokenizer_dir=None):
    os.makedirs(out, exist_ok=True)
    if tokenizer_dir:
        with open(os.path.join(tokenizer_dir, "tokenizer.json")) as f:
            tok = json.load(f)
        ids = list(tok["model"]["vocab"].values()) + [t["id"] for t in tok["added_tokens"]]
        vocab = max(ids) + 1
    else:
        tok = tokenizer()
        vocab = len(tok["model"]["vocab"]) + 2  # a little padding, as real vocabularies have
    rng = np.random.default_rng(seed)
    named = list(tensors(family, vocab, rng).items())
    half = len(named) // 2
    shards = [named[:half], named[half:]]
    weight_map, total = {}, 0
    for i, shard in enumerate(shards):
        name = "model-%05d-of-%05d.safetensors" % (i + 1, len(shards))
        write_safetensors(os.path.join(out, name), shard)
        for n, x in shard:
            weight_map[n] = name
            total += 2 * x.size
    with open(os.path.join(out, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config(family, vocab), f, indent=2)
    if tokenizer_dir:
        for name in ("tokenizer.json", "tokenizer_config.json"):
            shutil.copy(os.path.join(tokenizer_dir, name), os.path.join(out, name))
        return
    with open(os.path.join(out, "tokenizer.json"), "w") as f:
        json.dump(tok, f)
    with open(os.path.join(out, "tokenizer_config.json"), "w") as f:
        json.dump({"tokenizer_class": "PreTrainedTokenizerFast", "eos_token": "<|end|>",
                   "pad_token": "<|pad|>", "model_max_length": 4096}, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 0,
         sys.argv[4] if len(sys.argv) > 4 else None)
