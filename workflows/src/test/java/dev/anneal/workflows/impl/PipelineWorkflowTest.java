package dev.anneal.workflows.impl;

import static org.assertj.core.api.Assertions.assertThat;

import dev.anneal.workflows.api.TaskQueues;
import dev.anneal.workflows.api.pipeline.PipelineInput;
import dev.anneal.workflows.api.pipeline.PipelineResult;
import dev.anneal.workflows.api.pipeline.PipelineWorkflow;
import dev.anneal.workflows.api.spec.PipelineSpec;
import dev.anneal.workflows.api.spec.PipelineSpecs;
import dev.anneal.workflows.api.stage.AttemptOutcome;
import io.temporal.client.WorkflowOptions;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.worker.Worker;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class PipelineWorkflowTest {

  private TestWorkflowEnvironment env;
  private final StageWorkflowTest.Scripted activities = new StageWorkflowTest.Scripted();

  private static final PipelineSpec SPEC =
      PipelineSpecs.parse(
          """
      apiVersion: anneal.dev/v1
      kind: Pipeline
      metadata: {name: two}
      datasets: [{name: d, source: "synthetic:prose"}]
      stages:
        - {kind: pretrain, data: [{dataset: d}], hyperparameters: {steps: 100}, stability: {maxRestarts: 0}}
        - {kind: sft, from: pretrain, data: [{dataset: d}], hyperparameters: {steps: 50}}
      """);

  @BeforeEach
  void setUp() {
    env = TestWorkflowEnvironment.newInstance();
    Worker control = env.newWorker(TaskQueues.CONTROL);
    control.registerWorkflowImplementationTypes(
        PipelineWorkflowImpl.class, StageWorkflowImpl.class);
    control.registerActivitiesImplementations(activities);
    env.newWorker(TaskQueues.JOBS).registerActivitiesImplementations(activities);
    env.start();
  }

  @AfterEach
  void tearDown() {
    env.close();
  }

  private PipelineResult run() {
    PipelineWorkflow wf =
        env.getWorkflowClient()
            .newWorkflowStub(
                PipelineWorkflow.class,
                WorkflowOptions.newBuilder()
                    .setTaskQueue(TaskQueues.CONTROL)
                    .setWorkflowId("pipeline-" + System.nanoTime())
                    .build());
    return wf.run(new PipelineInput("p1", "t", SPEC, List.of("s1", "s2"), 5));
  }

  @Test
  void stagesRunInOrderEachFromItsParentsFinalCheckpoint() {
    activities.outcomes.add(
        new AttemptOutcome(0, "ok", null, List.of(), 100, "k/pretrain/final/manifest.json"));
    activities.outcomes.add(
        new AttemptOutcome(0, "ok", null, List.of(), 50, "k/sft/final/manifest.json"));
    PipelineResult r = run();
    assertThat(r.status()).isEqualTo("SUCCEEDED");
    assertThat(r.stages()).hasSize(2);
    assertThat(activities.plans.get(0).stage().initFrom()).isNull();
    assertThat(activities.plans.get(1).stage().initFrom().manifestKey())
        .isEqualTo("k/pretrain/final/manifest.json");
    assertThat(activities.plans.get(1).stage().stage().name()).isEqualTo("sft");
  }

  @Test
  void cancelStopsBeforeTheNextStageAndStatusSaysWhere() throws Exception {
    PipelineWorkflow wf =
        env.getWorkflowClient()
            .newWorkflowStub(
                PipelineWorkflow.class,
                WorkflowOptions.newBuilder()
                    .setTaskQueue(TaskQueues.CONTROL)
                    .setWorkflowId("pipeline-cancel")
                    .build());
    io.temporal.client.WorkflowClient.start(
        wf::run, new PipelineInput("p1", "t", SPEC, List.of("s1", "s2"), 5));
    while (activities.launched.isEmpty()) Thread.sleep(20);
    assertThat(wf.status()).isEqualTo("stage pretrain running");
    wf.cancel();
    synchronized (activities.outcomes) {
      activities.outcomes.add(
          new AttemptOutcome(0, "ok", null, List.of(), 100, "k/final/manifest.json"));
    }
    PipelineResult r =
        io.temporal.client.WorkflowStub.fromTyped(wf).getResult(PipelineResult.class);
    assertThat(r.status()).isEqualTo("CANCELLED");
    assertThat(r.reason()).isEqualTo("cancelled before stage sft");
    assertThat(activities.launched).hasSize(1);
  }

  @Test
  void aFailedStageStopsThePipelineWithItsReason() {
    activities.outcomes.add(
        new AttemptOutcome(1, "crash: the runner failed unexpectedly", null, List.of(), 10, null));
    PipelineResult r = run();
    assertThat(r.status()).isEqualTo("FAILED");
    assertThat(r.reason()).startsWith("stage pretrain failed: the runner failed 1 times");
    assertThat(activities.launched).hasSize(1);
  }
}
