package dev.anneal.runner.train;

/**
 * Finite loss, non-finite gradient: the update is skipped, as a loss scaler would skip it, and
 * training goes on; {@code limit} such steps in a row are a gradient explosion (docs/engine.md). A
 * healthy update ends the run of skips.
 */
public final class NonFiniteGuard {
  private final int limit;
  private int inARow;
  private long total;

  public NonFiniteGuard(int limit) {
    this.limit = limit;
  }

  /** Counts one skipped update; true when the run of skips has reached the limit. */
  public boolean skip() {
    inARow++;
    total++;
    return exhausted();
  }

  /** A healthy update: the run of skips is over. */
  public void reset() {
    inARow = 0;
  }

  public boolean exhausted() {
    return inARow >= limit;
  }

  public int inARow() {
    return inARow;
  }

  /** Updates skipped in this attempt. */
  public long total() {
    return total;
  }
}
