package dev.anneal.runner.train;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import java.util.LinkedHashMap;
import java.util.Map;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;

/** The fused update against AdamW written out by hand, over several steps. */
class AdamWTest {

  @Test
  void matchesTheTextbookUpdateWithDecoupledDecayOnMatricesOnly() {
    double lr = 0.01, b1 = 0.9, b2 = 0.95, eps = 1e-8, wd = 0.1, scale = 0.5;
    float[] w0 = {0.5f, -1f, 2f, 0.25f};
    float[] n0 = {1f, 2f};
    try (NDManager m = NDManager.newBaseManager();
        AdamW opt = new AdamW(m, b1, b2, eps, wd)) {
      NDArray w = m.create(w0, new ai.djl.ndarray.types.Shape(2, 2));
      NDArray n = m.create(n0);
      double[] ew = toD(w0), en = toD(n0);
      double[] mw = new double[4], vw = new double[4], mn = new double[2], vn = new double[2];
      for (int t = 1; t <= 5; t++) {
        float[] gw = {0.1f * t, -0.2f, 0.3f, -0.05f * t};
        float[] gn = {0.7f, -0.1f * t};
        Map<String, NDArray> params = new LinkedHashMap<>();
        params.put("w", w);
        params.put("n", n);
        Map<String, NDArray> grads = new LinkedHashMap<>();
        grads.put("w", m.create(gw, new ai.djl.ndarray.types.Shape(2, 2)));
        grads.put("n", m.create(gn));
        opt.step(params, grads, lr, scale);
        step(ew, mw, vw, toD(gw), t, lr, b1, b2, eps, wd, scale);
        step(en, mn, vn, toD(gn), t, lr, b1, b2, eps, 0, scale);
      }
      float[] gotW = w.toFloatArray();
      float[] gotN = n.toFloatArray();
      for (int i = 0; i < 4; i++)
        assertThat((double) gotW[i]).isCloseTo(ew[i], Offset.offset(1e-5));
      for (int i = 0; i < 2; i++)
        assertThat((double) gotN[i]).isCloseTo(en[i], Offset.offset(1e-5));
    }
  }

  @Test
  void nativeZeroGradClearsAccumulatedGradients() {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray w = m.create(new float[] {1, 2});
      w.setRequiresGradient(true);
      for (int i = 0; i < 2; i++) {
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
          gc.backward(w.mul(3).sum());
        }
      }
      assertThat(w.getGradient().toFloatArray()).containsExactly(6, 6);
      JniUtils.zeroGrad((PtNDArray) w);
      assertThat(w.getGradient().toFloatArray()).containsExactly(0, 0);
    }
  }

  private static void step(
      double[] p,
      double[] m,
      double[] v,
      double[] g,
      int t,
      double lr,
      double b1,
      double b2,
      double eps,
      double wd,
      double scale) {
    for (int i = 0; i < p.length; i++) {
      double gi = g[i] * scale;
      p[i] -= lr * wd * p[i];
      m[i] = b1 * m[i] + (1 - b1) * gi;
      v[i] = b2 * v[i] + (1 - b2) * gi * gi;
      double mh = m[i] / (1 - Math.pow(b1, t));
      double vh = v[i] / (1 - Math.pow(b2, t));
      p[i] -= lr * mh / (Math.sqrt(vh) + eps);
    }
  }

  private static double[] toD(float[] f) {
    double[] d = new double[f.length];
    for (int i = 0; i < f.length; i++) d[i] = f[i];
    return d;
  }
}
