package dev.anneal.workflows.impl;

import static org.assertj.core.api.Assertions.assertThat;

import dev.anneal.workflows.api.TaskQueues;
import dev.anneal.workflows.api.pipeline.PipelineInput;
import dev.anneal.workflows.api.pipeline.PipelineResult;
import dev.anneal.workflows.api.pipeline.PipelineWorkflow;
import dev.anneal.workflows.api.spec.PipelineSpec;
import dev.anneal.workflows.api.spec.PipelineSpecs;
import dev.anneal.workflows.api.stage.AttemptOutcome;
import dev.anneal.workflows.api.stage.GateOutcome;
import dev.anneal.workflows.api.stage.ModelCardRequest;
import dev.anneal.workflows.api.status.PipelineStatus;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.worker.Worker;
import java.util.List;
import java.util.Map;
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
    return run(SPEC);
  }

  private PipelineResult run(PipelineSpec spec) {
    return stub("pipeline-" + System.nanoTime())
        .run(new PipelineInput("p1", "t", spec, List.of("s1", "s2"), 5));
  }

  private PipelineWorkflow stub(String id) {
    return env.getWorkflowClient()
        .newWorkflowStub(
            PipelineWorkflow.class,
            WorkflowOptions.newBuilder()
                .setTaskQueue(TaskQueues.CONTROL)
                .setWorkflowId(id)
                .build());
  }

  static AttemptOutcome ok(long step, String manifest, double finalLoss) {
    return new AttemptOutcome(
        0,
        "ok",
        null,
        List.of(),
        step,
        manifest,
        Map.of("final_loss", finalLoss, "steps", (double) step));
  }

  private static PipelineSpec gated(String gate) {
    return PipelineSpecs.parse(
        """
        apiVersion: anneal.dev/v1
        kind: Pipeline
        metadata: {name: two}
        datasets: [{name: d, source: "synthetic:prose"}]
        stages:
          - {kind: pretrain, data: [{dataset: d}], hyperparameters: {steps: 100}, gate: %s}
          - {kind: sft, from: pretrain, data: [{dataset: d}], hyperparameters: {steps: 50}}
        """
            .formatted(gate));
  }

  @Test
  void stagesRunInOrderEachFromItsParentsFinalCheckpoint() {
    activities.outcomes.add(ok(100, "k/pretrain/final/manifest.json", 0.4));
    activities.outcomes.add(ok(50, "k/sft/final/manifest.json", 0.3));
    PipelineResult r = run();
    assertThat(r.status()).isEqualTo(PipelineStatus.SUCCEEDED);
    assertThat(r.stages()).hasSize(2);
    assertThat(activities.plans.get(0).stage().initFrom()).isNull();
    assertThat(activities.plans.get(1).stage().initFrom().manifestKey())
        .isEqualTo("k/pretrain/final/manifest.json");
    assertThat(activities.plans.get(1).stage().position()).isEqualTo(1);
  }

  @Test
  void pauseHoldsBeforeTheNextStageAndCancelThenEndsThePipeline() throws Exception {
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
    wf.pause();
    assertThat(wf.status()).isEqualTo("stage pretrain running (paused)");
    synchronized (activities.outcomes) {
      activities.outcomes.add(ok(100, "k/final/manifest.json", 0.4));
    }
    while (!wf.status().startsWith("paused before stage sft")) Thread.sleep(20);
    while (!activities.pipelineStatuses.contains("PAUSED")) Thread.sleep(20);
    wf.cancel();
    PipelineResult r =
        io.temporal.client.WorkflowStub.fromTyped(wf).getResult(PipelineResult.class);
    assertThat(r.status()).isEqualTo(PipelineStatus.CANCELLED);
    assertThat(r.reason()).isEqualTo("cancelled before stage sft");
    assertThat(activities.launched).hasSize(1);
  }

  @Test
  void aFailedStageStopsThePipelineWithItsReason() {
    activities.outcomes.add(
        new AttemptOutcome(
            1, "crash: the runner failed unexpectedly", null, List.of(), 10, null, null));
    PipelineResult r = run();
    assertThat(r.status()).isEqualTo(PipelineStatus.FAILED);
    assertThat(r.reason()).startsWith("stage pretrain failed: the runner failed 1 times");
    assertThat(activities.launched).hasSize(1);
  }

  @Test
  void aGateWithinBoundsLetsThePipelineGoOn() {
    activities.outcomes.add(ok(100, "k/pretrain/final/manifest.json", 0.4));
    activities.outcomes.add(ok(50, "k/sft/final/manifest.json", 0.3));
    PipelineResult r = run(gated("{metric: final_loss, max: 1.0}"));
    assertThat(r.status()).isEqualTo(PipelineStatus.SUCCEEDED);
    assertThat(activities.events)
        .anyMatch(
            e ->
                e.message()
                    .equals("gate after stage pretrain passed: final_loss = 0.4 (must be <= 1.0)"));
    assertThat(activities.pipelineStatuses).containsExactly("RUNNING", "SUCCEEDED");
    // each stage's model card is rewritten once its gate has decided, with the gates so far
    GateOutcome passed = new GateOutcome("pretrain", "final_loss", 0.4, "must be <= 1.0", "passed");
    assertThat(activities.cards)
        .containsExactly(
            new ModelCardRequest("p1", 0, "k/pretrain/final/manifest.json", List.of(passed)),
            new ModelCardRequest("p1", 1, "k/sft/final/manifest.json", List.of(passed)));
  }

  @Test
  void aFailedStopGateStopsThePipeline() {
    activities.outcomes.add(ok(100, "k/pretrain/final/manifest.json", 2.5));
    PipelineResult r = run(gated("{metric: final_loss, max: 1.0, onFail: stop}"));
    assertThat(r.status()).isEqualTo(PipelineStatus.FAILED);
    assertThat(r.reason())
        .isEqualTo("gate after stage pretrain failed: final_loss = 2.5 (must be <= 1.0)");
    assertThat(activities.launched).hasSize(1);
    assertThat(activities.pipelineStatuses.get(activities.pipelineStatuses.size() - 1))
        .isEqualTo("FAILED: " + r.reason());
  }

  @Test
  void aGateOnAFigureTheStageDidNotReportSaysWhatItDidReport() {
    activities.outcomes.add(ok(100, "k/pretrain/final/manifest.json", 0.4));
    PipelineResult r = run(gated("{metric: eval_accuracy, min: 0.9}"));
    assertThat(r.status()).isEqualTo(PipelineStatus.FAILED);
    assertThat(r.reason())
        .isEqualTo(
            "gate after stage pretrain checks 'eval_accuracy', which the stage did not report (it reported: final_loss, steps)");
  }

  @Test
  void aFailedApproveGateWaitsForAPerson() throws Exception {
    activities.outcomes.add(ok(100, "k/pretrain/final/manifest.json", 2.5));
    activities.outcomes.add(ok(50, "k/sft/final/manifest.json", 0.3));
    PipelineWorkflow wf = stub("pipeline-approve");
    WorkflowClient.start(
        wf::run,
        new PipelineInput(
            "p1",
            "t",
            gated("{metric: final_loss, max: 1.0, onFail: approve}"),
            List.of("s1", "s2"),
            5));
    while (!wf.status().startsWith("waiting for approval")) Thread.sleep(20);
    assertThat(wf.status())
        .isEqualTo("waiting for approval after stage pretrain: final_loss = 2.5 (must be <= 1.0)");
    assertThat(activities.launched).hasSize(1);
    while (!activities.pipelineStatuses.contains("WAITING_APPROVAL")) Thread.sleep(20);
    wf.approve("pretrain");
    PipelineResult r = WorkflowStub.fromTyped(wf).getResult(PipelineResult.class);
    assertThat(r.status()).isEqualTo(PipelineStatus.SUCCEEDED);
    assertThat(activities.launched).hasSize(2);
    assertThat(activities.events).anyMatch(e -> e.message().contains("approved by a person"));
    assertThat(activities.cards.get(0).gates())
        .containsExactly(
            new GateOutcome("pretrain", "final_loss", 2.5, "must be <= 1.0", "approved"));
  }

  @Test
  void cancelDuringAStageStopsItsJob() throws Exception {
    activities.outcomes.add(StageWorkflowTest.HANG);
    PipelineWorkflow wf = stub("pipeline-cancel-running");
    WorkflowClient.start(wf::run, new PipelineInput("p1", "t", SPEC, List.of("s1", "s2"), 5));
    while (activities.launched.isEmpty()) Thread.sleep(20);
    wf.cancel();
    PipelineResult r = WorkflowStub.fromTyped(wf).getResult(PipelineResult.class);
    assertThat(r.status()).isEqualTo(PipelineStatus.CANCELLED);
    assertThat(r.reason()).isEqualTo("cancelled during stage pretrain");
    assertThat(activities.cancelled).containsExactly(activities.launched.get(0));
    assertThat(activities.pipelineStatuses.get(activities.pipelineStatuses.size() - 1))
        .startsWith("CANCELLED");
  }
}
