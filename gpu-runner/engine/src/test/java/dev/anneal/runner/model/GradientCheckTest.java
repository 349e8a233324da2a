package dev.anneal.runner.model;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.anneal.protocol.ModelConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Autograd against central finite differences in float64, once per block type, on a toy size. The
 * checked function is sum(block(x) * R) for a fixed random R, so every output element counts.
 */
class GradientCheckTest {

  private static final ModelShape TOY =
      ModelShape.of(new ModelConfig("micro", 16, 1, 4, 2, 2.0, 16, 23, false, "causal"));

  private NDManager manager;
  private Params params;

  @BeforeEach
  void setUp() {
    manager = NDManager.newBaseManager();
    params = Params.init(TOY, manager, 11, DataType.FLOAT64);
    // non-trivial norm weights, so their gradients are not all alike
    SplittableRandom rng = new SplittableRandom(3);
    for (String name : List.copyOf(params.all().keySet())) {
      if (name.endsWith("norm.weight")) {
        double[] w = new double[TOY.dModel()];
        for (int i = 0; i < w.length; i++) w[i] = 0.5 + rng.nextDouble();
        params.put(name, manager.create(w, new Shape(w.length)));
      }
    }
  }

  @AfterEach
  void tearDown() {
    manager.close();
  }

  private NDArray randomInput(long... shape) {
    SplittableRandom rng = new SplittableRandom(5);
    int n = (int) new Shape(shape).size();
    double[] v = new double[n];
    for (int i = 0; i < n; i++) v[i] = rng.nextDouble() * 2 - 1;
    return manager.create(v, new Shape(shape));
  }

  /** Checks d f / d param for a few entries of each named parameter. */
  private void check(Function<NDManager, NDArray> f, String... names) {
    params.requireGradients();
    double[][] analytic = new double[names.length][];
    try (NDManager step = manager.newSubManager();
        GradientCollector gc = Engine.getInstance().newGradientCollector()) {
      NDArray y = f.apply(step);
      gc.backward(y);
      for (int i = 0; i < names.length; i++) {
        analytic[i] = params.get(names[i]).getGradient().toDoubleArray();
      }
    }
    for (int i = 0; i < names.length; i++) {
      assertThat(java.util.Arrays.stream(analytic[i]).map(Math::abs).max().orElse(0))
          .as("gradient of %s is not all zero", names[i])
          .isGreaterThan(1e-6);
    }
    double h = 1e-6;
    List<String> failures = new ArrayList<>();
    for (int i = 0; i < names.length; i++) {
      NDArray original = params.get(names[i]);
      double[] values = original.toDoubleArray();
      Shape shape = original.getShape();
      for (int idx : new int[] {0, values.length / 3, values.length / 2, values.length - 1}) {
        double[] plus = values.clone();
        double[] minus = values.clone();
        plus[idx] += h;
        minus[idx] -= h;
        double fp = eval(f, names[i], plus, shape);
        double fm = eval(f, names[i], minus, shape);
        double numeric = (fp - fm) / (2 * h);
        double err =
            Math.abs(numeric - analytic[i][idx])
                / Math.max(1e-6, Math.abs(numeric) + Math.abs(analytic[i][idx]));
        if (err > 1e-5) {
          failures.add(
              names[i] + "[" + idx + "]: autograd " + analytic[i][idx] + " vs numeric " + numeric);
        }
      }
      params.put(names[i], manager.create(values, shape));
      params.get(names[i]).setRequiresGradient(true);
    }
    assertThat(failures).isEmpty();
  }

  private double eval(Function<NDManager, NDArray> f, String name, double[] values, Shape shape) {
    params.put(name, manager.create(values, shape));
    try (NDManager step = manager.newSubManager()) {
      return f.apply(step).toDoubleArray()[0];
    }
  }

  private static NDArray weightedSum(NDArray out, NDManager m) {
    SplittableRandom rng = new SplittableRandom(9);
    double[] r = new double[(int) out.getShape().size()];
    for (int i = 0; i < r.length; i++) r[i] = rng.nextDouble() - 0.5;
    return out.mul(m.create(r, out.getShape())).sum();
  }

  @Test
  void rmsNorm() {
    NDArray x = randomInput(2, 3, TOY.dModel());
    check(
        m -> weightedSum(Transformer.rmsNorm(x, params.get("model.norm.weight"), 1e-5), m),
        "model.norm.weight");
  }

  @Test
  void swiGluMlp() {
    NDArray x = randomInput(2, 3, TOY.dModel());
    String l = "model.layers.0.mlp.";
    check(
        m -> weightedSum(Transformer.swiGlu(params, l, x), m),
        l + "gate_proj.weight",
        l + "up_proj.weight",
        l + "down_proj.weight");
  }

  @Test
  void groupedQueryAttentionWithRopeCausalAndPrefix() {
    Transformer model = new Transformer(TOY);
    NDArray x = randomInput(2, 5, TOY.dModel());
    String l = "model.layers.0.self_attn.";
    for (int[] prefix : new int[][] {null, {3, 1}}) {
      check(
          m -> {
            NDArray mask = Transformer.mask(m, 2, 5, prefix, DataType.FLOAT64);
            Rope rope = Rope.of(m, TOY.headDim(), 5, 10000, DataType.FLOAT64);
            return weightedSum(model.attention(params, l, x, mask, rope), m);
          },
          l + "q_proj.weight",
          l + "k_proj.weight",
          l + "v_proj.weight",
          l + "o_proj.weight");
    }
  }

  @Test
  void wholeModelWithCrossEntropy() {
    Transformer model = new Transformer(TOY);
    long[] tokens = {1, 5, 7, 2, 22, 3, 9, 0, 4, 4};
    long[] targets = {5, 7, 2, 22, 3, 9, 0, 4, 4, 1};
    float[] weights = {1, 1, 1, 1, 1, 0, 1, 1, 1, 1};
    check(
        m -> {
          NDArray tok = m.create(tokens, new Shape(2, 5));
          NDArray mask = Transformer.mask(m, 2, 5, null, DataType.FLOAT64);
          NDArray logits = model.logits(params, tok, mask);
          return Transformer.crossEntropy(
              logits,
              m.create(targets, new Shape(2, 5)),
              m.create(weights, new Shape(2, 5)).toType(DataType.FLOAT64, false));
        },
        "model.embed_tokens.weight",
        "lm_head.weight",
        "model.norm.weight",
        "model.layers.0.input_layernorm.weight",
        "model.layers.0.post_attention_layernorm.weight");
  }
}
