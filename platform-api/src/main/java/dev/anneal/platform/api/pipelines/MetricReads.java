package dev.anneal.platform.api.pipelines;

import dev.anneal.activities.metadata.EventIngestion;
import io.swagger.v3.oas.annotations.media.Schema;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * A stage's metric series for the API, downsampled in SQL (from the rollups when coarse enough).
 */
@Component
public class MetricReads {
  private final JdbcTemplate jdbc;

  public MetricReads(JdbcTemplate jdbc) {
    this.jdbc = jdbc;
  }

  /** A point, or a bucket of points: its step range, mean, min and max. */
  public record Point(
      int attempt,
      long step,
      long lastStep,
      @Schema(description = "when the bucket's first point was recorded, epoch seconds")
          double time,
      double value,
      double min,
      double max,
      long count) {}

  public record Series(String name, long bucketSteps, long points, List<Point> data) {}

  public record MetricsRead(String stage, int maxPoints, List<Series> series) {}

  public List<String> metricNames(UUID stage) {
    return jdbc.queryForList(
        "SELECT DISTINCT name FROM metrics WHERE stage_id = ? ORDER BY name", String.class, stage);
  }

  public Series series(
      UUID stage,
      String name,
      Long fromStep,
      Long toStep,
      Instant since,
      Instant until,
      int maxPoints) {
    Where where =
        new Where(" WHERE stage_id = ? AND name = ?", stage, name)
            .and("step >= ?", fromStep)
            .and("step <= ?", toStep)
            .and("recorded_at >= ?", since)
            .and("recorded_at < ?", until);
    boolean whole = fromStep == null && toStep == null && since == null && until == null;
    // the whole series: its extent from the rollups (a few hundred rows, not every point)
    List<Downsample.Range> ranges =
        jdbc.query(
            whole
                ? "SELECT attempt, min(first_step), max(last_step), sum(n) FROM metric_rollups"
                    + " WHERE stage_id = ? AND name = ? GROUP BY attempt ORDER BY attempt"
                : "SELECT attempt, min(step), max(step), count(*) FROM metrics"
                    + where.sql()
                    + " GROUP BY attempt ORDER BY attempt",
            (rs, i) ->
                new Downsample.Range(rs.getInt(1), rs.getLong(2), rs.getLong(3), rs.getLong(4)),
            whole ? new Object[] {stage, name} : where.args());
    long total = ranges.stream().mapToLong(Downsample.Range::count).sum();
    long width = Downsample.width(ranges, maxPoints);
    if (whole && total > maxPoints && width >= EventIngestion.ROLLUP_STEPS) {
      // buckets of whole rollup buckets
      long rollupWidth = Downsample.rollupWidth(ranges, maxPoints, EventIngestion.ROLLUP_STEPS);
      List<Point> data =
          jdbc.query(
              "SELECT attempt, (bucket - ("
                  + firstOfAttempt(ranges, EventIngestion.ROLLUP_STEPS)
                  + ")) / ? AS g, min(first_step), max(last_step), sum(total) / sum(n), min(lo),"
                  + " max(hi), sum(n), EXTRACT(EPOCH FROM min(first_time)) FROM metric_rollups"
                  + " WHERE stage_id = ? AND name = ? GROUP BY attempt, g ORDER BY attempt, g",
              BUCKET,
              rollupWidth / EventIngestion.ROLLUP_STEPS,
              stage,
              name);
      return new Series(name, rollupWidth, total, data);
    }
    if (width == 1 && total <= maxPoints) {
      List<Point> data =
          jdbc.query(
              "SELECT attempt, step, value, EXTRACT(EPOCH FROM recorded_at) FROM metrics"
                  + where.sql()
                  + " ORDER BY attempt, step",
              (rs, i) -> {
                double v = rs.getDouble(3);
                return new Point(
                    rs.getInt(1), rs.getLong(2), rs.getLong(2), rs.getDouble(4), v, v, v, 1);
              },
              where.args());
      return new Series(name, width, total, data);
    }
    // NaN sorts above every number in PostgreSQL, so a NaN point shows up as the bucket's max
    List<Point> data =
        jdbc.query(
            "SELECT attempt, b, min(step), max(step), avg(value), min(value), max(value),"
                + " count(*), EXTRACT(EPOCH FROM min(recorded_at))"
                + " FROM (SELECT attempt, step, value, recorded_at, (step - ("
                + firstOfAttempt(ranges, 1)
                + ")) / "
                + width
                + " AS b FROM metrics"
                + where.sql()
                + ") m GROUP BY attempt, b ORDER BY attempt, b",
            BUCKET,
            where.args());
    return new Series(name, width, total, data);
  }

  /**
   * A bucket of points, as both bucketed reads select it: attempt, bucket, first and last step,
   * mean, min, max, count, first time.
   */
  private static final org.springframework.jdbc.core.RowMapper<Point> BUCKET =
      (rs, i) ->
          new Point(
              rs.getInt(1),
              rs.getLong(3),
              rs.getLong(4),
              rs.getDouble(9),
              rs.getDouble(5),
              rs.getDouble(6),
              rs.getDouble(7),
              rs.getLong(8));

  /** SQL for each attempt's first step (divided by {@code unit}): where its buckets start. */
  private static String firstOfAttempt(List<Downsample.Range> ranges, int unit) {
    StringBuilder lo = new StringBuilder("CASE attempt");
    for (Downsample.Range r : ranges) {
      lo.append(" WHEN ").append(r.attempt()).append(" THEN ").append(r.lo() / unit);
    }
    return lo.append(" END").toString();
  }
}
