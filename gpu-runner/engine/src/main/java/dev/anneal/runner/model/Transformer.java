package dev.anneal.runner.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Embedding;
import ai.djl.nn.core.Linear;

/**
 * The LLaMA decoder as plain functions of {@link Params}: token embedding, per layer pre-norm
 * RMSNorm → attention with rotary embeddings (grouped KV heads) → residual → RMSNorm → SwiGLU →
 * residual, final norm, LM head (tied to the embedding or not). Every intermediate array is made in
 * the manager of the input, so a per-step sub-manager frees them all.
 */
public final class Transformer {

  private final ModelShape shape;

  public Transformer(ModelShape shape) {
    this.shape = shape;
  }

  public ModelShape shape() {
    return shape;
  }

  /** Logits {@code [B, T, V]} for tokens {@code [B, T]} (int64) under an additive mask. */
  public NDArray logits(Params p, NDArray tokens, NDArray mask) {
    NDArray h = hidden(p, tokens, mask);
    NDArray head =
        shape.tieEmbeddings() ? p.get("model.embed_tokens.weight") : p.get("lm_head.weight");
    return Linear.linear(h, head).singletonOrThrow();
  }

  /** Final hidden states {@code [B, T, d]} after the last norm. */
  public NDArray hidden(Params p, NDArray tokens, NDArray mask) {
    long t = tokens.getShape().get(1);
    NDArray h =
        Embedding.embedding(tokens, p.get("model.embed_tokens.weight"), SparseFormat.DENSE)
            .singletonOrThrow();
    Rope rope =
        Rope.of(
            tokens.getManager(),
            shape.headDim(),
            t,
            shape.ropeTheta(),
            shape.arch().ropeScaling(),
            h.getDataType());
    for (int i = 0; i < shape.nLayers(); i++) {
      String l = "model.layers." + i + ".";
      NDArray a = rmsNorm(h, p.get(l + "input_layernorm.weight"), shape.normEps());
      h = h.add(attention(p, l + "self_attn.", a, mask, rope));
      NDArray m = rmsNorm(h, p.get(l + "post_attention_layernorm.weight"), shape.normEps());
      h = h.add(swiGlu(p, l + "mlp.", m));
    }
    return rmsNorm(h, p.get("model.norm.weight"), shape.normEps());
  }

  /**
   * Inference forward with explicit positions and a key-padding-aware mask, optionally over a KV
   * cache: {@code tokens} {@code [B, t]} are the new tokens, {@code positions} their rotary
   * positions per row, {@code mask} {@code [B, 1, t, cached + t]}. With a cache, each layer's keys
   * and values of the new tokens are appended to it, so the next call feeds only the next token.
   * Returns the logits {@code [B, t, V]}. No autograd is involved unless the caller records.
   */
  public NDArray logitsAt(
      Params p, NDArray tokens, long[][] positions, NDArray mask, KvCache cache) {
    NDArray h =
        Embedding.embedding(tokens, p.get("model.embed_tokens.weight"), SparseFormat.DENSE)
            .singletonOrThrow();
    Rope rope =
        Rope.ofPositions(
            tokens.getManager(),
            shape.headDim(),
            positions,
            shape.ropeTheta(),
            shape.arch().ropeScaling(),
            h.getDataType());
    for (int i = 0; i < shape.nLayers(); i++) {
      String l = "model.layers." + i + ".";
      NDArray a = rmsNorm(h, p.get(l + "input_layernorm.weight"), shape.normEps());
      h = h.add(attention(p, l + "self_attn.", a, mask, rope, cache, i, true));
      NDArray m = rmsNorm(h, p.get(l + "post_attention_layernorm.weight"), shape.normEps());
      h = h.add(swiGlu(p, l + "mlp.", m));
    }
    if (cache != null) {
      cache.advance(tokens.getShape().get(1));
    }
    h = rmsNorm(h, p.get("model.norm.weight"), shape.normEps());
    NDArray head =
        shape.tieEmbeddings() ? p.get("model.embed_tokens.weight") : p.get("lm_head.weight");
    return Linear.linear(h, head).singletonOrThrow();
  }

  /** RMSNorm: x / sqrt(mean(x^2) + eps) * w, over the last axis. */
  public static NDArray rmsNorm(NDArray x, NDArray weight, double eps) {
    NDArray ms = x.square().mean(new int[] {-1}, true);
    return x.div(ms.add(Host.scalar(ms, eps)).sqrt()).mul(weight);
  }

  /** Attention scores over sqrt(headDim), the divisor an array autograd can keep (see Host). */
  private static NDArray scaled(NDArray scores, long headDim) {
    return scores.div(Host.scalar(scores, Math.sqrt(headDim)));
  }

  /** SwiGLU: down(silu(gate(x)) * up(x)). */
  public static NDArray swiGlu(Params p, String prefix, NDArray x) {
    NDArray gate = Linear.linear(x, p.get(prefix + "gate_proj.weight")).singletonOrThrow();
    NDArray up = Linear.linear(x, p.get(prefix + "up_proj.weight")).singletonOrThrow();
    NDArray silu = gate.mul(Activation.sigmoid(gate));
    return Linear.linear(silu.mul(up), p.get(prefix + "down_proj.weight")).singletonOrThrow();
  }

  /** Multi-head attention with grouped KV heads and rotary embeddings (HF convention). */
  public NDArray attention(Params p, String prefix, NDArray x, NDArray mask, Rope rope) {
    return attention(p, prefix, x, mask, rope, null, 0, false);
  }

  private NDArray attention(
      Params p,
      String prefix,
      NDArray x,
      NDArray mask,
      Rope rope,
      KvCache cache,
      int layer,
      boolean inference) {
    long b = x.getShape().get(0);
    long t = x.getShape().get(1);
    int hd = shape.headDim();
    int nh = shape.nHeads();
    int nkv = shape.nKvHeads();
    NDArray q = project(p, prefix + "q_proj", x, shape.arch().qkvBias()).reshape(b, t, nh, hd);
    NDArray k = project(p, prefix + "k_proj", x, shape.arch().qkvBias()).reshape(b, t, nkv, hd);
    NDArray v = project(p, prefix + "v_proj", x, shape.arch().qkvBias()).reshape(b, t, nkv, hd);
    if (shape.arch().qkNorm()) {
      // Qwen3: each head's queries and keys are RMS-normalised before the rotation
      q = rmsNorm(q, p.get(prefix + "q_norm.weight"), shape.normEps());
      k = rmsNorm(k, p.get(prefix + "k_norm.weight"), shape.normEps());
    }
    q = q.transpose(0, 2, 1, 3);
    k = k.transpose(0, 2, 1, 3);
    v = v.transpose(0, 2, 1, 3);
    q = rope.apply(q);
    k = rope.apply(k);
    if (cache != null) {
      NDArray[] kv = cache.append(layer, k, v);
      k = kv[0];
      v = kv[1];
    }
    long tk = k.getShape().get(2);
    if (inference && nkv != nh) {
      // grouped attention without copying the keys and values per head: the query heads of a
      // group share one key/value head
      int rep = nh / nkv;
      NDArray qg = q.reshape(b, nkv, (long) rep * t, hd);
      NDArray sc = scaled(qg.matMul(k.transpose(0, 1, 3, 2)), hd).reshape(b, nkv, rep, t, tk);
      if (mask != null) {
        sc = sc.add(mask.expandDims(2));
      }
      NDArray o = sc.softmax(-1).reshape(b, nkv, (long) rep * t, tk).matMul(v);
      o = o.reshape(b, nh, t, hd).transpose(0, 2, 1, 3).reshape(b, t, (long) nh * hd);
      return project(p, prefix + "o_proj", o, shape.arch().outBias());
    }
    if (nkv != nh) {
      int rep = nh / nkv;
      k = k.expandDims(2).broadcast(new Shape(b, nkv, rep, tk, hd)).reshape(b, nh, tk, hd);
      v = v.expandDims(2).broadcast(new Shape(b, nkv, rep, tk, hd)).reshape(b, nh, tk, hd);
    }
    NDArray scores = scaled(q.matMul(k.transpose(0, 1, 3, 2)), hd);
    if (mask != null) {
      scores = scores.add(mask);
    }
    NDArray out = scores.softmax(-1).matMul(v).transpose(0, 2, 1, 3).reshape(b, t, (long) nh * hd);
    return project(p, prefix + "o_proj", out, shape.arch().outBias());
  }

  /** {@code x W^T (+ b)}: a projection, with its bias when the architecture has one. */
  private static NDArray project(Params p, String name, NDArray x, boolean bias) {
    return (bias
            ? Linear.linear(x, p.get(name + ".weight"), p.get(name + ".bias"))
            : Linear.linear(x, p.get(name + ".weight")))
        .singletonOrThrow();
  }

  /**
   * Additive attention mask {@code [B, 1, T, T]}: 0 where a query may look, a large negative number
   * elsewhere. Position i sees j when j <= i (causal) or when both lie in the sample's prefix
   * (prefix LM: bidirectional over the prefix, causal after it).
   *
   * @param prefixLengths per sample, or null for a causal mask
   */
  public static NDArray mask(NDManager m, int batch, int t, int[] prefixLengths, DataType dtype) {
    int rows = prefixLengths == null ? 1 : batch;
    float[] values = new float[rows * t * t];
    for (int r = 0; r < rows; r++) {
      int prefix = prefixLengths == null ? 0 : prefixLengths[r];
      for (int i = 0; i < t; i++) {
        for (int j = 0; j < t; j++) {
          boolean visible = j <= i || (i < prefix && j < prefix);
          values[(r * t + i) * t + j] = visible ? 0f : -1e9f;
        }
      }
    }
    NDArray mask = Host.floats(m, values, new Shape(rows, 1, t, t));
    return dtype == DataType.FLOAT32 ? mask : mask.toType(dtype, false);
  }

  /**
   * {@code [B, 1, t, t]}: causal within each packed sample, nothing across samples; {@code
   * segments} ({@code B * t}) is each position's sample id.
   */
  public static NDArray segmentMask(NDManager m, int batch, int t, int[] segments, DataType dtype) {
    float[] values = new float[batch * t * t];
    for (int r = 0; r < batch; r++) {
      for (int i = 0; i < t; i++) {
        for (int j = 0; j < t; j++) {
          boolean visible = j <= i && segments[r * t + i] == segments[r * t + j];
          values[(r * t + i) * t + j] = visible ? 0f : -1e9f;
        }
      }
    }
    NDArray mask = Host.floats(m, values, new Shape(batch, 1, t, t));
    return dtype == DataType.FLOAT32 ? mask : mask.toType(dtype, false);
  }

  /**
   * Mean cross-entropy of next-token predictions: logits {@code [B, T, V]}, targets {@code [B, T]}
   * (int64), weights {@code [B, T]} (1 where the target counts, 0 for prefix or padding).
   */
  public static NDArray crossEntropy(NDArray logits, NDArray targets, NDArray weights) {
    NDArray logProbs = logits.logSoftmax(-1);
    NDArray picked = logProbs.gather(targets.expandDims(-1), -1).squeeze(-1);
    return picked.mul(weights).sum().neg().div(weights.sum().maximum(1));
  }
}
