package dev.anneal.runner.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.anneal.protocol.HfModelConfig;

/** Rotary position embeddings, HF LLaMA convention: rotate_half over the two halves. */
public record Rope(NDArray cos, NDArray sin) {

  static Rope of(NDManager m, int headDim, long t, double theta, DataType dtype) {
    return of(m, headDim, t, theta, null, dtype);
  }

  /** cos and sin {@code [t, headDim]} for positions 0 to t - 1. */
  static Rope of(
      NDManager m,
      int headDim,
      long t,
      double theta,
      HfModelConfig.RopeScaling scaling,
      DataType dtype) {
    long[][] positions = new long[1][(int) t];
    for (int pos = 0; pos < t; pos++) positions[0][pos] = pos;
    float[][] cs = table(headDim, positions, inverseFrequencies(headDim, theta, scaling));
    return rope(m, cs, new Shape(t, headDim), dtype);
  }

  /** Per-row positions: cos and sin {@code [B, 1, t, headDim]}. */
  static Rope ofPositions(
      NDManager m,
      int headDim,
      long[][] positions,
      double theta,
      HfModelConfig.RopeScaling scaling,
      DataType dtype) {
    float[][] cs = table(headDim, positions, inverseFrequencies(headDim, theta, scaling));
    return rope(m, cs, new Shape(positions.length, 1, positions[0].length, headDim), dtype);
  }

  /**
   * The rotation's frequency per pair of dimensions, {@code theta^(-2i / headDim)}, with Llama 3's
   * scaling applied when given (transformers' {@code _compute_llama3_parameters}).
   */
  public static double[] inverseFrequencies(
      int headDim, double theta, HfModelConfig.RopeScaling scaling) {
    double[] inv = new double[headDim / 2];
    for (int i = 0; i < inv.length; i++) {
      inv[i] = 1.0 / Math.pow(theta, (2.0 * i) / headDim);
      if (scaling == null) continue;
      double old = scaling.originalMaxPositions();
      double wavelen = 2 * Math.PI / inv[i];
      if (wavelen > old / scaling.lowFreqFactor()) {
        inv[i] = inv[i] / scaling.factor();
      } else if (wavelen >= old / scaling.highFreqFactor()) {
        double smooth =
            (old / wavelen - scaling.lowFreqFactor())
                / (scaling.highFreqFactor() - scaling.lowFreqFactor());
        inv[i] = (1 - smooth) * inv[i] / scaling.factor() + smooth * inv[i];
      }
    }
    return inv;
  }

  /** cos and sin of every row's positions, each frequency on both halves. */
  private static float[][] table(int headDim, long[][] positions, double[] inv) {
    int b = positions.length;
    int t = positions[0].length;
    int half = headDim / 2;
    float[] cos = new float[b * t * headDim];
    float[] sin = new float[b * t * headDim];
    for (int r = 0; r < b; r++) {
      for (int j = 0; j < t; j++) {
        int base = (r * t + j) * headDim;
        for (int i = 0; i < half; i++) {
          double angle = positions[r][j] * inv[i];
          cos[base + i] = (float) Math.cos(angle);
          cos[base + i + half] = (float) Math.cos(angle);
          sin[base + i] = (float) Math.sin(angle);
          sin[base + i + half] = (float) Math.sin(angle);
        }
      }
    }
    return new float[][] {cos, sin};
  }

  private static Rope rope(NDManager m, float[][] cs, Shape s, DataType dtype) {
    NDArray c = Host.floats(m, cs[0], s);
    NDArray sn = Host.floats(m, cs[1], s);
    return dtype == DataType.FLOAT32
        ? new Rope(c, sn)
        : new Rope(c.toType(dtype, false), sn.toType(dtype, false));
  }

  /** x {@code [B, H, T, hd]} → x * cos + rotate_half(x) * sin. */
  NDArray apply(NDArray x) {
    long hd = x.getShape().get(3);
    long half = hd / 2;
    NDArray x1 = x.get(new NDIndex(":, :, :, :{}", half));
    NDArray x2 = x.get(new NDIndex(":, :, :, {}:", half));
    NDArray rotated = NDArrays.concat(new NDList(x2.neg(), x1), -1);
    return x.mul(cos).add(rotated.mul(sin));
  }
}
