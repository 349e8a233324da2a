package dev.anneal.runner.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The model's weights by their Hugging Face {@code LlamaForCausalLM} names, so a checkpoint's
 * safetensors file loads there. Linear weights are {@code [out, in]}, as in PyTorch.
 */
public final class Params implements AutoCloseable {

  private final NDManager manager;
  private final Map<String, NDArray> tensors = new LinkedHashMap<>();

  private Params(NDManager manager) {
    this.manager = manager;
  }

  public static Params empty(NDManager parent) {
    return new Params(parent.newSubManager());
  }

  /**
   * Fresh weights: N(0, 0.02) for matrices, the residual output projections scaled by 1/sqrt(2 *
   * layers) (GPT-2), ones for norms. Drawn on the host from the seed, so the same seed gives the
   * same model on any device.
   */
  public static Params init(ModelShape s, NDManager parent, long seed, DataType dtype) {
    Params p = new Params(parent.newSubManager());
    SplittableRandom rng = new SplittableRandom(seed);
    double residual = 0.02 / Math.sqrt(2.0 * s.nLayers());
    int kvDim = s.nKvHeads() * s.headDim();
    p.put("model.embed_tokens.weight", p.normal(rng, 0.02, dtype, s.vocabSize(), s.dModel()));
    for (int i = 0; i < s.nLayers(); i++) {
      String l = "model.layers." + i + ".";
      p.put(l + "input_layernorm.weight", p.ones(dtype, s.dModel()));
      p.put(l + "self_attn.q_proj.weight", p.normal(rng, 0.02, dtype, s.qDim(), s.dModel()));
      p.put(l + "self_attn.k_proj.weight", p.normal(rng, 0.02, dtype, kvDim, s.dModel()));
      p.put(l + "self_attn.v_proj.weight", p.normal(rng, 0.02, dtype, kvDim, s.dModel()));
      p.put(l + "self_attn.o_proj.weight", p.normal(rng, residual, dtype, s.dModel(), s.qDim()));
      if (s.arch().qkvBias()) {
        p.put(l + "self_attn.q_proj.bias", p.zeros(dtype, s.qDim()));
        p.put(l + "self_attn.k_proj.bias", p.zeros(dtype, kvDim));
        p.put(l + "self_attn.v_proj.bias", p.zeros(dtype, kvDim));
      }
      if (s.arch().outBias()) p.put(l + "self_attn.o_proj.bias", p.zeros(dtype, s.dModel()));
      if (s.arch().qkNorm()) {
        p.put(l + "self_attn.q_norm.weight", p.ones(dtype, s.headDim()));
        p.put(l + "self_attn.k_norm.weight", p.ones(dtype, s.headDim()));
      }
      p.put(l + "post_attention_layernorm.weight", p.ones(dtype, s.dModel()));
      p.put(l + "mlp.gate_proj.weight", p.normal(rng, 0.02, dtype, s.ffnHidden(), s.dModel()));
      p.put(l + "mlp.up_proj.weight", p.normal(rng, 0.02, dtype, s.ffnHidden(), s.dModel()));
      p.put(l + "mlp.down_proj.weight", p.normal(rng, residual, dtype, s.dModel(), s.ffnHidden()));
    }
    p.put("model.norm.weight", p.ones(dtype, s.dModel()));
    if (!s.tieEmbeddings()) {
      p.put("lm_head.weight", p.normal(rng, 0.02, dtype, s.vocabSize(), s.dModel()));
    }
    return p;
  }

  private NDArray normal(SplittableRandom rng, double std, DataType dtype, long rows, long cols) {
    int n = Math.toIntExact(rows * cols);
    double[] values = new double[n];
    for (int i = 0; i < n; i++) {
      values[i] = gaussian(rng) * std;
    }
    NDArray doubles = Host.owned(manager.create(values, new Shape(rows, cols)));
    if (dtype == DataType.FLOAT64) {
      return doubles;
    }
    NDArray cast = doubles.toType(dtype, false);
    doubles.close();
    return cast;
  }

  private NDArray ones(DataType dtype, long n) {
    return manager.ones(new Shape(n), dtype);
  }

  private NDArray zeros(DataType dtype, long n) {
    return manager.zeros(new Shape(n), dtype);
  }

  private static double gaussian(SplittableRandom rng) {
    // Box-Muller: SplittableRandom has no nextGaussian on Java 17
    double u1 = rng.nextDouble();
    double u2 = rng.nextDouble();
    return Math.sqrt(-2.0 * Math.log(1.0 - u1)) * Math.cos(2.0 * Math.PI * u2);
  }

  /** Adds (or replaces) a tensor, taking ownership of it. */
  public void put(String name, NDArray value) {
    value.attach(manager);
    NDArray old = tensors.put(name, value);
    if (old != null && old != value) {
      old.close();
    }
  }

  public NDArray get(String name) {
    NDArray a = tensors.get(name);
    if (a == null) {
      throw new IllegalArgumentException("no parameter named " + name);
    }
    return a;
  }

  public Map<String, NDArray> all() {
    return Collections.unmodifiableMap(tensors);
  }

  public NDManager manager() {
    return manager;
  }

  /**
   * Weight decay applies to matrices (embeddings included, as in GPT-2), never to norms or biases.
   */
  public static boolean decays(NDArray value) {
    return value.getShape().dimension() >= 2;
  }

  public void requireGradients() {
    for (NDArray a : tensors.values()) {
      a.setRequiresGradient(true);
    }
  }

  public long count() {
    return tensors.values().stream().mapToLong(a -> a.getShape().size()).sum();
  }

  @Override
  public void close() {
    manager.close();
  }
}
