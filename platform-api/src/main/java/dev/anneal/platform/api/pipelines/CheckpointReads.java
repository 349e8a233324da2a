package dev.anneal.platform.api.pipelines;

import com.fasterxml.jackson.annotation.JsonRawValue;
import dev.anneal.platform.api.ApiException;
import dev.anneal.platform.api.auth.Caller;
import io.swagger.v3.oas.annotations.media.Schema;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.util.List;
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
