package dev.anneal.runner.rlhf;

/**
 * The KL penalty's coefficient: fixed, or the adaptive controller of Ziegler et al. (2019), which
 * moves it by the proportional error {@code clip(kl / target - 1, ±0.2)} scaled by {@code samples /
 * horizon}.
 */
final class KlController {
  private final Double target;
  private final long horizon;
  private double coef;

  KlController(double coef, Double target, long horizon) {
    this.coef = coef;
    this.target = target;
    this.horizon = horizon;
  }

  double coef() {
    return coef;
  }

  /** A checkpoint's coefficient. */
  void restore(double coef) {
    this.coef = coef;
  }

  /** After a step whose responses had mean KL {@code kl} over {@code samples} rows. */
  void observe(double kl, int samples) {
    if (target != null) coef = next(coef, kl, target, horizon, samples);
  }

  static double next(double coef, double kl, double target, long horizon, int samples) {
    double error = Math.max(-0.2, Math.min(0.2, kl / target - 1));
    return coef * (1 + error * samples / horizon);
  }
}
