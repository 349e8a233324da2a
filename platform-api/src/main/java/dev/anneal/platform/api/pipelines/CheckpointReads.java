package dev.anneal.platform.api.pipelines;

import com.fasterxml.jackson.annotation.JsonRawValue;
import dev.anneal.platform.api.ApiException;
import dev.anneal.platform.api.auth.Caller;
import dev.anneal.workflows.api.stage.CheckpointLineage;
import io.swagger.v3.oas.annotations.media.Schema;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/** A pipeline's checkpoints for the API: rows with their attempt, size and health. */
@Component
public class CheckpointReads {
  private final JdbcTemplate jdbc;

  public CheckpointReads(JdbcTemplate jdbc) {
    this.jdbc = jdbc;
  }

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
      @Schema(
              description =
                  "COMMITTED; DELETED once its files are gone (the runner's retention keeps the"
                      + " newest of each attempt and every keepEvery-th step)")
          String state,
      OffsetDateTime createdAt,
      @Schema(
              description =
                  "false for a checkpoint a rollback abandoned: an earlier attempt's, past the step"
                      + " the stage was rolled back to. The stage never resumes from it again")
          boolean onLiveBranch) {

    Checkpoint withFiles(long bytes, String health, Boolean healthy) {
      return copy(bytes, health, healthy, state, onLiveBranch);
    }

    Checkpoint withState(String state) {
      return copy(bytes, health, healthy, state, onLiveBranch);
    }

    Checkpoint onBranch(boolean live) {
      return copy(bytes, health, healthy, state, live);
    }

    private Checkpoint copy(
        long bytes, String health, Boolean healthy, String state, boolean live) {
      return new Checkpoint(
          id,
          pipelineId,
          stage,
          attempt,
          step,
          key,
          manifestSha256,
          bytes,
          health,
          healthy,
          state,
          createdAt,
          live);
    }
  }

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
        rs.getObject(11, OffsetDateTime.class),
        true);
  }

  /**
   * Marks each checkpoint with whether it is on its stage's live branch, from what the stage's
   * attempts were told to resume from (the same {@link CheckpointLineage} the stage workflow plans
   * with).
   */
  private List<Checkpoint> marked(UUID pipeline, List<Checkpoint> rows) {
    Map<String, CheckpointLineage> byStage = new HashMap<>();
    jdbc.query(
        "SELECT s.name, a.number, a.resume_attempt, a.resume_step FROM attempts a"
            + " JOIN stages s ON s.id = a.stage_id WHERE s.pipeline_id = ? ORDER BY a.number",
        rs -> {
          int number = rs.getInt(2);
          int from = rs.getInt(3);
          Integer fromAttempt = rs.wasNull() ? null : from;
          long step = rs.getLong(4);
          Long fromStep = rs.wasNull() ? null : step;
          byStage.compute(
              rs.getString(1),
              (stage, had) ->
                  (had == null ? CheckpointLineage.none() : had)
                      .then(number, fromAttempt, fromStep));
        },
        pipeline);
    List<Checkpoint> out = new ArrayList<>(rows.size());
    for (Checkpoint c : rows) {
      CheckpointLineage lineage = byStage.getOrDefault(c.stage(), CheckpointLineage.none());
      out.add(c.onBranch(c.attempt() == null || lineage.isLive(c.attempt(), c.step())));
    }
    return out;
  }

  public List<Checkpoint> checkpoints(UUID pipeline) {
    return marked(
        pipeline,
        jdbc.query(
            CHECKPOINT_SELECT + " WHERE s.pipeline_id = ? ORDER BY s.position, c.step, a.number",
            (rs, i) -> checkpoint(rs),
            pipeline));
  }

  public Checkpoint checkpoint(Caller caller, UUID id) {
    Checkpoint c =
        jdbc
            .query(
                CHECKPOINT_SELECT + " WHERE c.id = ? AND p.team_id = ?",
                (rs, i) -> checkpoint(rs),
                id,
                caller.teamId())
            .stream()
            .findFirst()
            .orElseThrow(() -> ApiException.notFound("checkpoint", id));
    return marked(c.pipelineId(), List.of(c)).get(0);
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
