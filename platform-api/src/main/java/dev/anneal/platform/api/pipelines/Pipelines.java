package dev.anneal.platform.api.pipelines;

import com.fasterxml.jackson.annotation.JsonRawValue;
import dev.anneal.platform.api.ApiException;
import dev.anneal.platform.api.auth.Caller;
import dev.anneal.workflows.api.status.PipelineStatus;
import io.swagger.v3.oas.annotations.media.Schema;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * Reads of pipelines for the API: lists and details. The event log, metric series and checkpoints
 * have their own reads ({@link EventReads}, {@link MetricReads}, {@link CheckpointReads}).
 */
@Component
public class Pipelines {

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
        if (!PipelineStatus.isName(st)) {
          throw ApiException.badRequest(
              "status: must be among "
                  + java.util.Arrays.toString(PipelineStatus.values())
                  + ", got '"
                  + s
                  + "'",
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
    Map<UUID, List<Attempt>> attempts =
        byFirstColumn(
            "SELECT a.stage_id, a.number, a.cause, a.status, a.exit_code, a.reason, a.job_name,"
                + " a.started_at, a.finished_at, a.resume_step, a.skip_windows::text, a.lr_factor"
                + " FROM attempts a JOIN stages s ON s.id = a.stage_id"
                + " WHERE s.pipeline_id = ? ORDER BY a.stage_id, a.number",
            (rs, n) ->
                new Attempt(
                    rs.getInt(2),
                    rs.getString(3),
                    rs.getString(4),
                    (Integer) rs.getObject(5),
                    rs.getString(6),
                    rs.getString(7),
                    rs.getObject(8, OffsetDateTime.class),
                    rs.getObject(9, OffsetDateTime.class),
                    rs.getObject(10) == null ? null : rs.getLong(10),
                    rs.getString(11),
                    rs.getObject(12) == null ? null : rs.getDouble(12)),
            id);
    Map<UUID, List<Rollback>> rollbacks =
        byFirstColumn(
            "SELECT e.stage_id, a.number, (e.payload ->> 'step')::bigint, e.payload ->> 'kind',"
                + " e.payload ->> 'message', e.created_at FROM events e"
                + " JOIN attempts a ON a.id = e.attempt_id"
                + " WHERE e.pipeline_id = ? AND e.type = 'instability' ORDER BY e.id",
            (rs, n) ->
                new Rollback(
                    rs.getInt(2),
                    rs.getObject(3) == null ? null : rs.getLong(3),
                    rs.getString(4),
                    rs.getString(5),
                    rs.getObject(6, OffsetDateTime.class)),
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

  public String status(UUID pipeline) {
    return jdbc.queryForObject("SELECT status FROM pipelines WHERE id = ?", String.class, pipeline);
  }

  /** Rows grouped by their first column (a stage's id), in the query's order. */
  private <T> Map<UUID, List<T>> byFirstColumn(
      String sql, org.springframework.jdbc.core.RowMapper<T> row, Object... args) {
    Map<UUID, List<T>> out = new LinkedHashMap<>();
    jdbc.query(
        sql,
        rs -> {
          out.computeIfAbsent(rs.getObject(1, UUID.class), k -> new ArrayList<>())
              .add(row.mapRow(rs, 0));
        },
        args);
    return out;
  }
}
