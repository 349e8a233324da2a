package dev.anneal.runner.train;

import dev.anneal.protocol.TrainingConfig;

/**
 * GPT-3's batch-size ramp: rows per step grow linearly with the tokens seen, from the start size to
 * the target over {@code rampTokens}; always a multiple of the accumulation steps.
 */
public record BatchRamp(int start, int target, long rampTokens, int multiple) {

  public static BatchRamp of(TrainingConfig t) {
    if (t.batchRamp() == null) {
      return new BatchRamp(t.batchSize(), t.batchSize(), 1, t.gradAccum());
    }
    return new BatchRamp(
        t.batchRamp().startBatchSize(), t.batchSize(), t.batchRamp().rampTokens(), t.gradAccum());
  }

  public int rowsAt(long tokensSeen) {
    double f = Math.min(1.0, (double) tokensSeen / rampTokens);
    int rows = (int) Math.round(start + (target - start) * f);
    rows = Math.max(multiple, (rows / multiple) * multiple);
    return Math.min(rows, Math.max(multiple, (target / multiple) * multiple));
  }
}
