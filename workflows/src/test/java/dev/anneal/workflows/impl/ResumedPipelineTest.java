package dev.anneal.workflows.impl;

import static org.assertj.core.api.Assertions.assertThat;

import dev.anneal.protocol.CheckpointRef;
import dev.anneal.protocol.StageKind;
import dev.anneal.workflows.api.TaskQueues;
import dev.anneal.workflows.api.jobs.LaunchRequest;
import dev.anneal.workflows.api.pipeline.PipelineInput;
import dev.anneal.workflows.api.pipeline.PipelineResult;
import dev.anneal.workflows.api.pipeline.PipelineResume;
import dev.anneal.workflows.api.pipeline.PipelineWorkflow;
import dev.anneal.workflows.api.spec.PipelineSpec;
import dev.anneal.workflows.api.spec.PipelineSpecs;
import dev.anneal.workflows.api.stage.AttemptPlan;
import dev.anneal.workflows.api.stage.CheckpointLineage;
import dev.anneal.workflows.api.stage.ModelCardRequest;
import dev.anneal.workflows.api.stage.PreparedAttempt;
import dev.anneal.workflows.api.stage.StageCarry;
import dev.anneal.workflows.api.stage.StageRef;
import dev.anneal.workflows.api.stage.StageResult;
import dev.anneal.workflows.api.status.PipelineStatus;
import dev.anneal.workflows.api.status.StageStatus;
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

/** A pipeline rebuilt from PostgreSQL after its workflow was lost goes on where it was. */
class ResumedPipelineTest {

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
        - {kind: pretrain, data: [{dataset: d}], hyperparameters: {steps: 100}, gate: {metric: final_loss, max: 1.0, onFail: approve}}
        - {kind: sft, from: pretrain, data: [{dataset: d}], hyperparameters: {steps: 50}}
      """);

  private static final StageResult PRETRAIN_DONE =
      new StageResult(
          StageStatus.SUCCEEDED,
          "k/pretrain/final/manifest.json",
          2,
          0,
          1,
          null,
          List.of(),
          Map.of("final_loss", 0.4));

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

  private PipelineWorkflow stub() {
    return env.getWorkflowClient()
        .newWorkflowStub(
            PipelineWorkflow.class,
            WorkflowOptions.newBuilder()
                .setTaskQueue(TaskQueues.CONTROL)
                .setWorkflowId("pipeline-resumed-" + System.nanoTime())
                .build());
  }

  private static PipelineInput resumed(PipelineResume r) {
    return new PipelineInput("p1", "t", SPEC, List.of("s1", "s2"), 5).resumedFrom(r);
  }

  @Test
  void aDoneStageIsNotRunAgainAndTheNextStartsFromItsFinalCheckpoint() {
    activities.outcomes.add(PipelineWorkflowTest.ok(50, "k/sft/final/manifest.json", 0.3));
    PipelineResult r =
        stub().run(resumed(new PipelineResume(List.of(PRETRAIN_DONE), false, null, false)));
    assertThat(r.status()).isEqualTo(PipelineStatus.SUCCEEDED);
    assertThat(r.stages())
        .extracting(StageResult::finalManifestKey)
        .containsExactly("k/pretrain/final/manifest.json", "k/sft/final/manifest.json");
    assertThat(activities.plans).hasSize(1);
    assertThat(activities.plans.get(0).stage().position()).isEqualTo(1);
    assertThat(activities.plans.get(0).stage().initFrom().manifestKey())
        .isEqualTo("k/pretrain/final/manifest.json");
    // the gate decided before the loss is not asked again
    assertThat(activities.events).noneMatch(e -> e.message().startsWith("gate after"));
  }

  @Test
  void aRunningJobIsReattachedNotLaunchedAgainAndItsAttemptNumbersGoOn() {
    StageRef sft = new StageRef("p1", "s2", "t", "two", 1, null, null);
    AttemptPlan third =
        new AttemptPlan(
            sft,
            3,
            "restart",
            new CheckpointRef("k/sft/step-20-a2/manifest.json", 20L),
            List.of(),
            1.0,
            2);
    PreparedAttempt running =
        new PreparedAttempt(
            "att-3",
            new LaunchRequest(
                "anneal-test-a3",
                "t",
                "two",
                StageKind.SFT,
                3,
                "s3://b/spec.json",
                null,
                null,
                null));
    StageCarry carry =
        new StageCarry(
            third,
            List.of(),
            2,
            List.of("restart 1 …", "restart 2 …"),
            List.of(),
            CheckpointLineage.none().then(1, null, null).then(2, null, null).then(3, 2, 20L),
            running);
    // the re-attached job crashes: the next attempt is 4, from that job's newest checkpoint
    activities.outcomes.add(
        new dev.anneal.workflows.api.stage.AttemptOutcome(
            1,
            "crash",
            null,
            List.of(
                new dev.anneal.workflows.api.stage.CheckpointCandidate(
                    40, 40, "k/sft/step-40-a3/manifest.json", true, 3)),
            40,
            null,
            null));
    activities.outcomes.add(PipelineWorkflowTest.ok(50, "k/sft/final/manifest.json", 0.3));
    PipelineResult r =
        stub().run(resumed(new PipelineResume(List.of(PRETRAIN_DONE), false, carry, false)));

    assertThat(r.status()).isEqualTo(PipelineStatus.SUCCEEDED);
    assertThat(activities.launched).containsExactly("anneal-test-a4");
    assertThat(activities.plans).extracting(AttemptPlan::attempt).containsExactly(4);
    assertThat(activities.plans.get(0).resumeFrom().manifestKey())
        .isEqualTo("k/sft/step-40-a3/manifest.json");
    StageResult stage = r.stages().get(1);
    assertThat(stage.restarts()).isEqualTo(3);
    assertThat(stage.decisions()).hasSize(4).startsWith("restart 1 …", "restart 2 …");
  }

  @Test
  void aPipelineLostWhileItsGateWaitedWaitsAgainAndAPausedOneStaysPaused() throws Exception {
    StageResult high =
        new StageResult(
            StageStatus.SUCCEEDED,
            "k/pretrain/final/manifest.json",
            1,
            0,
            0,
            null,
            List.of(),
            Map.of("final_loss", 2.5));
    activities.outcomes.add(PipelineWorkflowTest.ok(50, "k/sft/final/manifest.json", 0.3));
    PipelineWorkflow wf = stub();
    WorkflowClient.start(wf::run, resumed(new PipelineResume(List.of(high), true, null, true)));
    while (!wf.status().startsWith("waiting for approval")) Thread.sleep(20);
    assertThat(activities.launched).isEmpty();
    wf.approve("pretrain");
    while (!wf.status().startsWith("paused before stage sft")) Thread.sleep(20);
    assertThat(activities.launched).isEmpty();
    wf.resume();
    PipelineResult r = WorkflowStub.fromTyped(wf).getResult(PipelineResult.class);
    assertThat(r.status()).isEqualTo(PipelineStatus.SUCCEEDED);
    assertThat(activities.launched).hasSize(1);
    assertThat(activities.cards).extracting(ModelCardRequest::position).containsExactly(0, 1);
  }
}
