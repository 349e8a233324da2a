package dev.anneal.platform.api.pipelines;

import java.util.List;

/**
 * How a metric series is thinned for reading: each attempt's step range is cut into buckets of one
 * width, and a bucket reports its mean, min and max, so a spike survives as the max of its bucket.
 */
public final class Downsample {
  private Downsample() {}

  /** One attempt's share of a series: its step range and point count. */
  public record Range(int attempt, long lo, long hi, long count) {}

  /**
   * The bucket width in steps that keeps the series within {@code maxPoints} buckets in all, or 1
   * when the points fit as they are. Each attempt's last bucket may be partial, so the budget
   * leaves one bucket per attempt for that.
   */
  public static long width(List<Range> ranges, int maxPoints) {
    long total = ranges.stream().mapToLong(Range::count).sum();
    if (total <= maxPoints) return 1;
    long span = ranges.stream().mapToLong(r -> r.hi() - r.lo() + 1).sum();
    long budget = Math.max(1, maxPoints - ranges.size());
    return Math.max(1, (span + budget - 1) / budget);
  }

  /**
   * The bucket width, a multiple of {@code rollup} steps, that keeps a series read from rollup
   * buckets within {@code maxPoints}: each attempt's range is widened to whole rollup buckets
   * first, since a bucket of buckets starts at the attempt's first rollup bucket.
   */
  public static long rollupWidth(List<Range> ranges, int maxPoints, int rollup) {
    List<Range> aligned =
        ranges.stream()
            .map(
                r ->
                    new Range(
                        r.attempt(),
                        r.lo() / rollup * rollup,
                        r.hi() / rollup * rollup + rollup - 1,
                        Long.MAX_VALUE / (ranges.size() + 1)))
            .toList();
    long w = width(aligned, maxPoints);
    return (w + rollup - 1) / rollup * rollup;
  }
}
