package dev.anneal.runner.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.anneal.runner.model.Host;
import dev.anneal.runner.model.Params;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Adafactor (Shazeer and Stern) without momentum: second moments of matrices are kept factored as
 * row and column means, decay 1 - t^-0.8, updates clipped to RMS 1; with the given (external)
 * learning rate and decoupled weight decay on matrices.
 */
public final class Adafactor implements Optimizer {

  private static final double EPS1 = 1e-30;
  private static final double CLIP = 1.0;

  private final NDManager manager;
  private final double weightDecay;
  private final Map<String, NDArray> state = new LinkedHashMap<>();
  private long t;

  public Adafactor(NDManager parent, double weightDecay) {
    this.manager = parent.newSubManager();
    this.weightDecay = weightDecay;
  }

  @Override
  public void step(
      Map<String, NDArray> params, Map<String, NDArray> grads, double lr, double gradScale) {
    t++;
    double beta2 = 1 - Math.pow(t, -0.8);
    try (NDManager tmp = manager.newSubManager()) {
      for (var e : params.entrySet()) {
        String name = e.getKey();
        NDArray p = e.getValue();
        NDArray g = grads.get(name).mul(gradScale);
        g.attach(tmp);
        NDArray g2 = g.square().add(EPS1);
        g2.attach(tmp);
        NDArray update;
        if (p.getShape().dimension() == 2) {
          NDArray row =
              state.computeIfAbsent(
                  name + ".row",
                  k ->
                      manager.zeros(
                          new ai.djl.ndarray.types.Shape(p.getShape().get(0), 1),
                          p.getDataType(),
                          p.getDevice()));
          NDArray col =
              state.computeIfAbsent(
                  name + ".col",
                  k ->
                      manager.zeros(
                          new ai.djl.ndarray.types.Shape(1, p.getShape().get(1)),
                          p.getDataType(),
                          p.getDevice()));
          NDArray rowMean = g2.mean(new int[] {1}, true);
          NDArray colMean = g2.mean(new int[] {0}, true);
          rowMean.attach(tmp);
          colMean.attach(tmp);
          row.muli(beta2).addi(Host.attached(rowMean.mul(1 - beta2), tmp));
          col.muli(beta2).addi(Host.attached(colMean.mul(1 - beta2), tmp));
          NDArray vHat = Host.attached(row.matMul(col).div(row.mean()), tmp);
          update = Host.attached(g.div(vHat.sqrt()), tmp);
        } else {
          NDArray vec =
              state.computeIfAbsent(
                  name + ".v", k -> manager.zeros(p.getShape(), p.getDataType(), p.getDevice()));
          vec.muli(beta2).addi(Host.attached(g2.mul(1 - beta2), tmp));
          update = Host.attached(g.div(vec.sqrt()), tmp);
        }
        double rms = Math.sqrt(update.square().mean().getFloat());
        double denom = Math.max(1.0, rms / CLIP);
        if (weightDecay > 0 && Params.decays(p)) {
          p.subi(Host.attached(p.mul(lr * weightDecay), tmp));
        }
        p.subi(Host.attached(update.mul(lr / denom), tmp));
      }
    }
  }

  @Override
  public long steps() {
    return t;
  }

  @Override
  public Map<String, NDArray> state() {
    return new LinkedHashMap<>(state);
  }

  @Override
  public void load(Map<String, NDArray> loaded, long steps) {
    loaded.forEach(
        (k, a) -> {
          NDArray copy = a.duplicate();
          copy.attach(manager);
          state.put(k, copy);
        });
    this.t = steps;
  }

  @Override
  public void close() {
    manager.close();
  }
}
