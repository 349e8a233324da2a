package dev.anneal.activities.metadata;

import static org.assertj.core.api.Assertions.assertThat;

import dev.anneal.protocol.EventBatch;
import dev.anneal.protocol.RunnerEvent;
import dev.anneal.protocol.StageKind;
import dev.anneal.workflows.api.status.AttemptStatus;
import dev.anneal.workflows.api.status.CheckpointState;
import dev.anneal.workflows.api.status.PipelineStatus;
import dev.anneal.workflows.api.status.StageStatus;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Against a real, migrated PostgreSQL. */
class MetadataStoreTest {

  private static EmbeddedPostgres pg;
  private static MetadataStore store;
  private static final Instant T = Instant.parse("2026-11-30T12:00:00Z");

  @BeforeAll
  static void start() throws Exception {
    pg = EmbeddedPostgres.builder().start();
    Flyway.configure()
        .dataSource(pg.getPostgresDatabase())
        .locations("classpath:db/migration")
        .load()
        .migrate();
    store = new MetadataStore(pg.getPostgresDatabase());
  }

  @AfterAll
  static void stop() throws Exception {
    pg.close();
  }

  private static AttemptRef newAttempt(String pipelineName) {
    UUID team = store.pipelines().ensureTeam("research");
    assertThat(store.pipelines().ensureTeam("research")).isEqualTo(team);
    UUID pipeline =
        store
            .pipelines()
            .create(team, pipelineName, "{\"kind\":\"Pipeline\"}", "wf-" + pipelineName);
    UUID stage = store.stages().create(pipeline, 0, StageKind.PRETRAIN, 100);
    UUID attempt = store.attempts().create(stage, 1, "first");
    return store.reads().attempt(attempt).orElseThrow();
  }

  private static EventBatch batch(AttemptRef a, List<RunnerEvent> events) {
    return new EventBatch(a.team(), a.pipelineName(), a.stage(), a.number(), events);
  }

  @Test
  void ingestionStoresEventsMetricsAndCheckpointsOnce() {
    AttemptRef a = newAttempt("p1");
    assertThat(a.team()).isEqualTo("research");
    List<RunnerEvent> events =
        List.of(
            new RunnerEvent.Log(1, T, "INFO", "training tiny"),
            new RunnerEvent.Metrics(
                2,
                T,
                List.of(
                    new RunnerEvent.MetricPoint(0, "loss", 5.5),
                    new RunnerEvent.MetricPoint(0, "grad_norm", Double.NaN))),
            new RunnerEvent.Metrics(3, T, List.of(new RunnerEvent.MetricPoint(1, "loss", 5.1))),
            new RunnerEvent.CheckpointCommitted(
                4,
                T,
                2,
                "teams/research/pipelines/p1/pretrain/checkpoints/step-00000002-a1/manifest.json",
                "a".repeat(64)));
    EventIngestion.Ingested first = store.ingestion().ingest(a, batch(a, events));
    assertThat(first).isEqualTo(new EventIngestion.Ingested(4, 0, 4, false));

    // the runner re-sends after a lost acknowledgement, plus one new event
    List<RunnerEvent> again = new java.util.ArrayList<>(events.subList(2, 4));
    again.add(new RunnerEvent.Finished(5, T, 2, "k/manifest.json", java.util.Map.of()));
    EventIngestion.Ingested second = store.ingestion().ingest(a, batch(a, again));
    assertThat(second).isEqualTo(new EventIngestion.Ingested(1, 2, 5, true));

    assertThat(store.reads().count("metrics", a.stageId())).isEqualTo(3);
    assertThat(store.reads().count("checkpoints", a.stageId())).isEqualTo(1);
    List<EventRow> log = store.reads().events(a.pipelineId(), 0, 100);
    assertThat(log).extracting(EventRow::runnerSeq).containsExactly(1L, 2L, 3L, 4L, 5L);
    assertThat(log)
        .extracting(EventRow::message)
        .contains("training tiny", "checkpoint committed at step 2", "finished at step 2");
    assertThat(store.reads().events(a.pipelineId(), log.get(2).id(), 100)).hasSize(2);
  }

  @Test
  void rollupsAgreeWithThePointsAndCountARetriedBatchOnce() throws Exception {
    AttemptRef a = newAttempt("rollups");
    List<RunnerEvent> events = new java.util.ArrayList<>();
    for (int b = 0; b < 10; b++) {
      List<RunnerEvent.MetricPoint> pts = new java.util.ArrayList<>();
      for (int s = b * 30; s < b * 30 + 30; s++) {
        pts.add(new RunnerEvent.MetricPoint(s, "loss", s == 77 ? Double.NaN : s == 200 ? 99 : s));
      }
      events.add(new RunnerEvent.Metrics(b + 1, T.plusSeconds(b), pts));
    }
    store.ingestion().ingest(a, batch(a, events.subList(0, 6)));
    store.ingestion().ingest(a, batch(a, events)); // the first six again: duplicates
    try (var c = pg.getPostgresDatabase().getConnection();
        var st =
            c.prepareStatement(
                """
                SELECT r.bucket, r.n, r.lo, r.hi, r.first_step, r.last_step, m.n, m.lo, m.hi
                FROM metric_rollups r JOIN (
                  SELECT step / 16 AS bucket, count(*) AS n, min(value) AS lo, max(value) AS hi
                  FROM metrics WHERE stage_id = ? AND name = 'loss' GROUP BY step / 16) m
                ON m.bucket = r.bucket
                WHERE r.stage_id = ? AND r.name = 'loss' ORDER BY r.bucket""")) {
      st.setObject(1, a.stageId());
      st.setObject(2, a.stageId());
      int buckets = 0;
      long points = 0;
      try (var rs = st.executeQuery()) {
        while (rs.next()) {
          buckets++;
          points += rs.getLong(2);
          assertThat(rs.getLong(2)).isEqualTo(rs.getLong(7));
          // boxed: NaN equals NaN (a bucket with a NaN point has NaN as its max, as the points do)
          assertThat(Double.valueOf(rs.getDouble(3))).isEqualTo(Double.valueOf(rs.getDouble(8)));
          assertThat(Double.valueOf(rs.getDouble(4))).isEqualTo(Double.valueOf(rs.getDouble(9)));
          assertThat(rs.getLong(5)).isEqualTo(rs.getLong(1) * EventIngestion.ROLLUP_STEPS);
        }
      }
      assertThat(buckets).isEqualTo(19); // steps 0..299 in buckets of 16
      assertThat(points).isEqualTo(300);
    }
  }

  @Test
  void anUnknownAttemptIsEmpty() {
    assertThat(store.reads().attempt(UUID.randomUUID())).isEmpty();
  }

  /** The values a CHECK constraint on {@code table.column} allows, as the schema says them. */
  private static Set<String> allowed(String table, String column) throws Exception {
    try (Connection c = pg.getPostgresDatabase().getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint"
                    + " WHERE conrelid = ?::regclass AND contype = 'c'")) {
      ps.setString(1, table);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          String def = rs.getString(1);
          if (!def.contains("(" + column + " ") && !def.contains("(" + column + ")")) continue;
          Set<String> values = new TreeSet<>();
          Matcher m = Pattern.compile("'([A-Z_]+)'").matcher(def);
          while (m.find()) values.add(m.group(1));
          return values;
        }
      }
    }
    throw new AssertionError("no CHECK constraint on " + table + "." + column);
  }

  private static Set<String> names(Enum<?>[] values) {
    return Arrays.stream(values).map(Enum::name).collect(Collectors.toCollection(TreeSet::new));
  }

  @Test
  void everyStatusEnumIsExactlyWhatTheSchemaAllows() throws Exception {
    assertThat(names(PipelineStatus.values())).isEqualTo(allowed("pipelines", "status"));
    assertThat(names(StageStatus.values())).isEqualTo(allowed("stages", "status"));
    assertThat(names(AttemptStatus.values())).isEqualTo(allowed("attempts", "status"));
    assertThat(names(CheckpointState.values())).isEqualTo(allowed("checkpoints", "state"));
  }

  private static Map<String, Object> row(String sql, UUID id) {
    try (Connection c = pg.getPostgresDatabase().getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setObject(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        assertThat(rs.next()).as("a row for %s", id).isTrue();
        Map<String, Object> out = new HashMap<>();
        for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
          out.put(rs.getMetaData().getColumnName(i), rs.getObject(i));
        }
        return out;
      }
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void statusWritesKeepCountsReasonsAndEndTimes() {
    AttemptRef a = newAttempt("statuses");
    String p = "SELECT status, failure_reason, started_at, finished_at FROM pipelines WHERE id = ?";
    store.pipelines().setStatus(a.pipelineId(), PipelineStatus.RUNNING, null);
    assertThat(row(p, a.pipelineId()))
        .containsEntry("status", "RUNNING")
        .containsEntry("finished_at", null)
        .doesNotContainEntry("started_at", null);
    store.pipelines().setStatus(a.pipelineId(), PipelineStatus.FAILED, "stage pretrain failed");
    assertThat(row(p, a.pipelineId()))
        .containsEntry("status", "FAILED")
        .containsEntry("failure_reason", "stage pretrain failed")
        .doesNotContainEntry("finished_at", null);
    assertThat(store.reads().pipelineStatus(a.pipelineId()).orElseThrow())
        .isEqualTo(new MetadataReads.PipelineState(PipelineStatus.FAILED, "stage pretrain failed"));

    String s =
        "SELECT status, rollbacks, restarts, failure_reason, finished_at FROM stages WHERE id = ?";
    store.stages().recordEvent(a.pipelineId(), a.stageId(), StageStatus.ROLLING_BACK, "WARN", "r");
    store.stages().recordEvent(a.pipelineId(), a.stageId(), StageStatus.RESTARTING, "WARN", "x");
    store.stages().recordEvent(a.pipelineId(), a.stageId(), StageStatus.ROLLING_BACK, "WARN", "r");
    assertThat(row(s, a.stageId()))
        .containsEntry("status", "ROLLING_BACK")
        .containsEntry("rollbacks", 2)
        .containsEntry("restarts", 1)
        .containsEntry("failure_reason", null)
        .containsEntry("finished_at", null);
    store.stages().recordEvent(a.pipelineId(), a.stageId(), StageStatus.FAILED, "ERROR", "gave up");
    assertThat(row(s, a.stageId()))
        .containsEntry("status", "FAILED")
        .containsEntry("failure_reason", "gave up")
        .doesNotContainEntry("finished_at", null);

    String t = "SELECT status, exit_code, reason, job_name, finished_at FROM attempts WHERE id = ?";
    store.attempts().mark(a.attemptId(), AttemptStatus.LAUNCHED, null, null, "job-1");
    assertThat(row(t, a.attemptId()))
        .containsEntry("status", "LAUNCHED")
        .containsEntry("finished_at", null);
    store.attempts().mark(a.attemptId(), AttemptStatus.CRASHED, 137, "OOMKilled", null);
    assertThat(row(t, a.attemptId()))
        .containsEntry("status", "CRASHED")
        .containsEntry("exit_code", 137)
        .containsEntry("reason", "OOMKilled")
        .containsEntry("job_name", "job-1")
        .doesNotContainEntry("finished_at", null);
  }
}
