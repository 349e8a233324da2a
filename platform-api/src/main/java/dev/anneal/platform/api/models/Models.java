package dev.anneal.platform.api.models;

import com.fasterxml.jackson.annotation.JsonRawValue;
import dev.anneal.platform.api.ApiException;
import dev.anneal.platform.api.auth.Caller;
import dev.anneal.platform.api.teams.Teams;
import dev.anneal.workflows.api.spec.RegistryRef;
import io.swagger.v3.oas.annotations.media.Schema;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.RowMapper;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The model registry: a model version names one checkpoint, with its lineage (the pipeline and
 * stage that made it, what that stage started from, the datasets the pipeline read), and a label
 * ({@code registered → staging → production → archived}; one production version per name).
 */
@Component
public class Models {
  public static final Set<String> LABELS =
      Set.of("registered", "staging", "production", "archived");

  public record Model(
      UUID id,
      String name,
      int version,
      String label,
      UUID checkpointId,
      String checkpoint,
      UUID pipelineId,
      String stageKind,
      @JsonRawValue
          @Schema(implementation = java.util.Map.class, description = "where the model came from")
          String lineage,
      OffsetDateTime createdAt,
      OffsetDateTime promotedAt) {}

  private static final RowMapper<Model> ROW =
      (rs, i) ->
          new Model(
              rs.getObject("id", UUID.class),
              rs.getString("name"),
              rs.getInt("version"),
              rs.getString("label"),
              rs.getObject("checkpoint_id", UUID.class),
              rs.getString("uri"),
              rs.getObject("pipeline_id", UUID.class),
              rs.getString("stage_kind"),
              rs.getString("lineage"),
              rs.getObject("created_at", OffsetDateTime.class),
              rs.getObject("promoted_at", OffsetDateTime.class));

  private static final String SELECT =
      "SELECT id, name, version, label, checkpoint_id, uri, pipeline_id, stage_kind,"
          + " lineage::text AS lineage, created_at, promoted_at FROM models";

  private final JdbcTemplate jdbc;
  private final TransactionTemplate tx;

  public Models(JdbcTemplate jdbc, TransactionTemplate tx) {
    this.jdbc = jdbc;
    this.tx = tx;
  }

  public Model get(Caller caller, UUID id) {
    return jdbc.query(SELECT + " WHERE id = ? AND team_id = ?", ROW, id, caller.teamId()).stream()
        .findFirst()
        .orElseThrow(() -> ApiException.notFound("model", id));
  }

  public List<Model> list(Caller caller, String name) {
    return name == null
        ? jdbc.query(
            SELECT + " WHERE team_id = ? ORDER BY name, version DESC", ROW, caller.teamId())
        : jdbc.query(
            SELECT + " WHERE team_id = ? AND name = ? ORDER BY version DESC",
            ROW,
            caller.teamId(),
            name);
  }

  /**
   * {@code <name>@v<n>} is that version; {@code <name>} is the production version, or the newest
   * one when none is in production.
   */
  public Model resolve(Caller caller, RegistryRef ref, String field) {
    List<Model> found =
        ref.version() != null
            ? jdbc.query(
                SELECT + " WHERE team_id = ? AND name = ? AND version = ?",
                ROW,
                caller.teamId(),
                ref.name(),
                ref.version())
            : jdbc.query(
                SELECT
                    + " WHERE team_id = ? AND name = ? AND label <> 'archived'"
                    + " ORDER BY (label = 'production') DESC, version DESC LIMIT 1",
                ROW,
                caller.teamId(),
                ref.name());
    if (found.isEmpty() || found.get(0).checkpoint() == null) {
      throw ApiException.unprocessable(
          field
              + ": team '"
              + caller.team()
              + "' has no model '"
              + ref.display()
              + "' (register one with POST /api/v1/models)",
          field);
    }
    return found.get(0);
  }

  /** Registers a checkpoint of one of the caller's pipelines as the next version of a model. */
  public Model register(Caller caller, String name, UUID checkpointId) {
    if (name == null || !name.matches(Teams.NAME_PATTERN)) {
      throw ApiException.badRequest(
          "name: a model name is 1 to 63 of a-z, 0-9, '.', '_', '-', got '" + name + "'", "name");
    }
    List<Object[]> ck =
        jdbc.query(
            """
            SELECT c.uri, p.id, s.kind, s.name, c.step, a.number, s.init_from, p.name
            FROM checkpoints c JOIN stages s ON s.id = c.stage_id
            JOIN pipelines p ON p.id = s.pipeline_id LEFT JOIN attempts a ON a.id = c.attempt_id
            WHERE c.id = ? AND p.team_id = ?""",
            (rs, i) ->
                new Object[] {
                  rs.getString(1),
                  rs.getObject(2, UUID.class),
                  rs.getString(3),
                  rs.getString(4),
                  rs.getLong(5),
                  rs.getObject(6),
                  rs.getString(7),
                  rs.getString(8)
                },
            checkpointId,
            caller.teamId());
    if (ck.isEmpty()) {
      throw ApiException.unprocessable(
          "checkpointId: team '" + caller.team() + "' has no checkpoint " + checkpointId,
          "checkpointId");
    }
    Object[] c = ck.get(0);
    UUID pipeline = (UUID) c[1];
    String lineage =
        jdbc.queryForObject(
            """
            SELECT jsonb_build_object(
              'pipeline', ?::text, 'pipelineName', ?::text, 'stage', ?::text, 'step', ?::bigint,
              'attempt', ?::int, 'initFrom', ?::text,
              'datasets', COALESCE((SELECT jsonb_agg(jsonb_build_object('name', d.name,
                  'version', d.version, 'sha256', d.sha256) ORDER BY d.name)
                FROM pipeline_datasets u JOIN datasets d ON d.id = u.dataset_id
                WHERE u.pipeline_id = ?), '[]'::jsonb),
              'parentModels', COALESCE((SELECT jsonb_agg(jsonb_build_object('name', m.name,
                  'version', m.version, 'id', m.id) ORDER BY m.name)
                FROM pipeline_models u JOIN models m ON m.id = u.model_id
                WHERE u.pipeline_id = ?), '[]'::jsonb))::text""",
            String.class,
            pipeline.toString(),
            c[7],
            c[3],
            c[4],
            c[5],
            c[6],
            pipeline,
            pipeline);
    for (int tries = 0; ; tries++) {
      UUID id = UUID.randomUUID();
      try {
        jdbc.update(
            "INSERT INTO models (id, team_id, name, version, checkpoint_id, pipeline_id,"
                + " stage_kind, uri, lineage) VALUES (?, ?, ?, (SELECT COALESCE(max(version), 0)"
                + " + 1 FROM models WHERE team_id = ? AND name = ?), ?, ?, ?, ?, ?::jsonb)",
            id,
            caller.teamId(),
            name,
            caller.teamId(),
            name,
            checkpointId,
            pipeline,
            c[2],
            c[0],
            lineage);
        return get(caller, id);
      } catch (DuplicateKeyException e) {
        if (tries >= 5)
          throw ApiException.conflict("model " + name + " is being registered concurrently; retry");
      }
    }
  }

  /** Moves a version to a label; a new production version archives the previous one. */
  public Model promote(Caller caller, UUID id, String label) {
    Model m = get(caller, id);
    if (label == null || !LABELS.contains(label)) {
      throw ApiException.badRequest(
          "label: must be one of registered, staging, production, archived; got '" + label + "'",
          "label");
    }
    tx.executeWithoutResult(
        s -> {
          if (label.equals("production")) {
            jdbc.update(
                "UPDATE models SET label = 'archived', promoted_at = now() WHERE team_id = ?"
                    + " AND name = ? AND label = 'production' AND id <> ?",
                caller.teamId(),
                m.name(),
                id);
          }
          jdbc.update("UPDATE models SET label = ?, promoted_at = now() WHERE id = ?", label, id);
        });
    return get(caller, id);
  }
}
