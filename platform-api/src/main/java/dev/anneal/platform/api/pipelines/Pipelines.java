package dev.anneal.platform.api.pipelines;

import com.fasterxml.jackson.annotation.JsonRawValue;
import dev.anneal.activities.metadata.MetadataStore;
import dev.anneal.platform.api.ApiException;
import dev.anneal.platform.api.auth.Caller;
import io.swagger.v3.oas.annotations.media.Schema;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/** Reads of pipelines for the API: lists, details, events, metrics, checkpoints. */
@Component
public class Pipelines {
  public static final Set<String> STATUSES =
      Set.of(
          "PENDING", "RUNNING", "PAUSED", "WAITING_APPROVAL", "SUCCEEDED", "FAILED", "CANCELLED");
  public static final Set<String> FINAL = Set.of("SUCCEEDED", "FAILED", "CANCELLED");

  /** A stage as lists show it. */
  public record StageBrief(
      String name, String kind, String status, long currentStep, long totalSteps, int rollbacks) {}

  /** A pipeline as lists show it. */
  public record Brief(
      UUID id,
      String name,
      String status,
      String failureReason,
      OffsetDateTime createdAt,
      OffsetDateTime startedAt,
      OffsetDateTime finishedAt,
      UUID clonedFrom,
      List<StageBrief> stages) {}

  public record Page(List<Brief> pipelines, String nextPageToken) {}

  /**
   * A stage attempt: why it ran ({@code first}, {@code rollback}, {@code restart}), how it ended,
   * and what it was told — the step it resumed from, the data windows it skipped, its LR factor.
   */
  public record Attempt(
      int number,
      String cause,
      String status,
      Integer exitCode,
      String reason,
      String jobName,
      OffsetDateTime startedAt,
      OffsetDateTime finishedAt,
      Long resumeStep,
      @JsonRawValue
          @Schema(implementation = java.util.List.class, description = "[{fromBatch, toBatch}]")
          String skipWindows,
      Double lrFactor) {}

  /** An instability that made the stage roll back. */
  public record Rollback(int attempt, Long step, String kind, String message, OffsetDateTime at) {}

  public record Stage(
      UUID id,
      String name,
      int position,
      String kind,
      String status,
      long currentStep,
      long totalSteps,
      int rollbacks,
      int restarts,
      String failureReason,
      @JsonRawValue
          @Schema(
              implementation = java.util.Map.class,
              description = "summary figures of the finished stage")
          String eval,
      String initFrom,
      String finalCheckpoint,
      OffsetDateTime startedAt,
      OffsetDateTime finishedAt,
      List<Attempt> attempts,
      List<Rollback> rollbackHistory) {}

  public record DatasetUse(UUID id, String name, int version, String sha256, boolean deleted) {}

  public record ModelUse(UUID id, String name, int version, String ref) {}

  public record Lineage(UUID clonedFrom, List<DatasetUse> datasets, List<ModelUse> models) {}

  public record Detail(
      UUID id,
      String name,
      String team,
      String status,
      String failureReason,
      String workflowId,
      OffsetDateTime createdAt,
      OffsetDateTime startedAt,
      OffsetDateTime finishedAt,
      List<Stage> stages,
      Lineage lineage,
      @JsonRawValue
          @Schema(
              implementation = java.util.Map.class,
              description = "the stored spec (dataset versions pinned)")
          String spec) {}

  /** A pipeline row the caller may see. */
  public record Row(UUID id, String name, String status, String workflowId, String specJson) {}

  private final JdbcTemplate jdbc;

  public Pipelines(JdbcTemplate jdbc) {
    this.jdbc = jdbc;
  }

  /** The caller's pipeline; another team's, or none, is 404. */
  public Row row(Caller caller, UUID id) {
    return jdbc
        .query(
            "SELECT id, name, status, workflow_id, spec::text FROM pipelines"
                + " WHERE id = ? AND team_id = ?",
            (rs, i) ->
                new Row(
                    rs.getObject(1, UUID.class),
                    rs.getString(2),
                    rs.getString(3),
                    rs.getString(4),
                    rs.getString(5)),
            id,
            caller.teamId())
        .stream()
        .findFirst()
        .orElseThrow(() -> ApiException.notFound("pipeline", id));
  }

  public Page list(
      Caller caller,
      String status,
      String name,
      Instant createdAfter,
      Instant createdBefore,
      int pageSize,
      String pageToken) {
    if (pageSize < 1 || pageSize > 1000) {
      throw ApiException.badRequest(
          "pageSize: must be between 1 and 1000, got " + pageSize, "pageSize");
    }
    Where where = new Where(" WHERE team_id = ?", caller.teamId());
    if (status != null) {
      List<String> wanted = new ArrayList<>();
      for (String s : status.split(",")) {
        String st = s.trim().toUpperCase();
        if (!STATUSES.contains(st)) {
          throw ApiException.badRequest(
              "status: must be among " + new java.util.TreeSet<>(STATUSES) + ", got '" + s + "'",
              "status");
        }
        wanted.add(st);
      }
      where.in("status", wanted);
    }
    where
        .and("name = ?", name)
        .and("created_at >= ?", createdAfter)
        .and("created_at < ?", createdBefore);
    if (pageToken != null && !pageToken.isEmpty()) {
      Cursor c = Cursor.decode(pageToken);
      where.and("(created_at, id) < (?, ?)", c.createdAt(), c.id());
    }
    List<Object[]> rows =
        jdbc.query(
            "SELECT id, name, status, failure_reason, created_at, started_at, finished_at,"
                + " cloned_from FROM pipelines"
                + where.sql()
                + " ORDER BY created_at DESC, id DESC LIMIT ?",
            (rs, i) ->
                new Object[] {
                  rs.getObject(1, UUID.class),
                  rs.getString(2),
                  rs.getString(3),
                  rs.getString(4),
                  rs.getObject(5, OffsetDateTime.class),
                  rs.getObject(6, OffsetDateTime.class),
                  rs.getObject(7, OffsetDateTime.class),
                  rs.getObject(8, UUID.class),
                  rs.getTimestamp(5).toInstant()
                },
            where.args(pageSize + 1));
    boolean more = rows.size() > pageSize;
    if (more) rows = rows.subList(0, pageSize);
    Map<UUID, List<StageBrief>> stages = new LinkedHashMap<>();
    if (!rows.isEmpty()) {
      UUID[] ids = rows.stream().map(r -> (UUID) r[0]).toArray(UUID[]::new);
      jdbc.query(
          c -> {
            var ps =
                c.prepareStatement(
                    "SELECT pipeline_id, name, kind, status, current_step,"
                        + " COALESCE(total_steps, 0), rollbacks FROM stages"
                        + " WHERE pipeline_id = ANY (?) ORDER BY pipeline_id, position");
            ps.setArray(1, c.createArrayOf("uuid", ids));
            return ps;
          },
          rs -> {
            stages
                .computeIfAbsent(rs.getObject(1, UUID.class), k -> new ArrayList<>())
                .add(
                    new StageBrief(
                        rs.getString(2),
                        rs.getString(3),
                        rs.getString(4),
                        rs.getLong(5),
                        rs.getLong(6),
                        rs.getInt(7)));
          });
    }
    List<Brief> out = new ArrayList<>();
    for (Object[] r : rows) {
      out.add(
          new Brief(
              (UUID) r[0],
              (String) r[1],
              (String) r[2],
              (String) r[3],
              (OffsetDateTime) r[4],
              (OffsetDateTime) r[5],
              (OffsetDateTime) r[6],
              (UUID) r[7],
              stages.getOrDefault((UUID) r[0], List.of())));
    }
    String next = null;
    if (more) {
      Object[] last = rows.get(rows.size() - 1);
      next = new Cursor((Instant) last[8], (UUID) last[0]).encode();
    }
    return new Page(out, next);
  }

  public Detail detail(Caller caller, UUID id) {
    Row row = row(caller, id);
    Map<UUID, List<Attempt>> attempts = new LinkedHashMap<>();
    jdbc.query(
        "SELECT a.stage_id, a.number, a.cause, a.status, a.exit_code, a.reason, a.job_name,"
            + " a.started_at, a.finished_at, a.resume_step, a.skip_windows::text, a.lr_factor"
            + " FROM attempts a JOIN stages s ON s.id = a.stage_id"
            + " WHERE s.pipeline_id = ? ORDER BY a.stage_id, a.number",
        rs -> {
          int exit = rs.getInt(5);
          Integer exitCode = rs.wasNull() ? null : exit;
          attempts
              .computeIfAbsent(rs.getObject(1, UUID.class), k -> new ArrayList<>())
              .add(
                  new Attempt(
                      rs.getInt(2),
                      rs.getString(3),
                      rs.getString(4),
                      exitCode,
                      rs.getString(6),
                      rs.getString(7),
                      rs.getObject(8, OffsetDateTime.class),
                      rs.getObject(9, OffsetDateTime.class),
                      rs.getObject(10) == null ? null : rs.getLong(10),
                      rs.getString(11),
                      rs.getObject(12) == null ? null : rs.getDouble(12)));
        },
        id);
    Map<UUID, List<Rollback>> rollbacks = new LinkedHashMap<>();
    jdbc.query(
        "SELECT e.stage_id, a.number, (e.payload ->> 'step')::bigint, e.payload ->> 'kind',"
            + " e.payload ->> 'message', e.created_at FROM events e"
            + " JOIN attempts a ON a.id = e.attempt_id"
            + " WHERE e.pipeline_id = ? AND e.type = 'instability' ORDER BY e.id",
        rs -> {
          long step = rs.getLong(3);
          Long s = rs.wasNull() ? null : step;
          rollbacks
              .computeIfAbsent(rs.getObject(1, UUID.class), k -> new ArrayList<>())
              .add(
                  new Rollback(
                      rs.getInt(2),
                      s,
                      rs.getString(4),
                      rs.getString(5),
                      rs.getObject(6, OffsetDateTime.class)));
        },
        id);
    List<Stage> stages =
        jdbc.query(
            "SELECT id, name, position, kind, status, current_step, COALESCE(total_steps, 0),"
                + " rollbacks, restarts, failure_reason, eval::text, init_from, final_checkpoint,"
                + " started_at, finished_at FROM stages WHERE pipeline_id = ? ORDER BY position",
            (rs, i) -> {
              UUID sid = rs.getObject(1, UUID.class);
              return new Stage(
                  sid,
                  rs.getString(2),
                  rs.getInt(3),
                  rs.getString(4),
                  rs.getString(5),
                  rs.getLong(6),
                  rs.getLong(7),
                  rs.getInt(8),
                  rs.getInt(9),
                  rs.getString(10),
                  rs.getString(11),
                  rs.getString(12),
                  rs.getString(13),
                  rs.getObject(14, OffsetDateTime.class),
                  rs.getObject(15, OffsetDateTime.class),
                  attempts.getOrDefault(sid, List.of()),
                  rollbacks.getOrDefault(sid, List.of()));
            },
            id);
    List<DatasetUse> datasets =
        jdbc.query(
            "SELECT d.id, d.name, d.version, d.sha256, d.deleted_at IS NOT NULL"
                + " FROM pipeline_datasets u JOIN datasets d ON d.id = u.dataset_id"
                + " WHERE u.pipeline_id = ? ORDER BY d.name, d.version",
            (rs, i) ->
                new DatasetUse(
                    rs.getObject(1, UUID.class),
                    rs.getString(2),
                    rs.getInt(3),
                    rs.getString(4),
                    rs.getBoolean(5)),
            id);
    List<ModelUse> models =
        jdbc.query(
            "SELECT m.id, m.name, m.version, u.ref FROM pipeline_models u"
                + " JOIN models m ON m.id = u.model_id WHERE u.pipeline_id = ? ORDER BY u.ref",
            (rs, i) ->
                new ModelUse(
                    rs.getObject(1, UUID.class), rs.getString(2), rs.getInt(3), rs.getString(4)),
            id);
    return jdbc.queryForObject(
        "SELECT id, name, status, failure_reason, workflow_id, created_at, started_at,"
            + " finished_at, cloned_from, spec::text FROM pipelines WHERE id = ?",
        (rs, i) ->
            new Detail(
                rs.getObject(1, UUID.class),
                rs.getString(2),
                caller.team(),
                rs.getString(3),
                rs.getString(4),
                rs.getString(5),
                rs.getObject(6, OffsetDateTime.class),
                rs.getObject(7, OffsetDateTime.class),
                rs.getObject(8, OffsetDateTime.class),
                stages,
                new Lineage(rs.getObject(9, UUID.class), datasets, models),
                rs.getString(10)),
        row.id());
  }

  /** The id of the pipeline's stage by name; 404 if it has none of that name. */
  public UUID stageId(UUID pipeline, String stage) {
    return jdbc
        .queryForList(
            "SELECT id FROM stages WHERE pipeline_id = ? AND name = ?", UUID.class, pipeline, stage)
        .stream()
        .findFirst()
        .orElseThrow(() -> ApiException.notFound("stage", stage));
  }

  // ---------------------------------------------------------------- events

  /** One entry of the pipeline's log. {@code payload} is the runner event as sent, or null. */
  public record Event(
      long id,
      OffsetDateTime time,
      String stage,
      Integer attempt,
      String type,
      String severity,
      String message,
      @JsonRawValue
          @Schema(implementation = java.util.Map.class, description = "the runner event as sent")
          String payload) {}

  /**
   * A page of the log: in order, {@code nextAfter} continues it; newest first, {@code nextBefore}.
   */
  public record EventPage(List<Event> events, Long nextAfter, Long nextBefore) {}

  public static final List<String> SEVERITIES = List.of("DEBUG", "INFO", "WARN", "ERROR");

  public List<Event> events(UUID pipeline, long after, int limit, String minSeverity, String type) {
    return events(pipeline, after, null, false, limit, minSeverity, type);
  }

  /**
   * The log in order after {@code after}, or newest first ({@code desc}) before {@code before}
   * (null: from the newest).
   */
  public List<Event> events(
      UUID pipeline,
      long after,
      Long before,
      boolean desc,
      int limit,
      String minSeverity,
      String type) {
    Where where =
        new Where(" WHERE e.pipeline_id = ? AND e.id > ?", pipeline, after).and("e.id < ?", before);
    if (minSeverity != null) {
      int from = SEVERITIES.indexOf(minSeverity.toUpperCase());
      if (from < 0) {
        throw ApiException.badRequest(
            "minSeverity: must be one of " + SEVERITIES + ", got '" + minSeverity + "'",
            "minSeverity");
      }
      where.in("e.severity", SEVERITIES.subList(from, SEVERITIES.size()));
    }
    where.and("e.type = ?", type);
    return jdbc.query(
        "SELECT e.id, e.created_at, s.name, a.number, e.type, e.severity, e.message,"
            + " e.payload::text FROM events e LEFT JOIN stages s ON s.id = e.stage_id"
            + " LEFT JOIN attempts a ON a.id = e.attempt_id"
            + where.sql()
            + (desc ? " ORDER BY e.id DESC LIMIT ?" : " ORDER BY e.id LIMIT ?"),
        (rs, i) -> event(rs),
        where.args(limit));
  }

  private static Event event(ResultSet rs) throws SQLException {
    int attempt = rs.getInt(4);
    Integer a = rs.wasNull() ? null : attempt;
    return new Event(
        rs.getLong(1),
        rs.getObject(2, OffsetDateTime.class),
        rs.getString(3),
        a,
        rs.getString(5),
        rs.getString(6),
        rs.getString(7),
        rs.getString(8));
  }

  public String status(UUID pipeline) {
    return jdbc.queryForObject("SELECT status FROM pipelines WHERE id = ?", String.class, pipeline);
  }

  // ---------------------------------------------------------------- metrics

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
    if (whole && total > maxPoints && width >= MetadataStore.ROLLUP_STEPS) {
      // buckets of whole rollup buckets
      long rollupWidth = Downsample.rollupWidth(ranges, maxPoints, MetadataStore.ROLLUP_STEPS);
      List<Point> data =
          jdbc.query(
              "SELECT attempt, (bucket - ("
                  + firstOfAttempt(ranges, MetadataStore.ROLLUP_STEPS)
                  + ")) / ? AS g, min(first_step), max(last_step), sum(total) / sum(n), min(lo),"
                  + " max(hi), sum(n), EXTRACT(EPOCH FROM min(first_time)) FROM metric_rollups"
                  + " WHERE stage_id = ? AND name = ? GROUP BY attempt, g ORDER BY attempt, g",
              BUCKET,
              rollupWidth / MetadataStore.ROLLUP_STEPS,
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

  // ---------------------------------------------------------------- checkpoints

  public record Checkpoint(
      UUID id,
      UUID pipelineId,
      String stage,
      Integer attempt,
      long step,
      String key,
      String manifestSha256,
      long bytes,
      @JsonRawValue
          @Schema(
              implementation = java.util.Map.class,
              description = "health figures from the manifest")
          String health,
      Boolean healthy,
      String state,
      OffsetDateTime createdAt) {}

  static final String CHECKPOINT_SELECT =
      "SELECT c.id, s.pipeline_id, s.name, a.number, c.step, c.uri, c.sha256, c.bytes,"
          + " c.health::text, c.state, c.created_at, (c.health ->> 'healthy')::boolean"
          + " FROM checkpoints c"
          + " JOIN stages s ON s.id = c.stage_id JOIN pipelines p ON p.id = s.pipeline_id"
          + " LEFT JOIN attempts a ON a.id = c.attempt_id";

  static Checkpoint checkpoint(ResultSet rs) throws SQLException {
    int attempt = rs.getInt(4);
    Integer a = rs.wasNull() ? null : attempt;
    boolean healthy = rs.getBoolean(12);
    Boolean known = rs.wasNull() ? null : healthy;
    return new Checkpoint(
        rs.getObject(1, UUID.class),
        rs.getObject(2, UUID.class),
        rs.getString(3),
        a,
        rs.getLong(5),
        rs.getString(6),
        rs.getString(7),
        rs.getLong(8),
        rs.getString(9),
        known,
        rs.getString(10),
        rs.getObject(11, OffsetDateTime.class));
  }

  public List<Checkpoint> checkpoints(UUID pipeline) {
    return jdbc.query(
        CHECKPOINT_SELECT + " WHERE s.pipeline_id = ? ORDER BY s.position, c.step, a.number",
        (rs, i) -> checkpoint(rs),
        pipeline);
  }

  public Checkpoint checkpoint(Caller caller, UUID id) {
    return jdbc
        .query(
            CHECKPOINT_SELECT + " WHERE c.id = ? AND p.team_id = ?",
            (rs, i) -> checkpoint(rs),
            id,
            caller.teamId())
        .stream()
        .findFirst()
        .orElseThrow(() -> ApiException.notFound("checkpoint", id));
  }

  /** The checkpoint row of a stage's final checkpoint, once the stage has finished. */
  public java.util.Optional<UUID> finalCheckpointId(UUID stage) {
    return jdbc
        .queryForList(
            "SELECT c.id FROM checkpoints c JOIN stages s ON s.id = c.stage_id"
                + " WHERE s.id = ? AND c.uri = s.final_checkpoint",
            UUID.class,
            stage)
        .stream()
        .findFirst();
  }
}
