package dev.anneal.platform.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.anneal.activities.metadata.MetadataStore;
import dev.anneal.protocol.ObjectKeys;
import dev.anneal.protocol.ProtocolJson;
import dev.anneal.workflows.api.TaskQueues;
import dev.anneal.workflows.api.pipeline.PipelineInput;
import dev.anneal.workflows.api.pipeline.PipelineResult;
import dev.anneal.workflows.api.pipeline.PipelineWorkflow;
import dev.anneal.workflows.api.spec.PipelineSpec;
import dev.anneal.workflows.api.spec.PipelineSpecs;
import dev.anneal.workflows.api.status.PipelineStatus;
import dev.anneal.workflows.api.status.StageStatus;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;

/**
 * The platform hosts the pipeline: its Temporal worker runs the workflows, its activities launch
 * the real runner as a child JVM, and the runner's events come back over HTTP into PostgreSQL — all
 * on the embedded stack.
 */
@SpringBootTest(
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = {
      "anneal.embedded.data-dir=target/it-data/${random.uuid}",
      "anneal.embedded.postgres-port=0",
      "anneal.embedded.temporal-port=0",
      "anneal.embedded.s3-port=0",
      "anneal.runner.jar=../gpu-runner/engine/target/anneal-runner.jar"
    })
class HostedPipelineIT {

  @Autowired WorkflowClient client;
  @Autowired MetadataStore meta;

  @Test
  void aPretrainingPipelineRunsToTheEndOnTheEmbeddedStack() {
    assumeTrue(
        Files.isRegularFile(Path.of("../gpu-runner/engine/target/anneal-runner.jar")),
        "run the whole build");
    PipelineSpec spec =
        PipelineSpecs.parse(
            """
        apiVersion: anneal.dev/v1
        kind: Pipeline
        metadata: {name: hosted}
        model: {preset: micro}
        tokenizer: {vocabSize: 300}
        datasets: [{name: prose, source: "synthetic:prose?docs=200"}]
        stages:
          - kind: pretrain
            data: [{dataset: prose}]
            hyperparameters: {steps: 40, batchSize: 8, seqLen: 32, lr: 0.002}
            checkpoint: {everySteps: 20}
        """);
    UUID team = meta.pipelines().ensureTeam("hosted");
    UUID pipeline = meta.pipelines().create(team, "hosted", ProtocolJson.write(spec), "hosted-1");
    UUID stage = meta.stages().create(pipeline, 0, spec.stages().get(0).kind(), 40);
    PipelineWorkflow wf =
        client.newWorkflowStub(
            PipelineWorkflow.class,
            WorkflowOptions.newBuilder()
                .setTaskQueue(TaskQueues.CONTROL)
                .setWorkflowId("hosted-1")
                .build());
    PipelineResult r =
        wf.run(
            new PipelineInput(pipeline.toString(), "hosted", spec, List.of(stage.toString()), 1));
    assertThat(r.status()).as(String.valueOf(r)).isEqualTo(PipelineStatus.SUCCEEDED);
    assertThat(r.stages().get(0).finalManifestKey())
        .isEqualTo(
            "teams/hosted/pipelines/"
                + ObjectKeys.pipelineRun("hosted", pipeline.toString())
                + "/pretrain/checkpoints/step-00000040-a1/manifest.json");
    assertThat(meta.reads().count("metrics", stage)).isGreaterThanOrEqualTo(40);
    assertThat(meta.reads().currentStep(stage)).isEqualTo(40);
    assertThat(meta.reads().events(pipeline, 0, 10_000)).anyMatch(e -> e.type().equals("finished"));
    // the pipeline's row follows the workflow: the API lists pipelines from PostgreSQL
    assertThat(meta.reads().pipelineStatus(pipeline))
        .hasValueSatisfying(row -> assertThat(row.status()).isEqualTo(PipelineStatus.SUCCEEDED));
    assertThat(meta.reads().stageSummaries(pipeline))
        .singleElement()
        .satisfies(
            s -> {
              assertThat(s.status()).isEqualTo(StageStatus.SUCCEEDED);
              assertThat(s.eval()).contains("\"final_loss\"");
              assertThat(s.wallSeconds()).isPositive();
            });
    assertThat(meta.reads().stageLineage(stage).finalCheckpoint())
        .isEqualTo(r.stages().get(0).finalManifestKey());
  }
}
