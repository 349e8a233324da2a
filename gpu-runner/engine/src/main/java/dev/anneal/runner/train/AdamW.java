package dev.anneal.runner.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.anneal.runner.model.Host;
import dev.anneal.runner.model.Params;
import java.util.List;
import java.util.Map;

/**
 * AdamW (Loshchilov and Hutter): Adam moments with bias correction, and weight decay applied to the
 * weights directly (decoupled), on matrices only.
 */
public final class AdamW extends SlotOptimizer {

  private final double beta1;
  private final double beta2;
  private final double eps;
  private final double weightDecay;

  public AdamW(NDManager parent, double beta1, double beta2, double eps, double weightDecay) {
    super(parent, List.of("exp_avg", "exp_avg_sq"));
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.eps = eps;
    this.weightDecay = weightDecay;
  }

  @Override
  public void step(
      Map<String, NDArray> params, Map<String, NDArray> grads, double lr, double gradScale) {
    long t = nextStep();
    double c1 = 1 - Math.pow(beta1, t);
    double c2 = 1 - Math.pow(beta2, t);
    try (NDManager tmp = manager.newSubManager()) {
      for (var e : params.entrySet()) {
        String name = e.getKey();
        NDArray p = e.getValue();
        NDArray g = grads.get(name);
        NDArray gs = g.mul(gradScale);
        gs.attach(tmp);
        NDArray mi = slot("exp_avg", name, p);
        NDArray vi = slot("exp_avg_sq", name, p);
        mi.muli(beta1).addi(Host.attached(gs.mul(1 - beta1), tmp));
        vi.muli(beta2).addi(Host.attached(gs.square().muli(1 - beta2), tmp));
        if (weightDecay > 0 && Params.decays(p)) {
          p.subi(Host.attached(p.mul(lr * weightDecay), tmp));
        }
        NDArray vHat = Host.attached(vi.div(c2), tmp);
        NDArray denom = Host.attached(vHat.sqrt().addi(eps), tmp);
        p.subi(Host.attached(mi.div(denom).muli(lr / c1), tmp));
      }
    }
  }
}
