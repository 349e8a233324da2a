package dev.anneal.activities.metadata;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.anneal.protocol.EventBatch;
import dev.anneal.protocol.ObjectKeys;
import dev.anneal.protocol.ProtocolJson;
import dev.anneal.protocol.RunnerEvent;
import dev.anneal.protocol.StageKind;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import javax.sql.DataSource;

/**
 * The platform's bookkeeping in PostgreSQL (the schema of {@code V1__platform_schema.sql}): teams,
 * pipelines, stages, attempts, and the runner events, metrics and checkpoints of each attempt.
 * Ingestion is idempotent: an event is stored once per (attempt, sequence number), so a runner that
 * re-sends a batch changes nothing.
 */
public final class MetadataStore {

  /** Where an attempt belongs, for checking that a batch is addressed to it. */
  public record AttemptRef(
      UUID attemptId,
      UUID stageId,
      UUID pipelineId,
      String team,
      // the run's key segment, as in its RunSpec: <name>-<8 hex of the pipeline id>
      String pipelineName,
      StageKind stage,
      int number) {}

  /** What one ingestion did. */
  public record Ingested(int accepted, int duplicates, long lastSeq, boolean terminal) {}

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

  /** One row of a pipeline's event log. */
  public record EventRow(
      long id, UUID attemptId, Long runnerSeq, String type, String severity, String message) {}

  private final DataSource ds;
  private volatile boolean keepRollups = true;

  public MetadataStore(DataSource ds) {
    this.ds = ds;
  }

  public UUID ensureTeam(String name) {
    return tx(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "INSERT INTO teams (id, name) VALUES (?, ?) ON CONFLICT (name) DO NOTHING")) {
            ps.setObject(1, UUID.randomUUID());
            ps.setString(2, name);
            ps.executeUpdate();
          }
          try (PreparedStatement ps = c.prepareStatement("SELECT id FROM teams WHERE name = ?")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
              rs.next();
              return rs.getObject(1, UUID.class);
            }
          }
        });
  }

  public UUID createPipeline(UUID team, String name, String specJson, String workflowId) {
    UUID id = UUID.randomUUID();
    tx(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "INSERT INTO pipelines (id, team_id, name, spec, status, workflow_id) VALUES (?, ?, ?, ?::jsonb, 'PENDING', ?)")) {
            ps.setObject(1, id);
            ps.setObject(2, team);
            ps.setString(3, name);
            ps.setString(4, specJson);
            ps.setString(5, workflowId);
            ps.executeUpdate();
          }
          return null;
        });
    return id;
  }

  public UUID createStage(UUID pipeline, int position, StageKind kind, long totalSteps) {
    return createStage(pipeline, position, kind.id(), kind, totalSteps, 0);
  }

  /** A stage's row: its spec name (unique in the pipeline) and the GPUs its jobs ask for. */
  public UUID createStage(
      UUID pipeline, int position, String name, StageKind kind, long totalSteps, int gpus) {
    UUID id = UUID.randomUUID();
    tx(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "INSERT INTO stages (id, pipeline_id, position, name, kind, status, total_steps, gpus) VALUES (?, ?, ?, ?, ?, 'PENDING', ?, ?)")) {
            ps.setObject(1, id);
            ps.setObject(2, pipeline);
            ps.setInt(3, position);
            ps.setString(4, name);
            ps.setString(5, kind.id());
            ps.setLong(6, totalSteps);
            ps.setInt(7, gpus);
            ps.executeUpdate();
          }
          return null;
        });
    return id;
  }

  /**
   * The attempt's row, made once: a retried prepare gets the same id back.
   *
   * @param cause {@code first}, {@code rollback} or {@code restart}
   */
  public UUID createAttempt(UUID stage, int number, String cause) {
    return tx(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  """
          INSERT INTO attempts (id, stage_id, number, cause, status, started_at) VALUES (?, ?, ?, ?, 'PREPARING', now())
          ON CONFLICT (stage_id, number) DO UPDATE SET cause = EXCLUDED.cause RETURNING id""")) {
            ps.setObject(1, UUID.randomUUID());
            ps.setObject(2, stage);
            ps.setInt(3, number);
            ps.setString(4, cause);
            try (ResultSet rs = ps.executeQuery()) {
              rs.next();
              return rs.getObject(1, UUID.class);
            }
          }
        });
  }

  /** A decision of the platform (not the runner) in the pipeline's log, and the stage's status. */
  public void recordStageEvent(
      UUID pipeline, UUID stage, String status, String severity, String message) {
    tx(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "INSERT INTO events (pipeline_id, stage_id, type, severity, message) VALUES (?, ?, 'stage', ?, ?)")) {
            ps.setObject(1, pipeline);
            ps.setObject(2, stage);
            ps.setString(3, severity);
            ps.setString(4, message);
            ps.executeUpdate();
          }
          try (PreparedStatement ps =
              c.prepareStatement(
                  """
          UPDATE stages SET status = ?,
            rollbacks = rollbacks + CASE WHEN ? = 'ROLLING_BACK' THEN 1 ELSE 0 END,
            restarts = restarts + CASE WHEN ? = 'RESTARTING' THEN 1 ELSE 0 END,
            failure_reason = CASE WHEN ? = 'FAILED' THEN ? ELSE failure_reason END,
            finished_at = CASE WHEN ? IN ('SUCCEEDED', 'FAILED', 'CANCELLED')
              THEN COALESCE(finished_at, now()) ELSE finished_at END
          WHERE id = ?""")) {
            ps.setString(1, status);
            ps.setString(2, status);
            ps.setString(3, status);
            ps.setString(4, status);
            ps.setString(5, message);
            ps.setString(6, status);
            ps.setObject(7, stage);
            ps.executeUpdate();
          }
          return null;
        });
  }

  public void setStageStatus(UUID stage, String status) {
    update(
        "UPDATE stages SET status = ?, started_at = coalesce(started_at, now()) WHERE id = ?",
        status,
        stage);
  }

  /** The runner event of this type with the highest sequence number in the attempt, as JSON. */
  public Optional<String> lastEventPayload(UUID attemptId, String type) {
    return tx(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT payload::text FROM events WHERE attempt_id = ? AND type = ? ORDER BY runner_seq DESC LIMIT 1")) {
            ps.setObject(1, attemptId);
            ps.setString(2, type);
            try (ResultSet rs = ps.executeQuery()) {
              return rs.next() ? Optional.ofNullable(rs.getString(1)) : Optional.empty();
            }
          }
        });
  }

  public long currentStep(UUID stage) {
    return tx(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement("SELECT current_step FROM stages WHERE id = ?")) {
            ps.setObject(1, stage);
            try (ResultSet rs = ps.executeQuery()) {
              return rs.next() ? rs.getLong(1) : 0L;
            }
          }
        });
  }

  /**
   * The pipeline's status; a final status (SUCCEEDED, FAILED, CANCELLED) also sets its reason and
   * end time, and RUNNING its start time (once).
   */
  public void setPipelineStatus(UUID pipeline, String status, String reason) {
    update(
        """
        UPDATE pipelines SET status = ?, updated_at = now(),
          failure_reason = COALESCE(?, failure_reason),
          started_at = CASE WHEN ? = 'RUNNING' THEN COALESCE(started_at, now()) ELSE started_at END,
          finished_at = CASE WHEN ? IN ('SUCCEEDED', 'FAILED', 'CANCELLED') THEN now() ELSE finished_at END
        WHERE id = ?""",
        status,
        reason,
        status,
        status,
        pipeline);
  }

  /** The pipeline's status and failure reason. */
  public Optional<String[]> pipelineStatus(UUID pipeline) {
    return tx(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement("SELECT status, failure_reason FROM pipelines WHERE id = ?")) {
            ps.setObject(1, pipeline);
            try (ResultSet rs = ps.executeQuery()) {
              return rs.next()
                  ? Optional.of(new String[] {rs.getString(1), rs.getString(2)})
                  : Optional.empty();
            }
          }
        });
  }

  /**
   * A finished stage's summary figures (final loss, eval figures) as JSON, its final checkpoint
   * (lineage) and its end time.
   */
  public void setStageResult(UUID stage, String evalJson, String finalCheckpoint) {
    update(
        "UPDATE stages SET eval = ?::jsonb, final_checkpoint = ?, finished_at = now() WHERE id = ?",
        evalJson,
        finalCheckpoint,
        stage);
  }

  /** Where a stage starts from: a parent stage's final checkpoint or a model's (lineage). */
  public void setStageInitFrom(UUID stage, String manifestKey) {
    update("UPDATE stages SET init_from = ? WHERE id = ?", manifestKey, stage);
  }

  /** The stage's lineage: {init_from, final_checkpoint}, either null when not known. */
  public String[] stageLineage(UUID stage) {
    return tx(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement("SELECT init_from, final_checkpoint FROM stages WHERE id = ?")) {
            ps.setObject(1, stage);
            try (ResultSet rs = ps.executeQuery()) {
              return rs.next() ? new String[] {rs.getString(1), rs.getString(2)} : new String[2];
            }
          }
        });
  }

  /**
   * What an attempt was told to do: the checkpoint it resumes from — its manifest key, step and the
   * attempt that wrote it (all null: from its start) —, the data windows it skips (JSON) and its
   * learning-rate factor: what the console draws on the charts, and the stage's lineage.
   */
  public void setAttemptPlan(
      UUID attemptId,
      String resumeCheckpoint,
      Long resumeStep,
      Integer resumeAttempt,
      String skipWindowsJson,
      double lr) {
    update(
        "UPDATE attempts SET resume_checkpoint = ?, resume_step = ?, resume_attempt = ?,"
            + " skip_windows = ?::jsonb, lr_factor = ? WHERE id = ?",
        resumeCheckpoint,
        resumeStep,
        resumeAttempt,
        skipWindowsJson,
        lr,
        attemptId);
  }

  /** Records where an attempt is; the exit code, reason and job name are kept once set. */
  public void markAttempt(
      UUID attemptId, String status, Integer exitCode, String reason, String jobName) {
    tx(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  """
          UPDATE attempts SET status = ?, exit_code = COALESCE(?, exit_code), reason = COALESCE(?, reason),
            job_name = COALESCE(?, job_name),
            finished_at = CASE WHEN ? IN ('SUCCEEDED', 'UNSTABLE', 'CRASHED', 'FAILED', 'CANCELLED')
              THEN now() ELSE finished_at END
          WHERE id = ?""")) {
            ps.setString(1, status);
            ps.setObject(2, exitCode, java.sql.Types.INTEGER);
            ps.setString(3, reason);
            ps.setString(4, jobName);
            ps.setString(5, status);
            ps.setObject(6, attemptId);
            ps.executeUpdate();
          }
          return null;
        });
  }

  public Optional<AttemptRef> attempt(UUID attemptId) {
    return tx(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  """
          SELECT a.id, s.id, p.id, t.name, p.name, s.kind, a.number
          FROM attempts a JOIN stages s ON s.id = a.stage_id JOIN pipelines p ON p.id = s.pipeline_id
          JOIN teams t ON t.id = p.team_id WHERE a.id = ?""")) {
            ps.setObject(1, attemptId);
            try (ResultSet rs = ps.executeQuery()) {
              if (!rs.next()) return Optional.empty();
              return Optional.of(
                  new AttemptRef(
                      rs.getObject(1, UUID.class),
                      rs.getObject(2, UUID.class),
                      rs.getObject(3, UUID.class),
                      rs.getString(4),
                      ObjectKeys.pipelineRun(
                          rs.getString(5), rs.getObject(3, UUID.class).toString()),
                      StageKind.fromId(rs.getString(6)),
                      rs.getInt(7)));
            }
          }
        });
  }

  /** Stores a batch of runner events for an attempt, once each; metrics and checkpoints too. */
  public Ingested ingest(AttemptRef a, EventBatch batch) {
    return tx(
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
              VALUES (?, ?, ?, ?, ?, ?, 0, 'COMMITTED') ON CONFLICT (uri) DO NOTHING""")) {
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
          try (PreparedStatement ps =
              c.prepareStatement(
                  "UPDATE attempts SET status = 'RUNNING' WHERE id = ? AND status IN ('PREPARING', 'LAUNCHED')")) {
            ps.setObject(1, a.attemptId());
            ps.executeUpdate();
          }
          return new Ingested(accepted, duplicates, lastSeq, terminal);
        });
  }

  public List<EventRow> events(UUID pipeline, long afterId, int limit) {
    return tx(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  "SELECT id, attempt_id, runner_seq, type, severity, message FROM events WHERE pipeline_id = ? AND id > ? ORDER BY id LIMIT ?")) {
            ps.setObject(1, pipeline);
            ps.setLong(2, afterId);
            ps.setInt(3, limit);
            List<EventRow> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                long seq = rs.getLong(3);
                out.add(
                    new EventRow(
                        rs.getLong(1),
                        rs.getObject(2, UUID.class),
                        rs.wasNull() ? null : seq,
                        rs.getString(4),
                        rs.getString(5),
                        rs.getString(6)));
              }
            }
            return out;
          }
        });
  }

  /** One stage's progress, for progress displays. */
  public record StageSummary(
      int position,
      String kind,
      String status,
      long currentStep,
      long totalSteps,
      int rollbacks,
      int restarts,
      Double lastLoss,
      String failureReason,
      double wallSeconds,
      String eval,
      Double tokensPerSecond) {}

  public List<StageSummary> stageSummaries(UUID pipeline) {
    return tx(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement(
                  """
          SELECT s.position, s.kind, s.status, s.current_step, coalesce(s.total_steps, 0), s.rollbacks, s.restarts,
                 (SELECT m.value FROM metrics m WHERE m.stage_id = s.id AND m.name = 'loss'
                  ORDER BY m.recorded_at DESC, m.step DESC LIMIT 1),
                 s.failure_reason,
                 EXTRACT(EPOCH FROM (COALESCE(s.finished_at, now()) - COALESCE(s.started_at, now()))),
                 s.eval::text,
                 (SELECT m.value FROM metrics m WHERE m.stage_id = s.id AND m.name = 'tokens_per_s'
                  ORDER BY m.recorded_at DESC, m.step DESC LIMIT 1)
          FROM stages s WHERE s.pipeline_id = ? ORDER BY s.position""")) {
            ps.setObject(1, pipeline);
            List<StageSummary> out = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
              while (rs.next()) {
                double loss = rs.getDouble(8);
                Double lastLoss = rs.wasNull() ? null : loss;
                out.add(
                    new StageSummary(
                        rs.getInt(1),
                        rs.getString(2),
                        rs.getString(3),
                        rs.getLong(4),
                        rs.getLong(5),
                        rs.getInt(6),
                        rs.getInt(7),
                        lastLoss,
                        rs.getString(9),
                        rs.getDouble(10),
                        rs.getString(11),
                        rs.getObject(12) == null ? null : rs.getDouble(12)));
              }
            }
            return out;
          }
        });
  }

  public long count(String table, UUID stage) {
    if (!table.matches("metrics|checkpoints")) throw new IllegalArgumentException(table);
    return tx(
        c -> {
          try (PreparedStatement ps =
              c.prepareStatement("SELECT count(*) FROM " + table + " WHERE stage_id = ?")) {
            ps.setObject(1, stage);
            try (ResultSet rs = ps.executeQuery()) {
              rs.next();
              return rs.getLong(1);
            }
          }
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

  @FunctionalInterface
  private interface Work<T> {
    T run(Connection c) throws SQLException;
  }

  /** One statement in its own transaction; parameters in order, null as SQL NULL. */
  private void update(String sql, Object... params) {
    tx(
        c -> {
          try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) ps.setObject(i + 1, params[i]);
            ps.executeUpdate();
          }
          return null;
        });
  }

  private <T> T tx(Work<T> work) {
    try (Connection c = ds.getConnection()) {
      c.setAutoCommit(false);
      try {
        T result = work.run(c);
        c.commit();
        return result;
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      }
    } catch (SQLException e) {
      throw new MetadataException("PostgreSQL: " + e.getMessage(), e);
    }
  }

  /** A metadata operation failed in the database. */
  public static final class MetadataException extends RuntimeException {
    MetadataException(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
