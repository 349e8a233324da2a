package dev.anneal.activities.stage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.net.httpserver.HttpServer;
import dev.anneal.activities.launch.LocalProcessLauncher;
import dev.anneal.activities.metadata.MetadataStore;
import dev.anneal.activities.store.ObjectStore;
import dev.anneal.activities.store.S3Settings;
import dev.anneal.activities.testing.LocalS3;
import dev.anneal.protocol.EventBatch;
import dev.anneal.protocol.ProtocolJson;
import dev.anneal.workflows.api.TaskQueues;
import dev.anneal.workflows.api.spec.PipelineSpec;
import dev.anneal.workflows.api.spec.PipelineSpecs;
import dev.anneal.workflows.api.stage.StageInput;
import dev.anneal.workflows.api.stage.StageResult;
import dev.anneal.workflows.api.stage.StageWorkflow;
import dev.anneal.workflows.impl.StageWorkflowImpl;
import io.temporal.client.WorkflowOptions;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.worker.Worker;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Failure drill 1 on real parts: PostgreSQL, an S3 server, the real runner in a child JVM, the
 * runner's events over HTTP, and the stage workflow (in Temporal's test environment). An injected
 * loss spike makes the first attempt unstable; the workflow rolls back to a healthy checkpoint at
 * least rollback.steps earlier, skips data, halves the learning rate, and the stage completes.
 */
class RollbackDrillIT {

  private static final Path RUNNER = Path.of("../gpu-runner/engine/target/anneal-runner.jar");

  @TempDir Path dir;

  @Test
  void anInjectedSpikeIsRolledBackAndTheStageCompletes() throws Exception {
    assumeTrue(
        Files.isRegularFile(RUNNER), "run the whole build: the engine module makes " + RUNNER);
    try (EmbeddedPostgres pg = EmbeddedPostgres.builder().start()) {
      Flyway.configure()
          .dataSource(pg.getPostgresDatabase())
          .locations("classpath:db/migration")
          .load()
          .migrate();
      MetadataStore meta = new MetadataStore(pg.getPostgresDatabase());

      LocalS3 s3 = LocalS3.start(dir.resolve("s3"));
      HttpServer ingest = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
      ingest.createContext(
          "/internal/v1/events",
          ex -> {
            // the platform's endpoint in miniature: the token is the attempt id here
            UUID attempt =
                UUID.fromString(ex.getRequestHeaders().getFirst("Authorization").substring(7));
            EventBatch batch =
                ProtocolJson.readEventBatch(
                    new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            meta.ingest(meta.attempt(attempt).orElseThrow(), batch);
            ex.sendResponseHeaders(204, -1);
            ex.close();
          });
      ingest.start();
      TestWorkflowEnvironment env = TestWorkflowEnvironment.newInstance();
      try {
        ObjectStore store =
            new ObjectStore(
                new S3Settings(
                    s3.endpoint(), LocalS3.ACCESS_KEY, LocalS3.SECRET_KEY, "anneal", null));
        store.ensureBucket();
        StageActivitiesImpl activities =
            new StageActivitiesImpl(
                store,
                meta,
                new LocalProcessLauncher(RUNNER, dir.resolve("jobs"), List.of()),
                UUID::toString,
                () -> "http://127.0.0.1:" + ingest.getAddress().getPort() + "/internal/v1/events",
                Duration.ofMillis(200));
        Worker control = env.newWorker(TaskQueues.CONTROL);
        control.registerWorkflowImplementationTypes(StageWorkflowImpl.class);
        control.registerActivitiesImplementations(activities);
        env.newWorker(TaskQueues.JOBS).registerActivitiesImplementations(activities);
        env.start();

        PipelineSpec spec =
            PipelineSpecs.parse(
                """
            apiVersion: anneal.dev/v1
            kind: Pipeline
            metadata: {name: drill}
            model: {preset: micro}
            tokenizer: {vocabSize: 300}
            datasets: [{name: prose, source: "synthetic:prose?docs=300"}]
            stages:
              - kind: pretrain
                data: [{dataset: prose}]
                hyperparameters: {steps: 140, batchSize: 8, seqLen: 32, lr: 0.002}
                checkpoint: {everySteps: 20, keepLast: 10}
                stability: {rollback: {steps: 20}, skipBatches: 30, lrFactor: 0.5, maxRollbacks: 2, maxRestarts: 1}
                inject: {spikeAtStep: 90, spikeSteps: 10, spikeLrMultiplier: 300}
            """);
        UUID team = meta.ensureTeam("drills");
        UUID pipeline = meta.createPipeline(team, "drill", ProtocolJson.write(spec), "wf-drill");
        UUID stage = meta.createStage(pipeline, 0, spec.stages().get(0).kind(), 140);
        StageWorkflow wf =
            env.getWorkflowClient()
                .newWorkflowStub(
                    StageWorkflow.class,
                    WorkflowOptions.newBuilder()
                        .setTaskQueue(TaskQueues.CONTROL)
                        .setWorkflowId("drill-1")
                        .build());
        StageResult r =
            wf.run(
                new StageInput(pipeline.toString(), stage.toString(), "drills", spec, 0, null, 1));

        assertThat(r.status()).as(String.join("\n", r.decisions())).isEqualTo("SUCCEEDED");
        assertThat(r.rollbacks()).isEqualTo(1);
        assertThat(r.attempts()).isEqualTo(2);
        assertThat(r.finalManifestKey()).contains("step-00000140-a2");
        String rollback = r.decisions().get(0);
        assertThat(rollback)
            .contains("loss spike at step 9")
            .contains("resume from the healthy checkpoint at step")
            .contains("learning rate x0.500");
        List<MetadataStore.EventRow> log = meta.events(pipeline, 0, 10_000);
        assertThat(log).anyMatch(e -> e.type().equals("instability"));
        assertThat(log)
            .anyMatch(
                e -> e.type().equals("stage") && e.message().startsWith("rollback 1: loss spike"));
        assertThat(log)
            .anyMatch(e -> e.type().equals("log") && e.message().startsWith("FAULT INJECTION"));
        assertThat(log).anyMatch(e -> e.type().equals("finished"));
      } finally {
        env.close();
        ingest.stop(0);
        s3.close();
      }
    }
  }
}
