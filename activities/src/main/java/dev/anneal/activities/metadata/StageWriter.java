package dev.anneal.activities.metadata;

import dev.anneal.protocol.StageKind;
import dev.anneal.workflows.api.status.StageStatus;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.UUID;

/** Writes of the {@code stages} table, and the stage decisions in the pipeline's event log. */
public final class StageWriter {

  /** A new stage's row: its spec name (unique in the pipeline) and the GPUs its jobs ask for. */
  public record NewStage(
      UUID id,
      UUID pipeline,
      int position,
      String name,
      StageKind kind,
      long totalSteps,
      int gpus) {}

  private final Sql sql;

  StageWriter(Sql sql) {
    this.sql = sql;
  }

  public UUID create(UUID pipeline, int position, StageKind kind, long totalSteps) {
    return create(pipeline, position, kind.id(), kind, totalSteps, 0);
  }

  /** A PENDING stage in its own transaction; returns its id. */
  public UUID create(
      UUID pipeline, int position, String name, StageKind kind, long totalSteps, int gpus) {
    UUID id = UUID.randomUUID();
    sql.tx(
        c -> {
          insert(c, new NewStage(id, pipeline, position, name, kind, totalSteps, gpus));
          return null;
        });
    return id;
  }

  /** A PENDING stage, in the caller's transaction. */
  public void insert(Connection c, NewStage s) throws SQLException {
    Sql.update(
        c,
        "INSERT INTO stages (id, pipeline_id, position, name, kind, status, total_steps, gpus)"
            + " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        s.id(),
        s.pipeline(),
        s.position(),
        s.name(),
        s.kind().id(),
        StageStatus.PENDING,
        s.totalSteps(),
        s.gpus());
  }

  /**
   * A decision of the platform (not the runner) in the pipeline's log, and the stage's status: a
   * rollback or restart counts, a failure keeps its reason, a final status the end time.
   */
  public void recordEvent(
      UUID pipeline, UUID stage, StageStatus status, String severity, String message) {
    sql.tx(
        c -> {
          Sql.update(
              c,
              "INSERT INTO events (pipeline_id, stage_id, type, severity, message)"
                  + " VALUES (?, ?, 'stage', ?, ?)",
              pipeline,
              stage,
              severity,
              message);
          Sql.update(
              c,
              """
              UPDATE stages SET status = ?,
                rollbacks = rollbacks + ?,
                restarts = restarts + ?,
                failure_reason = CASE WHEN ? THEN ? ELSE failure_reason END,
                finished_at = CASE WHEN ? THEN COALESCE(finished_at, now()) ELSE finished_at END
              WHERE id = ?""",
              status,
              status == StageStatus.ROLLING_BACK ? 1 : 0,
              status == StageStatus.RESTARTING ? 1 : 0,
              status == StageStatus.FAILED,
              message,
              status.isFinal(),
              stage);
          return null;
        });
  }

  /** The stage's status, and its start time once. */
  public void setStatus(UUID stage, StageStatus status) {
    sql.update(
        "UPDATE stages SET status = ?, started_at = coalesce(started_at, now()) WHERE id = ?",
        status,
        stage);
  }

  /**
   * A finished stage's summary figures (final loss, eval figures) as JSON, its final checkpoint
   * (lineage) and its end time.
   */
  public void setResult(UUID stage, String evalJson, String finalCheckpoint) {
    sql.update(
        "UPDATE stages SET eval = ?::jsonb, final_checkpoint = ?, finished_at = now() WHERE id = ?",
        evalJson,
        finalCheckpoint,
        stage);
  }

  /** Where a stage starts from: a parent stage's final checkpoint or a model's (lineage). */
  public void setInitFrom(UUID stage, String manifestKey) {
    sql.update("UPDATE stages SET init_from = ? WHERE id = ?", manifestKey, stage);
  }
}
