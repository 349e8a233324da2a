package dev.anneal.runner.stability;

import dev.anneal.protocol.RunnerEvent.InstabilityKind;
import dev.anneal.protocol.StabilityConfig;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Optional;

/**
 * Watches every step's loss and gradient norm. Non-finite values and a gradient norm above the
 * limit trigger at once; a loss spike needs {@code spikeConsecutive} anomalous steps in a row,
 * where anomalous means above the running window's mean by {@code spikeZ} standard deviations or by
 * the factor {@code spikeRatio}. Anomalous steps stay out of the window, so a spike cannot raise
 * its own baseline.
 */
public final class InstabilityDetector {

  /** Why training must stop: what, where, and which data batches are the suspects. */
  public record Trigger(
      InstabilityKind kind,
      long step,
      double value,
      double threshold,
      long firstBatch,
      long lastBatch,
      String message) {}

  /** The detector's state, saved in checkpoints so a resumed run judges like the original. */
  public record State(List<Double> window, int consecutive, long firstAnomalousBatch, double ema) {}

  private final StabilityConfig config;
  private final Deque<Double> window = new ArrayDeque<>();
  private int consecutive;
  private long firstAnomalousBatch = -1;
  private double ema = Double.NaN;

  public InstabilityDetector(StabilityConfig config) {
    this.config = config;
  }

  /** A trigger of this step alone: {@code what} happened at it, on its batch. */
  private static Optional<Trigger> at(
      long step, long batch, InstabilityKind kind, double value, double threshold, String what) {
    return Optional.of(
        new Trigger(kind, step, value, threshold, batch, batch, what + " at step " + step));
  }

  public Optional<Trigger> observe(long step, long dataBatch, double loss, double gradNorm) {
    if (!Double.isFinite(loss)) {
      return at(step, dataBatch, InstabilityKind.NON_FINITE_LOSS, loss, 0, "loss is " + loss);
    }
    double limit = config.gradNormLimit();
    if (!Double.isFinite(gradNorm)) {
      String why = "gradient norm is " + gradNorm;
      return at(step, dataBatch, InstabilityKind.GRADIENT_EXPLOSION, gradNorm, limit, why);
    }
    if (gradNorm > limit) {
      String why = String.format("gradient norm %.4g above the limit %.4g", gradNorm, limit);
      return at(step, dataBatch, InstabilityKind.GRADIENT_EXPLOSION, gradNorm, limit, why);
    }
    int minWindow = Math.min(10, config.spikeWindow());
    if (step >= config.ignoreFirstSteps() && window.size() >= minWindow) {
      double mean = mean();
      double std = Math.sqrt(variance(mean));
      double threshold = Math.min(mean + config.spikeZ() * std, config.spikeRatio() * mean);
      if (loss > threshold) {
        if (consecutive == 0) {
          firstAnomalousBatch = dataBatch;
        }
        consecutive++;
        if (consecutive >= config.spikeConsecutive()) {
          return Optional.of(
              new Trigger(
                  InstabilityKind.LOSS_SPIKE,
                  step,
                  loss,
                  threshold,
                  firstAnomalousBatch,
                  dataBatch,
                  String.format(
                      "loss %.4g above %.4g (window mean %.4g, std %.3g) for %d steps"
                          + " ending at step %d",
                      loss, threshold, mean, std, consecutive, step)));
        }
        return Optional.empty();
      }
    }
    consecutive = 0;
    firstAnomalousBatch = -1;
    window.addLast(loss);
    while (window.size() > config.spikeWindow()) {
      window.removeFirst();
    }
    ema = Double.isNaN(ema) ? loss : 0.9 * ema + 0.1 * loss;
    return Optional.empty();
  }

  /** Whether the newest step was anomalous (part of a possible spike). */
  public boolean inAnomaly() {
    return consecutive > 0;
  }

  public double mean() {
    return window.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
  }

  public double variance() {
    return variance(mean());
  }

  private double variance(double mean) {
    if (window.size() < 2) return 0;
    double s = 0;
    for (double x : window) s += (x - mean) * (x - mean);
    return s / (window.size() - 1);
  }

  public double ema() {
    return ema;
  }

  public State state() {
    return new State(new ArrayList<>(window), consecutive, firstAnomalousBatch, ema);
  }

  public void restore(State s) {
    window.clear();
    window.addAll(s.window());
    consecutive = s.consecutive();
    firstAnomalousBatch = s.firstAnomalousBatch();
    ema = s.ema();
  }
}
