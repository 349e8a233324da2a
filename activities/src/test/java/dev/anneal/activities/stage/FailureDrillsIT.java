package dev.anneal.activities.stage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.net.httpserver.HttpServer;
import dev.anneal.activities.launch.JobLauncher;
import dev.anneal.activities.launch.LocalProcessLauncher;
import dev.anneal.activities.metadata.EventRow;
import dev.anneal.activities.metadata.MetadataStore;
import dev.anneal.activities.store.ObjectStore;
import dev.anneal.activities.store.S3Settings;
import dev.anneal.activities.store.StoredObject;
import dev.anneal.activities.testing.LocalS3;
import dev.anneal.protocol.EventBatch;
import dev.anneal.protocol.ObjectKeys;
import dev.anneal.protocol.ProtocolJson;
import dev.anneal.protocol.RunnerEvent;
import dev.anneal.workflows.api.TaskQueues;
import dev.anneal.workflows.api.jobs.JobNames;
import dev.anneal.workflows.api.jobs.JobState;
import dev.anneal.workflows.api.jobs.LaunchRequest;
import dev.anneal.workflows.api.spec.PipelineSpec;
import dev.anneal.workflows.api.spec.PipelineSpecs;
import dev.anneal.workflows.api.stage.StageInput;
import dev.anneal.workflows.api.stage.StageResult;
import dev.anneal.workflows.api.stage.StageWorkflow;
import dev.anneal.workflows.api.status.StageStatus;
import dev.anneal.workflows.impl.StageWorkflowImpl;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.worker.WorkerFactory;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The failure drills of the pipeline issue, on real parts: PostgreSQL, an S3 server, the real
 * runner in child JVMs, the runner's events over HTTP, and the stage workflow in Temporal's test
 * environment (one per drill; the database, S3 and event endpoint are shared by the suite).
 *
 * <ol>
 *   <li>an injected loss spike is rolled back to a healthy checkpoint, data skipped, LR lowered;
 *   <li>a runner killed with SIGKILL is restarted from its newest checkpoint, losing at most one
 *       checkpoint interval of steps;
 *   <li>the worker that follows jobs, stopped mid-stage and started again, re-attaches to the same
 *       job (never a second launch);
 *   <li>a checkpoint corrupted in S3 is skipped for the previous good one, with an event;
 *   <li>spent budgets fail the stage with the reason;
 *   <li>a restart after a rollback resumes on the live branch, never from a checkpoint the rollback
 *       abandoned.
 * </ol>
 *
 * <p>In drill 3 the workers of the job queue (where the await activity runs) are restarted, and the
 * workflow worker stays up: Temporal's in-process test server loses a workflow task that was handed
 * to a worker's long poll as that worker vanished (a real server hands it out again after the
 * workflow task timeout), so restarting the workflow worker as well would test the test server, not
 * Anneal.
 */
class FailureDrillsIT {

  private static final Path RUNNER = Path.of("../gpu-runner/engine/target/anneal-runner.jar");
  private static final int CHECKPOINT_EVERY = 20;

  @TempDir static Path dir;

  /** The pipeline whose runner finds the platform down: every POST of its events fails. */
  private static volatile UUID unreachableFor;

  private static EmbeddedPostgres pg;
  private static MetadataStore meta;
  private static LocalS3 s3;
  private static ObjectStore store;
  private static HttpServer ingest;

  @BeforeAll
  static void start() throws Exception {
    assumeTrue(
        Files.isRegularFile(RUNNER), "run the whole build: the engine module makes " + RUNNER);
    pg = EmbeddedPostgres.builder().start();
    Flyway.configure()
        .dataSource(pg.getPostgresDatabase())
        .locations("classpath:db/migration")
        .load()
        .migrate();
    meta = new MetadataStore(pg.getPostgresDatabase());
    s3 = LocalS3.start(dir.resolve("s3"));
    store =
        new ObjectStore(
            new S3Settings(s3.endpoint(), LocalS3.ACCESS_KEY, LocalS3.SECRET_KEY, "anneal", null));
    store.ensureBucket();
    ingest = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    ingest.createContext(
        "/internal/v1/events",
        ex -> {
          // the platform's endpoint in miniature: the token is the attempt id here
          UUID attempt =
              UUID.fromString(ex.getRequestHeaders().getFirst("Authorization").substring(7));
          if (meta.reads().attempt(attempt).orElseThrow().pipelineId().equals(unreachableFor)) {
            ex.sendResponseHeaders(503, -1); // the platform is down for this drill's runner
            ex.close();
            return;
          }
          EventBatch batch =
              ProtocolJson.readEventBatch(
                  new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
          meta.ingestion().ingest(meta.reads().attempt(attempt).orElseThrow(), batch);
          ex.sendResponseHeaders(204, -1);
          ex.close();
        });
    ingest.start();
  }

  @AfterAll
  static void stop() throws Exception {
    if (ingest != null) ingest.stop(0);
    if (s3 != null) s3.close();
    if (pg != null) pg.close();
  }

  // ---------------------------------------------------------------------------------------------
  // the drills

  @Test
  void drill1_anInjectedSpikeIsRolledBackAndTheStageCompletes() throws Exception {
    Drill d =
        new Drill(
            "spike",
            140,
            """
                stability: {rollback: {steps: 20}, skipBatches: 30, lrFactor: 0.5, maxRollbacks: 2, maxRestarts: 1}
                inject: {spikeAtStep: 90, spikeSteps: 10, spikeLrMultiplier: 300}
            """);
    StageResult r = d.runToEnd();

    assertThat(r.status()).as(String.join("\n", r.decisions())).isEqualTo(StageStatus.SUCCEEDED);
    assertThat(r.rollbacks()).isEqualTo(1);
    assertThat(r.attempts()).isEqualTo(2);
    assertThat(r.finalManifestKey()).contains("step-00000140-a2");
    assertThat(r.decisions().get(0))
        .contains("loss spike at step 9")
        .contains("resume from the healthy checkpoint at step")
        .contains("learning rate x0.500");
    List<EventRow> log = meta.reads().events(d.pipeline, 0, 10_000);
    assertThat(log).anyMatch(e -> e.type().equals("instability"));
    assertThat(log)
        .anyMatch(
            e -> e.type().equals("stage") && e.message().startsWith("rollback 1: loss spike"));
    assertThat(log)
        .anyMatch(e -> e.type().equals("log") && e.message().startsWith("FAULT INJECTION"));
    assertThat(log).anyMatch(e -> e.type().equals("finished"));
  }

  @Test
  void drill2_aRunnerKilledWithSigkillRestartsFromItsNewestCheckpoint() throws Exception {
    Drill d = new Drill("sigkill", 160, "    stability: {maxRestarts: 2}\n");
    d.startAsync();
    Path job = d.awaitJobDir(1);
    awaitEvent(job, e -> e instanceof RunnerEvent.CheckpointCommitted c && c.step() >= 60);
    long pid = Long.parseLong(Files.readString(job.resolve("pid")).trim());
    ProcessHandle.of(pid).orElseThrow().destroyForcibly(); // SIGKILL: no checkpoint, no goodbye
    long reached = lastStep(job) + 1; // metrics carry the 0-based index of the step they end
    StageResult r = d.result();

    assertThat(r.status()).as(String.join("\n", r.decisions())).isEqualTo(StageStatus.SUCCEEDED);
    assertThat(r.restarts()).isEqualTo(1);
    assertThat(r.decisions().get(0)).contains("restart 1 after killed (SIGKILL");
    long resumed = resumeStep(r.decisions().get(0));
    assertThat(resumed).isGreaterThanOrEqualTo(60);
    assertThat(reached - resumed)
        .as("steps lost: reached %d, resumed from %d", reached, resumed)
        .isBetween(0L, (long) CHECKPOINT_EVERY);
    assertThat(r.finalManifestKey()).contains("step-00000160-a2");
  }

  @Test
  void drill2b_eventsThatNeverReachedThePlatformAreReadBackBeforeTheStageIsDecided()
      throws Exception {
    Drill d = new Drill("unreachable", 40, "");
    unreachableFor = d.pipeline;
    StageResult r;
    try {
      r = d.runToEnd();
    } finally {
      unreachableFor = null;
    }
    // not one event arrived over HTTP, yet the decision saw the runner's finished event
    assertThat(r.status()).as(String.join("\n", r.decisions())).isEqualTo(StageStatus.SUCCEEDED);
    assertThat(r.finalManifestKey()).contains("step-00000040-a1");
    List<EventRow> log = meta.reads().events(d.pipeline, 0, 10_000);
    assertThat(log).anyMatch(e -> e.type().equals("finished"));
    assertThat(log).anyMatch(e -> e.message().contains("had not reached the platform; read back"));
    // every step's metrics once: nothing missing, nothing twice
    assertThat(
            count(
                "SELECT count(DISTINCT step) FROM metrics WHERE stage_id = ? AND name = 'loss'",
                d.stage))
        .isEqualTo(40);
    assertThat(count("SELECT count(*) FROM metrics WHERE stage_id = ? AND name = 'loss'", d.stage))
        .isEqualTo(40);
  }

  @Test
  void drill3_aJobWorkerRestartedMidStageReattachesToTheSameJob() throws Exception {
    // long enough that the runner is still training when the new worker arrives
    Drill d = new Drill("worker", 600, "");
    d.startAsync();
    Path job = d.awaitJobDir(1);
    awaitEvent(job, e -> e instanceof RunnerEvent.CheckpointCommitted c && c.step() >= 20);
    String pid = Files.readString(job.resolve("pid")).trim();

    // the worker that follows jobs goes away in the middle of the await; the runner goes on
    d.jobWorkers.shutdownNow();
    d.jobWorkers.awaitTermination(20, TimeUnit.SECONDS);
    assertThat(ProcessHandle.of(Long.parseLong(pid)))
        .as("the runner should still be training when the new worker starts")
        .isPresent();
    // a new worker with a new launcher that has never seen the job: the retried await finds the
    // job by its name and follows it to the end
    d.jobWorkers = d.startJobWorkers(new LocalProcessLauncher(RUNNER, d.jobs, List.of()));
    StageResult r = d.result();

    assertThat(r.status()).as(String.join("\n", r.decisions())).isEqualTo(StageStatus.SUCCEEDED);
    assertThat(r.attempts()).isEqualTo(1);
    assertThat(r.restarts()).isZero();
    try (Stream<Path> jobs = Files.list(d.jobs)) {
      assertThat(jobs).hasSize(1); // launched once
    }
    assertThat(Files.readString(job.resolve("pid")).trim()).isEqualTo(pid);
    assertThat(count("SELECT count(*) FROM attempts WHERE stage_id = ?", d.stage)).isEqualTo(1);
  }

  @Test
  void drill4_aCorruptedCheckpointIsSkippedForThePreviousGoodOne() throws Exception {
    List<String> corrupted = new ArrayList<>();
    Drill d =
        new Drill(
            "corrupt",
            100,
            """
                stability: {maxRestarts: 3}
                inject: {crashAtStep: 70}
            """);
    // between the crash and the restart, the newest checkpoint's weights are overwritten in S3
    // with garbage of the same size (so only the sha256 tells)
    d.launcher =
        new CorruptingLauncher(
            d.launcher,
            2,
            () ->
                corrupted.add(
                    corruptNewestWeights(
                        "drills", ObjectKeys.pipelineRun("corrupt", d.pipeline.toString()))));
    StageResult r = d.runToEnd();

    assertThat(r.status()).as(String.join("\n", r.decisions())).isEqualTo(StageStatus.SUCCEEDED);
    assertThat(corrupted).singleElement().asString().contains("step-00000060-a1");
    assertThat(r.attempts()).isEqualTo(3);
    assertThat(r.decisions())
        .anyMatch(
            m ->
                m.startsWith("the checkpoint at step 60 failed verification")
                    && m.contains("is corrupt: its sha256 is"));
    assertThat(r.decisions()).anyMatch(m -> m.contains("resume from step 40"));
    List<EventRow> log = meta.reads().events(d.pipeline, 0, 10_000);
    assertThat(log)
        .anyMatch(
            e ->
                e.type().equals("stage")
                    && e.severity().equals("WARN")
                    && e.message().startsWith("the checkpoint at step 60 failed verification"));
  }

  @Test
  void drill5_spentBudgetsFailTheStageWithTheReason() throws Exception {
    Drill d =
        new Drill(
            "budget",
            100,
            """
                stability: {maxRestarts: 1}
                inject: {crashAtStep: 30, untilAttempt: 5}
            """);
    StageResult r = d.runToEnd();

    assertThat(r.status()).isEqualTo(StageStatus.FAILED);
    assertThat(r.attempts()).isEqualTo(2);
    assertThat(r.failureReason())
        .startsWith("the runner failed 2 times")
        .contains("the restart budget (maxRestarts=1) is spent");
    try (Connection c = pg.getPostgresDatabase().getConnection();
        PreparedStatement ps =
            c.prepareStatement("SELECT status, failure_reason FROM stages WHERE id = ?")) {
      ps.setObject(1, d.stage);
      try (ResultSet rs = ps.executeQuery()) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getString(1)).isEqualTo("FAILED");
        assertThat(rs.getString(2)).isEqualTo(r.failureReason());
      }
    }
  }

  /**
   * The defect seen in the demo: a restart after a rollback resumed from a checkpoint on the branch
   * the rollback had thrown away. Here attempt 1 spikes and rolls back to step 60; attempt 2 is
   * killed before its first checkpoint, so the restart must resume from step 60 of attempt 1 (not
   * attempt 1's step 80, trained on the skipped data); attempt 3 is killed after its first
   * checkpoint, so the next restart resumes from attempt 3's own.
   */
  @Test
  void drill6_aRestartAfterARollbackResumesOnTheLiveBranch() throws Exception {
    Drill d =
        new Drill(
            "lineage",
            140,
            """
                stability: {rollback: {steps: 20}, skipBatches: 30, lrFactor: 0.5, maxRollbacks: 1, maxRestarts: 2}
                inject: {spikeAtStep: 90, spikeSteps: 10, spikeLrMultiplier: 300}
            """);
    d.startAsync();
    kill(d.awaitJobDir(2)); // before attempt 2 has written anything
    Path third = d.awaitJobDir(3);
    awaitEvent(third, e -> e instanceof RunnerEvent.CheckpointCommitted);
    kill(third);
    StageResult r = d.result();

    assertThat(r.status()).as(String.join("\n", r.decisions())).isEqualTo(StageStatus.SUCCEEDED);
    assertThat(r.rollbacks()).isEqualTo(1);
    assertThat(r.restarts()).isEqualTo(2);
    Map<Integer, String> resumed = resumedFrom(d.stage);
    String rollback = resumed.get(2);
    assertThat(rollback).contains("step-00000060-a1");
    assertThat(resumed.get(3))
        .as("the restart after a crash before any checkpoint")
        .isEqualTo(rollback);
    assertThat(resumed.get(4))
        .as("the restart after the new attempt's checkpoint")
        .contains("-a3/");
    assertThat(resumed.values()).noneMatch(k -> k != null && k.contains("step-00000080-a1"));
    assertThat(r.finalManifestKey()).contains("-a4/");
  }

  private static void kill(Path job) throws Exception {
    long pid = Long.parseLong(Files.readString(job.resolve("pid")).trim());
    ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
  }

  /** Each attempt's resume checkpoint as recorded in PostgreSQL. */
  private static Map<Integer, String> resumedFrom(UUID stage) throws Exception {
    Map<Integer, String> out = new java.util.TreeMap<>();
    try (Connection c = pg.getPostgresDatabase().getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT number, resume_checkpoint FROM attempts WHERE stage_id = ? ORDER BY number")) {
      ps.setObject(1, stage);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) out.put(rs.getInt(1), rs.getString(2));
      }
    }
    return out;
  }

  // ---------------------------------------------------------------------------------------------
  // the drill's machinery

  /** One drill: its own Temporal test environment, pipeline rows and job folder. */
  final class Drill {
    final String name;
    final PipelineSpec spec;
    final UUID pipeline;
    final UUID stage;
    final Path jobs;
    final TestWorkflowEnvironment env = TestWorkflowEnvironment.newInstance();
    JobLauncher launcher;
    WorkerFactory controlWorkers;
    WorkerFactory jobWorkers;
    StageWorkflow wf;

    Drill(String name, int steps, String stageExtras) {
      this.name = name;
      this.spec =
          PipelineSpecs.parse(
              """
              apiVersion: anneal.dev/v1
              kind: Pipeline
              metadata: {name: %s}
              model: {preset: micro}
              tokenizer: {vocabSize: 300}
              datasets: [{name: prose, source: "synthetic:prose?docs=300"}]
              stages:
                - kind: pretrain
                  data: [{dataset: prose}]
                  hyperparameters: {steps: %d, batchSize: 8, seqLen: 32, lr: 0.002}
                  checkpoint: {everySteps: %d, keepLast: 20}
              %s"""
                  .formatted(name, steps, CHECKPOINT_EVERY, stageExtras));
      UUID team = meta.pipelines().ensureTeam("drills");
      this.pipeline = meta.pipelines().create(team, name, ProtocolJson.write(spec), "wf-" + name);
      this.stage = meta.stages().create(pipeline, 0, spec.stages().get(0).kind(), steps);
      this.jobs = dir.resolve("jobs-" + name);
      this.launcher = new LocalProcessLauncher(RUNNER, jobs, List.of());
    }

    StageActivitySet activities(JobLauncher l) {
      return StageActivitySet.create(
          store,
          meta,
          l,
          UUID::toString,
          () -> "http://127.0.0.1:" + ingest.getAddress().getPort() + "/internal/v1/events",
          Duration.ofMillis(200));
    }

    /** The control queue: the stage workflow and its short activities (prepare, launch, …). */
    WorkerFactory startControlWorkers(JobLauncher l) {
      WorkerFactory f = WorkerFactory.newInstance(env.getWorkflowClient());
      f.newWorker(TaskQueues.CONTROL).registerWorkflowImplementationTypes(StageWorkflowImpl.class);
      activities(l).registerControl(f.getWorker(TaskQueues.CONTROL));
      f.start();
      return f;
    }

    /** The job queue: the await activity that follows the job. */
    WorkerFactory startJobWorkers(JobLauncher l) {
      WorkerFactory f = WorkerFactory.newInstance(env.getWorkflowClient());
      activities(l).registerJobs(f.newWorker(TaskQueues.JOBS));
      f.start();
      return f;
    }

    void startAsync() {
      controlWorkers = startControlWorkers(launcher);
      jobWorkers = startJobWorkers(launcher);
      wf =
          env.getWorkflowClient()
              .newWorkflowStub(
                  StageWorkflow.class,
                  WorkflowOptions.newBuilder()
                      .setTaskQueue(TaskQueues.CONTROL)
                      .setWorkflowId("drill-" + name)
                      .build());
      WorkflowClient.start(
          wf::run,
          new StageInput(
              pipeline.toString(), stage.toString(), "drills", spec, 0, null, 1, 0, null, null));
    }

    StageResult result() {
      try {
        StageResult r =
            WorkflowStub.fromTyped(wf).getResult(5, TimeUnit.MINUTES, StageResult.class);
        assertNoSecretInHistory();
        return r;
      } catch (Exception e) {
        throw new AssertionError("drill " + name + " did not end", e);
      } finally {
        jobWorkers.shutdownNow();
        controlWorkers.shutdownNow();
        env.close();
      }
    }

    /** The S3 keys and event tokens reach the runner, never the workflow's stored history. */
    void assertNoSecretInHistory() {
      String history =
          env.getWorkflowClient().fetchHistory("drill-" + name).getHistory().toString();
      assertThat(history).as("payloads are readable in the text").contains("specUri");
      assertThat(history)
          .doesNotContain(LocalS3.SECRET_KEY)
          .doesNotContain(LocalS3.ACCESS_KEY)
          .doesNotContain(dev.anneal.protocol.EventSink.TOKEN_ENV);
    }

    StageResult runToEnd() {
      startAsync();
      return result();
    }

    /** The folder of the attempt's job, once the launcher made it. */
    Path awaitJobDir(int attempt) throws Exception {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (System.nanoTime() < deadline) {
        if (Files.isDirectory(jobs)) {
          try (Stream<Path> s = Files.list(jobs)) {
            var found =
                s.filter(p -> JobNames.attemptOf(p.getFileName().toString()) == attempt)
                    .filter(p -> Files.exists(p.resolve("pid")))
                    .findFirst();
            if (found.isPresent()) return found.get();
          }
        }
        Thread.sleep(50);
      }
      throw new AssertionError("no job folder for attempt " + attempt + " under " + jobs);
    }
  }

  private static List<RunnerEvent> events(Path job) {
    return new LocalProcessLauncher(RUNNER, job.getParent(), List.of())
        .events(job.getFileName().toString());
  }

  private static void awaitEvent(Path job, Predicate<RunnerEvent> p) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (System.nanoTime() < deadline) {
      if (events(job).stream().anyMatch(p)) return;
      Thread.sleep(25);
    }
    throw new AssertionError("the runner in " + job + " never sent the awaited event");
  }

  /** The last step index the runner reported (its metrics). */
  private static long lastStep(Path job) {
    return new LocalProcessLauncher(RUNNER, job.getParent(), List.of())
        .lastStep(job.getFileName().toString());
  }

  private static long resumeStep(String restartDecision) {
    Matcher m = Pattern.compile("resume from step (\\d+)").matcher(restartDecision);
    assertThat(m.find()).as(restartDecision).isTrue();
    return Long.parseLong(m.group(1));
  }

  private static long count(String sql, UUID id) throws Exception {
    try (Connection c = pg.getPostgresDatabase().getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setObject(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  /** Overwrites the weights of the newest committed checkpoint with same-size garbage. */
  private static String corruptNewestWeights(String team, String pipeline) {
    String prefix =
        ObjectKeys.checkpointsPrefix(team, pipeline, dev.anneal.protocol.StageKind.PRETRAIN);
    String newestManifest =
        store.list(prefix).stream()
            .map(StoredObject::key)
            .filter(k -> k.endsWith("/" + ObjectKeys.MANIFEST))
            .max(String::compareTo)
            .orElseThrow();
    String dirKey =
        newestManifest.substring(0, newestManifest.length() - ObjectKeys.MANIFEST.length());
    String weights =
        store.list(dirKey).stream()
            .map(StoredObject::key)
            .filter(k -> k.endsWith("model.safetensors"))
            .findFirst()
            .orElseThrow(() -> new AssertionError("no model.safetensors under " + dirKey));
    byte[] bytes = store.get(weights);
    for (int i = bytes.length / 2; i < bytes.length; i += 7) bytes[i] ^= 0x5A;
    store.put(weights, bytes, "application/octet-stream");
    return weights;
  }

  /** Runs a hook just before the given attempt is launched (a test seam, not a fake launcher). */
  private record CorruptingLauncher(JobLauncher delegate, int beforeAttempt, Runnable hook)
      implements JobLauncher {
    @Override
    public JobState launch(LaunchRequest request) {
      if (request.attempt() == beforeAttempt
          && delegate.status(request.jobName()).phase() == JobState.Phase.UNKNOWN) {
        hook.run();
      }
      return delegate.launch(request);
    }

    @Override
    public JobState status(String jobName) {
      return delegate.status(jobName);
    }

    @Override
    public void cancel(String jobName) {
      delegate.cancel(jobName);
    }
  }
}
