package dev.anneal.activities.metadata;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.anneal.protocol.EventBatch;
import dev.anneal.protocol.ProtocolJson;
import dev.anneal.protocol.RunnerEvent;
import dev.anneal.workflows.api.status.CheckpointState;
import java.sql.PreparedStatement;
import java.sql.Timestamp;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

/**
 * Runner events into the metadata: each event once per (attempt, sequence number), so a runner that
 * re-sends a batch changes nothing; its metric points (with their rollups, see {@code
 * V4__metric_rollups.sql}) and committed checkpoints; the stage's current step; the attempt RUNNING
 * once its first events arrive.
 */
public final class EventIngestion {

  /** What one ingestion did. */
  public record Ingested(int accepted, int duplicates, long lastSeq, boolean terminal) {}

  private final Sql sql;
  private volatile boolean keepRollups = true;

  EventIngestion(Sql sql) {
    this.sql = sql;
  }

  /**
   * For measuring what the rollups cost ingestion ({@code ./anneal bench api}): off, points are
   * stored without them and downsampled reads of those points are wrong. Never off in service.
   */
  public void keepRollups(boolean keep) {
    this.keepRollups = keep;
  }

  /** Steps per metric rollup bucket (see V4__metric_rollups.sql). */
  public static final int ROLLUP_STEPS = 16;

  private record RollupKey(String name, long bucket) implements Comparable<RollupKey> {
    @Override
    public int compareTo(RollupKey o) {
      // a fixed order: concurrent upserts of one stage take their row locks in the same order
      int c = name.compareTo(o.name);
      return c != 0 ? c : Long.compare(bucket, o.bucket);
    }
  }

  /** A batch's share of one rollup bucket; NaN is kept as PostgreSQL orders it (above all). */
  private static final class Rollup {
    long n;
    double total;
    double lo = Double.NaN;
    double hi = Double.NEGATIVE_INFINITY;
    long firstStep = Long.MAX_VALUE;
    long lastStep = Long.MIN_VALUE;
    java.time.Instant firstTime;

    void add(long step, double v, java.time.Instant t) {
      n++;
      total += v;
      // PostgreSQL: NaN is greater than every number, so min skips it and max is NaN
      if (Double.isNaN(lo) || (!Double.isNaN(v) && v < lo)) lo = v;
      if (Double.isNaN(v) || (!Double.isNaN(hi) && v > hi)) hi = v;
      firstStep = Math.min(firstStep, step);
      lastStep = Math.max(lastStep, step);
      if (firstTime == null || t.isBefore(firstTime)) firstTime = t;
    }
  }

  /** Stores a batch of runner events for an attempt, once each; metrics and checkpoints too. */
  public Ingested ingest(AttemptRef a, EventBatch batch) {
    return sql.tx(
        c -> {
          int accepted = 0;
          int duplicates = 0;
          long lastSeq = 0;
          boolean terminal = false;
          long maxStep = -1;
          Map<RollupKey, Rollup> rollups = new TreeMap<>();
          try (PreparedStatement ev =
                  c.prepareStatement(
                      """
              INSERT INTO events (pipeline_id, stage_id, attempt_id, runner_seq, type, severity, message, payload, created_at)
              VALUES (?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?) ON CONFLICT (attempt_id, runner_seq) DO NOTHING""");
              PreparedStatement metric =
                  c.prepareStatement(
                      "INSERT INTO metrics (stage_id, attempt, step, name, value, recorded_at) VALUES (?, ?, ?, ?, ?, ?)");
              PreparedStatement ckpt =
                  c.prepareStatement(
                      """
              INSERT INTO checkpoints (id, stage_id, attempt_id, step, uri, sha256, bytes, state)
              VALUES (?, ?, ?, ?, ?, ?, 0, ?) ON CONFLICT (uri) DO NOTHING""")) {
            for (RunnerEvent e : batch.events()) {
              lastSeq = Math.max(lastSeq, e.seq());
              ev.setObject(1, a.pipelineId());
              ev.setObject(2, a.stageId());
              ev.setObject(3, a.attemptId());
              ev.setLong(4, e.seq());
              ev.setString(5, type(e));
              ev.setString(6, severity(e));
              ev.setString(7, message(e));
              ev.setString(8, json(e));
              ev.setTimestamp(9, Timestamp.from(e.time()));
              if (ev.executeUpdate() == 0) {
                duplicates++;
                continue;
              }
              accepted++;
              if (e instanceof RunnerEvent.Metrics m) {
                for (RunnerEvent.MetricPoint p : m.points()) {
                  metric.setObject(1, a.stageId());
                  metric.setInt(2, a.number());
                  metric.setLong(3, p.step());
                  metric.setString(4, p.name());
                  metric.setDouble(5, p.value());
                  metric.setTimestamp(6, Timestamp.from(m.time()));
                  metric.addBatch();
                  rollups
                      .computeIfAbsent(
                          new RollupKey(p.name(), p.step() / ROLLUP_STEPS), k -> new Rollup())
                      .add(p.step(), p.value(), m.time());
                  maxStep = Math.max(maxStep, p.step() + 1);
                }
              } else if (e instanceof RunnerEvent.CheckpointCommitted cc) {
                ckpt.setObject(1, UUID.randomUUID());
                ckpt.setObject(2, a.stageId());
                ckpt.setObject(3, a.attemptId());
                ckpt.setLong(4, cc.step());
                ckpt.setString(5, cc.manifestKey());
                ckpt.setString(6, cc.manifestSha256());
                ckpt.setString(7, CheckpointState.COMMITTED.name());
                ckpt.executeUpdate();
              } else if (e instanceof RunnerEvent.Finished
                  || e instanceof RunnerEvent.Failed
                  || e instanceof RunnerEvent.Instability) {
                terminal = true;
              }
            }
            metric.executeBatch();
          }
          if (keepRollups && !rollups.isEmpty()) {
            try (PreparedStatement up =
                c.prepareStatement(
                    """
                INSERT INTO metric_rollups
                  (stage_id, name, attempt, bucket, n, total, lo, hi, first_step, last_step, first_time)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (stage_id, name, attempt, bucket) DO UPDATE SET
                  n = metric_rollups.n + EXCLUDED.n,
                  total = metric_rollups.total + EXCLUDED.total,
                  lo = LEAST(metric_rollups.lo, EXCLUDED.lo),
                  hi = GREATEST(metric_rollups.hi, EXCLUDED.hi),
                  first_step = LEAST(metric_rollups.first_step, EXCLUDED.first_step),
                  last_step = GREATEST(metric_rollups.last_step, EXCLUDED.last_step),
                  first_time = LEAST(metric_rollups.first_time, EXCLUDED.first_time)""")) {
              for (var r : rollups.entrySet()) {
                Rollup v = r.getValue();
                up.setObject(1, a.stageId());
                up.setString(2, r.getKey().name());
                up.setInt(3, a.number());
                up.setLong(4, r.getKey().bucket());
                up.setLong(5, v.n);
                up.setDouble(6, v.total);
                up.setDouble(7, v.lo);
                up.setDouble(8, v.hi);
                up.setLong(9, v.firstStep);
                up.setLong(10, v.lastStep);
                up.setTimestamp(11, Timestamp.from(v.firstTime));
                up.addBatch();
              }
              up.executeBatch();
            }
          }
          if (maxStep >= 0) {
            try (PreparedStatement ps =
                c.prepareStatement(
                    """
            UPDATE stages SET
              current_step = CASE WHEN current_attempt = ? THEN GREATEST(current_step, ?)
                                  WHEN current_attempt < ? THEN ? ELSE current_step END,
              current_attempt = GREATEST(current_attempt, ?)
            WHERE id = ?""")) {
              ps.setInt(1, a.number());
              ps.setLong(2, maxStep);
              ps.setInt(3, a.number());
              ps.setLong(4, maxStep);
              ps.setInt(5, a.number());
              ps.setObject(6, a.stageId());
              ps.executeUpdate();
            }
          }
          AttemptWriter.markRunning(c, a.attemptId());
          return new Ingested(accepted, duplicates, lastSeq, terminal);
        });
  }

  private static String type(RunnerEvent e) {
    if (e instanceof RunnerEvent.Metrics) return "metrics";
    if (e instanceof RunnerEvent.CheckpointCommitted) return "checkpoint_committed";
    if (e instanceof RunnerEvent.Instability) return "instability";
    if (e instanceof RunnerEvent.Log) return "log";
    if (e instanceof RunnerEvent.Finished) return "finished";
    return "failed";
  }

  private static String severity(RunnerEvent e) {
    if (e instanceof RunnerEvent.Log l) {
      return switch (l.level()) {
        case "DEBUG", "INFO", "WARN", "ERROR" -> l.level();
        default -> "INFO";
      };
    }
    if (e instanceof RunnerEvent.Instability) return "WARN";
    if (e instanceof RunnerEvent.Failed) return "ERROR";
    return e instanceof RunnerEvent.Metrics ? "DEBUG" : "INFO";
  }

  /** A line a person can read in the event log. */
  static String message(RunnerEvent e) {
    if (e instanceof RunnerEvent.Metrics m) {
      return m.points().isEmpty() ? "metrics" : "step " + m.points().get(0).step() + " metrics";
    }
    if (e instanceof RunnerEvent.CheckpointCommitted c)
      return "checkpoint committed at step " + c.step();
    if (e instanceof RunnerEvent.Instability i)
      return i.kind() + " at step " + i.step() + ": " + i.message();
    if (e instanceof RunnerEvent.Log l) return l.message();
    if (e instanceof RunnerEvent.Finished f) return "finished at step " + f.finalStep();
    RunnerEvent.Failed f = (RunnerEvent.Failed) e;
    return "failed (exit " + f.exitCode() + "): " + f.reason();
  }

  private static String json(RunnerEvent e) {
    try {
      return ProtocolJson.mapper().writeValueAsString(e);
    } catch (JsonProcessingException ex) {
      throw new IllegalStateException(ex);
    }
  }
}
