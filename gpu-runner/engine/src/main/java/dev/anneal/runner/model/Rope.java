package dev.anneal.runner.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/** Rotary position embeddings, HF LLaMA convention: rotate_half over the two halves. */
public record Rope(NDArray cos, NDArray sin) {

  static Rope of(NDManager m, int headDim, long t, double theta, DataType dtype) {
    int half = headDim / 2;
    float[] cos = new float[(int) t * headDim];
    float[] sin = new float[(int) t * headDim];
    for (int pos = 0; pos < t; pos++) {
      for (int i = 0; i < half; i++) {
        double freq = 1.0 / Math.pow(theta, (2.0 * i) / headDim);
        double angle = pos * freq;
        cos[pos * headDim + i] = (float) Math.cos(angle);
        cos[pos * headDim + i + half] = (float) Math.cos(angle);
        sin[pos * headDim + i] = (float) Math.sin(angle);
        sin[pos * headDim + i + half] = (float) Math.sin(angle);
      }
    }
    Shape s = new Shape(t, headDim);
    NDArray c = Host.floats(m, cos, s);
    NDArray sn = Host.floats(m, sin, s);
    return dtype == DataType.FLOAT32
        ? new Rope(c, sn)
        : new Rope(c.toType(dtype, false), sn.toType(dtype, false));
  }

  /** Per-row positions: cos and sin {@code [B, 1, t, headDim]}. */
  static Rope ofPositions(
      NDManager m, int headDim, long[][] positions, double theta, DataType dtype) {
    int b = positions.length;
    int t = positions[0].length;
    int half = headDim / 2;
    float[] cos = new float[b * t * headDim];
    float[] sin = new float[b * t * headDim];
    for (int r = 0; r < b; r++) {
      for (int j = 0; j < t; j++) {
        int base = (r * t + j) * headDim;
        for (int i = 0; i < half; i++) {
          double angle = positions[r][j] * (1.0 / Math.pow(theta, (2.0 * i) / headDim));
          cos[base + i] = (float) Math.cos(angle);
          cos[base + i + half] = (float) Math.cos(angle);
          sin[base + i] = (float) Math.sin(angle);
          sin[base + i + half] = (float) Math.sin(angle);
        }
      }
    }
    Shape s = new Shape(b, 1, t, headDim);
    NDArray c = Host.floats(m, cos, s);
    NDArray sn = Host.floats(m, sin, s);
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
