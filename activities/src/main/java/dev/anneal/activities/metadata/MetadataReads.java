package dev.anneal.activities.metadata;

import dev.anneal.protocol.ObjectKeys;
import dev.anneal.protocol.StageKind;
import dev.anneal.workflows.api.status.PipelineStatus;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * What the activities (and the demo, benchmarks and tests) read back of the metadata; the API's
 * reads live with its features ({@code api/<feature>/…Reads}).
 */
public final class MetadataReads {

  /** A pipeline's status and failure reason. */
  public record PipelineState(PipelineStatus status, String failureReason) {}

  /** A stage's lineage: where it started and what it ended with, either null when not known. */
  public record Lineage(String initFrom, String finalCheckpoint) {}

  /** A registered dataset version's object and the sha256 its upload recorded. */
  public record StoredDataset(String key, String sha256) {}

  private final Sql sql;

  MetadataReads(Sql sql) {
    this.sql = sql;
  }

  public Optional<AttemptRef> attempt(UUID attemptId) {
    return sql.one(
        """
        SELECT a.id, s.id, p.id, t.name, p.name, s.kind, a.number
        FROM attempts a JOIN stages s ON s.id = a.stage_id JOIN pipelines p ON p.id = s.pipeline_id
        JOIN teams t ON t.id = p.team_id WHERE a.id = ?""",
        rs ->
            new AttemptRef(
                rs.getObject(1, UUID.class),
                rs.getObject(2, UUID.class),
                rs.getObject(3, UUID.class),
                rs.getString(4),
                ObjectKeys.pipelineRun(rs.getString(5), rs.getObject(3, UUID.class).toString()),
                StageKind.fromId(rs.getString(6)),
                rs.getInt(7)),
        attemptId);
  }

  /** The runner event of this type with the highest sequence number in the attempt, as JSON. */
  public Optional<String> lastEventPayload(UUID attemptId, String type) {
    return sql.one(
        "SELECT payload::text FROM events WHERE attempt_id = ? AND type = ?"
            + " ORDER BY runner_seq DESC LIMIT 1",
        rs -> rs.getString(1),
        attemptId,
        type);
  }

  /** The live dataset {@code name@v<version>} of the team, where it is stored and its sha256. */
  public Optional<StoredDataset> dataset(String team, String name, int version) {
    return sql.one(
        "SELECT d.uri, d.sha256 FROM datasets d JOIN teams t ON t.id = d.team_id"
            + " WHERE t.name = ? AND d.name = ? AND d.version = ? AND d.deleted_at IS NULL",
        rs -> new StoredDataset(rs.getString(1), rs.getString(2)),
        team,
        name,
        version);
  }

  /** The spec a pipeline was submitted with (JSON), as its launch stored it. */
  public Optional<String> pipelineSpec(UUID pipeline) {
    return sql.one(
        "SELECT spec::text FROM pipelines WHERE id = ?", rs -> rs.getString(1), pipeline);
  }

  public long currentStep(UUID stage) {
    return sql.one("SELECT current_step FROM stages WHERE id = ?", rs -> rs.getLong(1), stage)
        .orElse(0L);
  }

  public Optional<PipelineState> pipelineStatus(UUID pipeline) {
    return sql.one(
        "SELECT status, failure_reason FROM pipelines WHERE id = ?",
        rs -> new PipelineState(PipelineStatus.valueOf(rs.getString(1)), rs.getString(2)),
        pipeline);
  }

  public Lineage stageLineage(UUID stage) {
    return sql.one(
            "SELECT init_from, final_checkpoint FROM stages WHERE id = ?",
            rs -> new Lineage(rs.getString(1), rs.getString(2)),
            stage)
        .orElse(new Lineage(null, null));
  }

  public List<EventRow> events(UUID pipeline, long afterId, int limit) {
    return sql.list(
        "SELECT id, attempt_id, runner_seq, type, severity, message FROM events"
            + " WHERE pipeline_id = ? AND id > ? ORDER BY id LIMIT ?",
        rs ->
            new EventRow(
                rs.getLong(1),
                rs.getObject(2, UUID.class),
                Sql.longOrNull(rs, 3),
                rs.getString(4),
                rs.getString(5),
                rs.getString(6)),
        pipeline,
        afterId,
        limit);
  }

  public List<StageSummary> stageSummaries(UUID pipeline) {
    return sql.list(
        """
        SELECT s.position, s.kind, s.status, s.current_step, coalesce(s.total_steps, 0),
               s.rollbacks, s.restarts,
               (SELECT m.value FROM metrics m WHERE m.stage_id = s.id AND m.name = 'loss'
                ORDER BY m.recorded_at DESC, m.step DESC LIMIT 1),
               s.failure_reason,
               EXTRACT(EPOCH FROM (COALESCE(s.finished_at, now()) - COALESCE(s.started_at, now()))),
               s.eval::text,
               (SELECT m.value FROM metrics m WHERE m.stage_id = s.id AND m.name = 'tokens_per_s'
                ORDER BY m.recorded_at DESC, m.step DESC LIMIT 1)
        FROM stages s WHERE s.pipeline_id = ? ORDER BY s.position""",
        rs ->
            new StageSummary(
                rs.getInt(1),
                rs.getString(2),
                dev.anneal.workflows.api.status.StageStatus.valueOf(rs.getString(3)),
                rs.getLong(4),
                rs.getLong(5),
                rs.getInt(6),
                rs.getInt(7),
                Sql.doubleOrNull(rs, 8),
                rs.getString(9),
                rs.getDouble(10),
                rs.getString(11),
                Sql.doubleOrNull(rs, 12)),
        pipeline);
  }

  /** Rows of {@code metrics} or {@code checkpoints} a stage has. */
  public long count(String table, UUID stage) {
    if (!table.matches("metrics|checkpoints")) throw new IllegalArgumentException(table);
    return sql.one(
            "SELECT count(*) FROM " + table + " WHERE stage_id = ?", rs -> rs.getLong(1), stage)
        .orElse(0L);
  }
}
