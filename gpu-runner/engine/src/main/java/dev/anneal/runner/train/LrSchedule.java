package dev.anneal.runner.train;

/**
 * Linear warm-up to the peak, then cosine decay to {@code minRatio} of the peak at the last step
 * (the LLM survey's recipe).
 */
public record LrSchedule(double peak, long warmupSteps, long totalSteps, double minRatio) {

  public static LrSchedule of(
      double peak, double warmupFraction, long totalSteps, double minRatio) {
    long warmup = Math.max(1, Math.round(warmupFraction * totalSteps));
    return new LrSchedule(peak, Math.min(warmup, totalSteps), totalSteps, minRatio);
  }

  /** The learning rate of (0-based) step {@code step}. */
  public double at(long step) {
    if (step < warmupSteps) {
      return peak * (step + 1) / warmupSteps;
    }
    double min = peak * minRatio;
    long decaySteps = Math.max(1, totalSteps - warmupSteps);
    double progress = Math.min(1.0, (double) (step - warmupSteps) / decaySteps);
    return min + 0.5 * (peak - min) * (1 + Math.cos(Math.PI * progress));
  }
}
