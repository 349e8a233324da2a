package dev.anneal.activities.metadata;

import dev.anneal.workflows.api.status.PipelineStatus;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.UUID;

/**
 * Writes of the {@code teams} (the bare row a pipeline needs) and {@code pipelines} tables, and of
 * what a pipeline uses ({@code pipeline_datasets}, {@code pipeline_models}).
 */
public final class PipelineWriter {

  /** A new pipeline's row; the optional fields (source, idempotency, clone) may be null. */
  public record NewPipeline(
      UUID id,
      UUID team,
      String name,
      String specJson,
      String specSource,
      String workflowId,
      String idempotencyKey,
      String requestSha256,
      UUID clonedFrom) {}

  private final Sql sql;

  PipelineWriter(Sql sql) {
    this.sql = sql;
  }

  /** The team's id, its row made if missing (the demo and benchmarks name teams directly). */
  public UUID ensureTeam(String name) {
    return sql.tx(
        c -> {
          Sql.update(
              c,
              "INSERT INTO teams (id, name) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
              UUID.randomUUID(),
              name);
          return Sql.one(
                  c, "SELECT id FROM teams WHERE name = ?", rs -> rs.getObject(1, UUID.class), name)
              .orElseThrow();
        });
  }

  /**
   * Holds the team's row until the caller's transaction ends, so that two submissions of one team
   * check its quota one after the other.
   */
  public void lockTeam(Connection c, UUID team) throws SQLException {
    Sql.one(c, "SELECT id FROM teams WHERE id = ? FOR UPDATE", rs -> rs.getObject(1), team);
  }

  /** A PENDING pipeline in its own transaction; returns its id. */
  public UUID create(UUID team, String name, String specJson, String workflowId) {
    UUID id = UUID.randomUUID();
    sql.tx(
        c -> {
          insert(c, new NewPipeline(id, team, name, specJson, null, workflowId, null, null, null));
          return null;
        });
    return id;
  }

  /** A PENDING pipeline, in the caller's transaction (the launcher's, with its stages). */
  public void insert(Connection c, NewPipeline p) throws SQLException {
    Sql.update(
        c,
        "INSERT INTO pipelines (id, team_id, name, spec, spec_source, status, workflow_id,"
            + " idempotency_key, request_sha256, cloned_from)"
            + " VALUES (?, ?, ?, ?::jsonb, ?, ?, ?, ?, ?, ?)",
        p.id(),
        p.team(),
        p.name(),
        p.specJson(),
        p.specSource(),
        PipelineStatus.PENDING,
        p.workflowId(),
        p.idempotencyKey(),
        p.requestSha256(),
        p.clonedFrom());
  }

  /** The pipeline uses this dataset version (the registry's reverse lookup). */
  public void linkDataset(Connection c, UUID pipeline, UUID dataset) throws SQLException {
    Sql.update(
        c,
        "INSERT INTO pipeline_datasets (pipeline_id, dataset_id) VALUES (?, ?)"
            + " ON CONFLICT DO NOTHING",
        pipeline,
        dataset);
  }

  /** The pipeline starts a stage from this model version, named by {@code ref}. */
  public void linkModel(Connection c, UUID pipeline, UUID model, String ref) throws SQLException {
    Sql.update(
        c,
        "INSERT INTO pipeline_models (pipeline_id, model_id, ref) VALUES (?, ?, ?)"
            + " ON CONFLICT DO NOTHING",
        pipeline,
        model,
        ref);
  }

  /**
   * The pipeline's status; a final status also sets its reason and end time, and RUNNING its start
   * time (once).
   */
  public void setStatus(UUID pipeline, PipelineStatus status, String reason) {
    sql.update(
        """
        UPDATE pipelines SET status = ?, updated_at = now(),
          failure_reason = COALESCE(?, failure_reason),
          started_at = CASE WHEN ? THEN COALESCE(started_at, now()) ELSE started_at END,
          finished_at = CASE WHEN ? THEN now() ELSE finished_at END
        WHERE id = ?""",
        status,
        reason,
        status == PipelineStatus.RUNNING,
        status.isFinal(),
        pipeline);
  }
}
