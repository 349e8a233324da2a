package dev.anneal.activities.metadata;

import static org.assertj.core.api.Assertions.assertThat;

import dev.anneal.protocol.EventBatch;
import dev.anneal.protocol.RunnerEvent;
import dev.anneal.protocol.StageKind;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
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

  private static MetadataStore.AttemptRef newAttempt(String pipelineName) {
    UUID team = store.ensureTeam("research");
    assertThat(store.ensureTeam("research")).isEqualTo(team);
    UUID pipeline =
        store.createPipeline(team, pipelineName, "{\"kind\":\"Pipeline\"}", "wf-" + pipelineName);
    UUID stage = store.createStage(pipeline, 0, StageKind.PRETRAIN, 100);
    UUID attempt = store.createAttempt(stage, 1, "first");
    return store.attempt(attempt).orElseThrow();
  }

  private static EventBatch batch(MetadataStore.AttemptRef a, List<RunnerEvent> events) {
    return new EventBatch(a.team(), a.pipelineName(), a.stage(), a.number(), events);
  }

  @Test
  void ingestionStoresEventsMetricsAndCheckpointsOnce() {
    MetadataStore.AttemptRef a = newAttempt("p1");
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
    MetadataStore.Ingested first = store.ingest(a, batch(a, events));
    assertThat(first).isEqualTo(new MetadataStore.Ingested(4, 0, 4, false));

    // the runner re-sends after a lost acknowledgement, plus one new event
    List<RunnerEvent> again = new java.util.ArrayList<>(events.subList(2, 4));
    again.add(new RunnerEvent.Finished(5, T, 2, "k/manifest.json", java.util.Map.of()));
    MetadataStore.Ingested second = store.ingest(a, batch(a, again));
    assertThat(second).isEqualTo(new MetadataStore.Ingested(1, 2, 5, true));

    assertThat(store.count("metrics", a.stageId())).isEqualTo(3);
    assertThat(store.count("checkpoints", a.stageId())).isEqualTo(1);
    List<MetadataStore.EventRow> log = store.events(a.pipelineId(), 0, 100);
    assertThat(log)
        .extracting(MetadataStore.EventRow::runnerSeq)
        .containsExactly(1L, 2L, 3L, 4L, 5L);
    assertThat(log)
        .extracting(MetadataStore.EventRow::message)
        .contains("training tiny", "checkpoint committed at step 2", "finished at step 2");
    assertThat(store.events(a.pipelineId(), log.get(2).id(), 100)).hasSize(2);
  }

  @Test
  void rollupsAgreeWithThePointsAndCountARetriedBatchOnce() throws Exception {
    MetadataStore.AttemptRef a = newAttempt("rollups");
    List<RunnerEvent> events = new java.util.ArrayList<>();
    for (int b = 0; b < 10; b++) {
      List<RunnerEvent.MetricPoint> pts = new java.util.ArrayList<>();
      for (int s = b * 30; s < b * 30 + 30; s++) {
        pts.add(new RunnerEvent.MetricPoint(s, "loss", s == 77 ? Double.NaN : s == 200 ? 99 : s));
      }
      events.add(new RunnerEvent.Metrics(b + 1, T.plusSeconds(b), pts));
    }
    store.ingest(a, batch(a, events.subList(0, 6)));
    store.ingest(a, batch(a, events)); // the first six again: duplicates
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
          assertThat(rs.getLong(5)).isEqualTo(rs.getLong(1) * MetadataStore.ROLLUP_STEPS);
        }
      }
      assertThat(buckets).isEqualTo(19); // steps 0..299 in buckets of 16
      assertThat(points).isEqualTo(300);
    }
  }

  @Test
  void anUnknownAttemptIsEmpty() {
    assertThat(store.attempt(UUID.randomUUID())).isEmpty();
  }
}
