package dev.anneal.runner.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.anneal.runner.model.Host;
import dev.anneal.runner.model.Params;
import java.util.List;
import java.util.Map;

/**
 * Adafactor (Shazeer and Stern) without momentum: second moments of matrices are kept factored as
 * row and column means, decay 1 - t^-0.8, updates clipped to RMS 1; with the given (external)
 * learning rate and decoupled weight decay on matrices.
 */
public final class Adafactor extends SlotOptimizer {

  private static final double EPS1 = 1e-30;
  private static final double CLIP = 1.0;

  private final double weightDecay;

  public Adafactor(NDManager parent, double weightDecay) {
    super(parent, List.of("row", "col", "v"));
    this.weightDecay = weightDecay;
  }

  @Override
  public void step(
      Map<String, NDArray> params, Map<String, NDArray> grads, double lr, double gradScale) {
    long t = nextStep();
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
          NDArray row = slot("row", name, p, new Shape(p.getShape().get(0), 1));
          NDArray col = slot("col", name, p, new Shape(1, p.getShape().get(1)));
          NDArray rowMean = g2.mean(new int[] {1}, true);
          NDArray colMean = g2.mean(new int[] {0}, true);
          rowMean.attach(tmp);
          colMean.attach(tmp);
          row.muli(beta2).addi(Host.attached(rowMean.mul(1 - beta2), tmp));
          col.muli(beta2).addi(Host.attached(colMean.mul(1 - beta2), tmp));
          NDArray vHat = Host.attached(row.matMul(col).div(row.mean()), tmp);
          update = Host.attached(g.div(vHat.sqrt()), tmp);
        } else {
          NDArray vec = slot("v", name, p);
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
}
