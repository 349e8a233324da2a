package dev.anneal.runner.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.anneal.runner.model.Host;
import dev.anneal.runner.model.Params;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * AdamW (Loshchilov and Hutter): Adam moments with bias correction, and weight decay applied to the
 * weights directly (decoupled), on matrices only.
 */
public final class AdamW implements Optimizer {

  private final NDManager manager;
  private final double beta1;
  private final double beta2;
  private final double eps;
  private final double weightDecay;
  private final Map<String, NDArray> m = new LinkedHashMap<>();
  private final Map<String, NDArray> v = new LinkedHashMap<>();
  private long t;

  public AdamW(NDManager parent, double beta1, double beta2, double eps, double weightDecay) {
    this.manager = parent.newSubManager();
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.eps = eps;
    this.weightDecay = weightDecay;
  }

  @Override
  public void step(
      Map<String, NDArray> params, Map<String, NDArray> grads, double lr, double gradScale) {
    t++;
    double c1 = 1 - Math.pow(beta1, t);
    double c2 = 1 - Math.pow(beta2, t);
    try (NDManager tmp = manager.newSubManager()) {
      for (var e : params.entrySet()) {
        String name = e.getKey();
        NDArray p = e.getValue();
        NDArray g = grads.get(name);
        NDArray gs = g.mul(gradScale);
        gs.attach(tmp);
        NDArray mi = m.computeIfAbsent(name, k -> zerosLike(p));
        NDArray vi = v.computeIfAbsent(name, k -> zerosLike(p));
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

  private NDArray zerosLike(NDArray p) {
    return manager.zeros(p.getShape(), p.getDataType(), p.getDevice());
  }

  @Override
  public long steps() {
    return t;
  }

  @Override
  public Map<String, NDArray> state() {
    Map<String, NDArray> s = new LinkedHashMap<>();
    m.forEach((k, a) -> s.put(k + ".exp_avg", a));
    v.forEach((k, a) -> s.put(k + ".exp_avg_sq", a));
    return s;
  }

  @Override
  public void load(Map<String, NDArray> state, long steps) {
    state.forEach(
        (k, a) -> {
          NDArray copy = a.duplicate();
          copy.attach(manager);
          if (k.endsWith(".exp_avg")) {
            m.put(k.substring(0, k.length() - ".exp_avg".length()), copy);
          } else if (k.endsWith(".exp_avg_sq")) {
            v.put(k.substring(0, k.length() - ".exp_avg_sq".length()), copy);
          } else {
            throw new IllegalArgumentException("optimizer state: unexpected tensor " + k);
          }
        });
    this.t = steps;
  }

  @Override
  public void close() {
    manager.close();
  }
}
