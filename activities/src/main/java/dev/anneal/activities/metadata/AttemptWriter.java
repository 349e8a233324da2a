package dev.anneal.activities.metadata;

import dev.anneal.workflows.api.status.AttemptStatus;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.UUID;

/** Writes of the {@code attempts} table. */
public final class AttemptWriter {

  private final Sql sql;

  AttemptWriter(Sql sql) {
    this.sql = sql;
  }

  /**
   * The attempt's row, made once: a retried prepare gets the same id back.
   *
   * @param cause {@code first}, {@code rollback} or {@code restart}
   */
  public UUID create(UUID stage, int number, String cause) {
    return sql.tx(
            c ->
                Sql.one(
                    c,
                    """
                    INSERT INTO attempts (id, stage_id, number, cause, status, started_at)
                    VALUES (?, ?, ?, ?, ?, now())
                    ON CONFLICT (stage_id, number) DO UPDATE SET cause = EXCLUDED.cause
                    RETURNING id""",
                    rs -> rs.getObject(1, UUID.class),
                    UUID.randomUUID(),
                    stage,
                    number,
                    cause,
                    AttemptStatus.PREPARING))
        .orElseThrow();
  }

  /**
   * What an attempt was told to do: the checkpoint it resumes from — its manifest key, step and the
   * attempt that wrote it (all null: from its start) —, the data windows it skips (JSON) and its
   * learning-rate factor: what the console draws on the charts, and the stage's lineage.
   */
  public void setPlan(
      UUID attemptId,
      String resumeCheckpoint,
      Long resumeStep,
      Integer resumeAttempt,
      String skipWindowsJson,
      double lr) {
    sql.update(
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
  public void mark(
      UUID attemptId, AttemptStatus status, Integer exitCode, String reason, String jobName) {
    sql.tx(
        c -> {
          try (var ps =
              c.prepareStatement(
                  """
                  UPDATE attempts SET status = ?, exit_code = COALESCE(?, exit_code),
                    reason = COALESCE(?, reason), job_name = COALESCE(?, job_name),
                    finished_at = CASE WHEN ? THEN now() ELSE finished_at END
                  WHERE id = ?""")) {
            ps.setString(1, status.name());
            ps.setObject(2, exitCode, java.sql.Types.INTEGER);
            ps.setString(3, reason);
            ps.setString(4, jobName);
            ps.setBoolean(5, status.isFinal());
            ps.setObject(6, attemptId);
            ps.executeUpdate();
          }
          return null;
        });
  }

  /** The attempt is RUNNING once its first events arrive (if it was not past that already). */
  static void markRunning(Connection c, UUID attemptId) throws SQLException {
    Sql.update(
        c,
        "UPDATE attempts SET status = ? WHERE id = ? AND status IN (?, ?)",
        AttemptStatus.RUNNING,
        attemptId,
        AttemptStatus.PREPARING,
        AttemptStatus.LAUNCHED);
  }
}
