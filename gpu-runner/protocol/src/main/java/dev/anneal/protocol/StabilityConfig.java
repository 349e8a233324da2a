package dev.anneal.protocol;

import java.util.List;

/**
 * What the runner watches for, and the data it must skip on this attempt. A step is anomalous when
 * its loss exceeds the running window's mean by {@code spikeZ} standard deviations or by the factor
 * {@code spikeRatio}; {@code spikeConsecutive} anomalous steps in a row are a spike. NaN or
 * infinite loss or gradients, or a gradient norm above {@code gradNormLimit}, trigger at once. Skip
 * windows are half-open ranges of global batch indices {@code [fromBatch, toBatch)} chosen by the
 * platform's rollback planner (PaLM restarted ~100 steps before a spike and skipped 200-500
 * batches).
 */
public record StabilityConfig(
    Double spikeZ,
    Double spikeRatio,
    Integer spikeConsecutive,
    Integer spikeWindow,
    Double gradNormLimit,
    Integer ignoreFirstSteps,
    Double lrFactor,
    List<BatchWindow> skipWindows) {

  public record BatchWindow(Long fromBatch, Long toBatch) {
    public BatchWindow {
      Checks.nonNegative("fromBatch", Checks.present("fromBatch", fromBatch));
      Checks.present("toBatch", toBatch);
      if (toBatch <= fromBatch) {
        throw new IllegalArgumentException(
            "toBatch: must be > fromBatch (" + fromBatch + "), got " + toBatch);
      }
    }

    public boolean contains(long batch) {
      return batch >= fromBatch && batch < toBatch;
    }
  }

  public StabilityConfig {
    spikeZ = Checks.orDefault(spikeZ, 6.0);
    spikeRatio = Checks.orDefault(spikeRatio, 1.5);
    spikeConsecutive = Checks.orDefault(spikeConsecutive, 3);
    spikeWindow = Checks.orDefault(spikeWindow, 50);
    gradNormLimit = Checks.orDefault(gradNormLimit, 100.0);
    ignoreFirstSteps = Checks.orDefault(ignoreFirstSteps, 20);
    lrFactor = Checks.orDefault(lrFactor, 1.0);
    skipWindows = skipWindows == null ? List.of() : List.copyOf(skipWindows);
    Checks.positive("spikeZ", spikeZ);
    if (!(spikeRatio > 1)) {
      throw new IllegalArgumentException("spikeRatio: must be > 1, got " + spikeRatio);
    }
    Checks.positive("spikeConsecutive", spikeConsecutive);
    Checks.positive("spikeWindow", spikeWindow);
    Checks.positive("gradNormLimit", gradNormLimit);
    Checks.nonNegative("ignoreFirstSteps", ignoreFirstSteps);
    Checks.range("lrFactor", lrFactor, 1e-6, 1);
  }

  public static StabilityConfig defaults() {
    return new StabilityConfig(null, null, null, null, null, null, null, null);
  }

  public boolean skips(long batch) {
    return skipWindows.stream().anyMatch(w -> w.contains(batch));
  }
}
