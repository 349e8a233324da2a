package dev.anneal.activities.metadata;

import dev.anneal.workflows.api.status.PipelineStatus;
import dev.anneal.workflows.api.status.StageStatus;
import java.util.List;
import java.util.UUID;

/**
 * A team's history made up in bulk, for the API benchmark ({@code ./anneal bench api}): finished
 * one-stage pipelines (one in ten FAILED), metric series with the rollups ingestion keeps, and
 * event rows — a million points in seconds, where ingesting them batch by batch would take minutes.
 * Never used in service.
 */
public final class SyntheticHistory {

  /** What was seeded: the pipelines with metrics (newest first), steps per series, totals. */
  public record Seeded(List<UUID> withMetrics, int steps, long pipelines, long points) {}

  private final Sql sql;

  SyntheticHistory(Sql sql) {
    this.sql = sql;
  }

  /**
   * {@code pipelines} pipelines of {@code specJson} for the team, the newest {@code withMetrics} of
   * them with four series of {@code points / (4 * withMetrics)} steps each (a loss spike at step
   * 12,345) and 50 events.
   */
  public Seeded seed(
      UUID team, String teamName, String specJson, int pipelines, int points, int withMetrics) {
    sql.update(
        "INSERT INTO pipelines (id, team_id, name, spec, status, workflow_id, created_at,"
            + " started_at, finished_at) SELECT gen_random_uuid(), ?, 'bench-' || (i % 20),"
            + " ?::jsonb, CASE WHEN i % 10 = 0 THEN ? ELSE ? END,"
            + " 'wf-bench-' || i || '-' || ?, now() - (i || ' minutes')::interval,"
            + " now() - (i || ' minutes')::interval, now() FROM generate_series(1, ?) i",
        team, specJson, PipelineStatus.FAILED, PipelineStatus.SUCCEEDED, teamName, pipelines);
    // a pipeline's one stage ended as the pipeline did
    sql.update(
        "INSERT INTO stages (id, pipeline_id, position, name, kind, status, current_step,"
            + " total_steps) SELECT gen_random_uuid(), id, 0, 'pretrain', 'pretrain',"
            + " CASE WHEN status = ? THEN ? ELSE ? END, 25000, 25000 FROM pipelines"
            + " WHERE team_id = ?",
        PipelineStatus.FAILED,
        StageStatus.FAILED,
        StageStatus.SUCCEEDED,
        team);
    int steps = Math.max(1, points / (withMetrics * 4));
    List<UUID> ids =
        sql.list(
            "SELECT id FROM pipelines WHERE team_id = ? ORDER BY created_at DESC LIMIT ?",
            rs -> rs.getObject(1, UUID.class),
            team,
            withMetrics);
    for (UUID p : ids) {
      sql.update(
          "INSERT INTO metrics (stage_id, attempt, step, name, value, recorded_at)"
              + " SELECT s.id, 1, g, n, CASE WHEN n = 'loss' AND g = 12345 THEN 50"
              + " ELSE 3 + sin(g / 100.0) - g / 25000.0 END, now() - ((? - g) || ' seconds')::interval"
              + " FROM stages s, generate_series(0, ? - 1) g,"
              + " unnest(ARRAY['loss', 'grad_norm', 'lr', 'tokens_per_s']) n"
              + " WHERE s.pipeline_id = ?",
          steps,
          steps,
          p);
      sql.update(
          "INSERT INTO events (pipeline_id, stage_id, type, severity, message, created_at)"
              + " SELECT s.pipeline_id, s.id, 'stage', 'INFO', 'event ' || g, now()"
              + " FROM stages s, generate_series(1, 50) g WHERE s.pipeline_id = ?",
          p);
    }
    // the rollups the ingestion path maintains, for the seeded points
    sql.update(
        "INSERT INTO metric_rollups SELECT stage_id, name, attempt, step / ?, count(*),"
            + " sum(value), min(value), max(value), min(step), max(step), min(recorded_at)"
            + " FROM metrics m WHERE EXISTS (SELECT 1 FROM stages s JOIN pipelines p"
            + " ON p.id = s.pipeline_id WHERE s.id = m.stage_id AND p.team_id = ?)"
            + " GROUP BY stage_id, name, attempt, step / ?",
        EventIngestion.ROLLUP_STEPS,
        team,
        EventIngestion.ROLLUP_STEPS);
    long held = sql.one("SELECT count(*) FROM metrics", rs -> rs.getLong(1)).orElse(0L);
    long heldPipelines = sql.one("SELECT count(*) FROM pipelines", rs -> rs.getLong(1)).orElse(0L);
    return new Seeded(ids, steps, heldPipelines, held);
  }
}
