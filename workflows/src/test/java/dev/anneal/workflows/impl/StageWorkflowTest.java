package dev.anneal.workflows.impl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.anneal.protocol.RunnerEvent;
import dev.anneal.protocol.StabilityConfig.BatchWindow;
import dev.anneal.protocol.StageKind;
import dev.anneal.workflows.api.StabilityPolicy;
import dev.anneal.workflows.api.TaskQueues;
import dev.anneal.workflows.api.jobs.LaunchRequest;
import dev.anneal.workflows.api.stage.AttemptActivities;
import dev.anneal.workflows.api.stage.AttemptOutcome;
import dev.anneal.workflows.api.stage.AttemptPlan;
import dev.anneal.workflows.api.stage.CheckpointCandidate;
import dev.anneal.workflows.api.stage.JobActivities;
import dev.anneal.workflows.api.stage.LedgerActivities;
import dev.anneal.workflows.api.stage.ModelCardRequest;
import dev.anneal.workflows.api.stage.PreparedAttempt;
import dev.anneal.workflows.api.stage.StageEvent;
import dev.anneal.workflows.api.stage.StageInput;
import dev.anneal.workflows.api.stage.StageResult;
import dev.anneal.workflows.api.stage.StageWorkflow;
import dev.anneal.workflows.api.status.PipelineStatus;
import dev.anneal.workflows.api.status.StageStatus;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.api.enums.v1.EventType;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowFailedException;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.common.WorkflowExecutionHistory;
import io.temporal.failure.ApplicationFailure;
import io.temporal.failure.CanceledFailure;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.worker.Worker;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The stage workflow's decisions, in Temporal's in-memory test server with time skipping. The
 * activities are scripted: each attempt's outcome is given, and every plan the workflow makes is
 * recorded, so the test sees exactly what the next attempt was told.
 */
class StageWorkflowTest {

  private TestWorkflowEnvironment env;
  private final Scripted activities = new Scripted();

  static class Scripted implements AttemptActivities, JobActivities, LedgerActivities {
    final Deque<AttemptOutcome> outcomes = new ArrayDeque<>();
    final List<AttemptPlan> plans = new CopyOnWriteArrayList<>();
    final List<StageEvent> events = new CopyOnWriteArrayList<>();
    final List<String> launched = new CopyOnWriteArrayList<>();
    final List<String> cancelled = new CopyOnWriteArrayList<>();
    final List<String> pipelineStatuses = new CopyOnWriteArrayList<>();
    final List<ModelCardRequest> cards = new CopyOnWriteArrayList<>();

    @Override
    public PreparedAttempt prepare(AttemptPlan plan) {
      plans.add(plan);
      String job = "anneal-test-a" + plan.attempt();
      return new PreparedAttempt(
          "att-" + plan.attempt(),
          new LaunchRequest(
              job,
              "t",
              "p",
              StageKind.PRETRAIN,
              plan.attempt(),
              "s3://b/spec.json",
              null,
              null,
              null));
    }

    @Override
    public void launch(PreparedAttempt attempt) {
      launched.add(attempt.launch().jobName());
    }

    /**
     * Waits (up to 20 s) until the test has scripted the next outcome: a running job. {@link #HANG}
     * is a job that never ends by itself.
     */
    @Override
    public AttemptOutcome await(PreparedAttempt attempt) {
      long deadline = System.nanoTime() + 20_000_000_000L;
      while (System.nanoTime() < deadline) {
        synchronized (outcomes) {
          if (!outcomes.isEmpty() && outcomes.peekFirst() != HANG) return outcomes.removeFirst();
        }
        try {
          Thread.sleep(20);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        }
      }
      throw new IllegalStateException("no outcome scripted for " + attempt.launch().jobName());
    }

    @Override
    public void record(StageEvent event) {
      events.add(event);
    }

    @Override
    public void cancel(PreparedAttempt attempt) {
      cancelled.add(attempt.launch().jobName());
    }

    @Override
    public void pipelineStatus(String pipelineId, PipelineStatus status, String reason) {
      pipelineStatuses.add(status + (reason == null ? "" : ": " + reason));
    }

    @Override
    public void modelCard(ModelCardRequest request) {
      cards.add(request);
    }
  }

  static final AttemptOutcome HANG = new AttemptOutcome(null, "hang", null, null, 0, null, null);

  private static final List<CheckpointCandidate> CKPTS =
      List.of(
          new CheckpointCandidate(100, 100, "c/step-100/manifest.json", true, 1),
          new CheckpointCandidate(200, 200, "c/step-200/manifest.json", true, 1),
          new CheckpointCandidate(300, 300, "c/step-300/manifest.json", true, 1));

  static AttemptOutcome success(long step) {
    return new AttemptOutcome(
        0, "success", null, CKPTS, step, "c/final/manifest.json", Map.of("final_loss", 0.4));
  }

  static AttemptOutcome spike(long step) {
    return new AttemptOutcome(
        5,
        "instability",
        new RunnerEvent.Instability(
            9,
            Instant.EPOCH,
            step,
            RunnerEvent.InstabilityKind.LOSS_SPIKE,
            9,
            3,
            step - 2,
            step,
            "spike"),
        CKPTS,
        step,
        null,
        null);
  }

  static AttemptOutcome crash(int code) {
    return new AttemptOutcome(
        code, "killed (SIGKILL, often the out-of-memory killer)", null, CKPTS, 250, null, null);
  }

  @BeforeEach
  void setUp() {
    env = TestWorkflowEnvironment.newInstance();
    Worker control = env.newWorker(TaskQueues.CONTROL);
    control.registerWorkflowImplementationTypes(StageWorkflowImpl.class);
    control.registerActivitiesImplementations(activities);
    env.newWorker(TaskQueues.JOBS).registerActivitiesImplementations(activities);
    env.start();
  }

  @AfterEach
  void tearDown() {
    env.close();
  }

  private StageResult run(StabilityPolicy policy) {
    return stub("stage-" + System.nanoTime()).run(input(policy, 0));
  }

  private StageWorkflow stub(String id) {
    return env.getWorkflowClient()
        .newWorkflowStub(
            StageWorkflow.class,
            WorkflowOptions.newBuilder()
                .setTaskQueue(TaskQueues.CONTROL)
                .setWorkflowId(id)
                .build());
  }

  private static StageInput input(StabilityPolicy policy, int attemptsPerRun) {
    return new StageInput("p1", "s1", "t", spec(policy), 0, null, 30, attemptsPerRun, null, null);
  }

  private static dev.anneal.workflows.api.spec.PipelineSpec spec(StabilityPolicy policy) {
    return dev.anneal.workflows.api.spec.PipelineSpecs.parse(
        """
        apiVersion: anneal.dev/v1
        kind: Pipeline
        metadata: {name: p}
        datasets: [{name: d, source: "synthetic:prose"}]
        stages:
          - kind: pretrain
            data: [{dataset: d}]
            hyperparameters: {steps: 600}
            stability: {rollback: {steps: %d}, skipBatches: %d, lrFactor: %s, maxRollbacks: %d, maxRestarts: %d}
        """
            .formatted(
                policy.rollbackSteps(),
                policy.skipBatches(),
                policy.lrFactor(),
                policy.maxRollbacks(),
                policy.maxRestarts()));
  }

  @Test
  void aCleanRunSucceedsWithOneAttempt() {
    activities.outcomes.add(success(600));
    StageResult r = run(StabilityPolicy.DEFAULT);
    assertThat(r.status()).isEqualTo(StageStatus.SUCCEEDED);
    assertThat(r.attempts()).isEqualTo(1);
    assertThat(r.finalManifestKey()).isEqualTo("c/final/manifest.json");
    assertThat(activities.launched).hasSize(1);
  }

  @Test
  void aSpikeRollsBackToAHealthyCheckpointAndSkipsTheData() {
    activities.outcomes.add(spike(412));
    activities.outcomes.add(success(600));
    StageResult r = run(new StabilityPolicy(100, 200, 0.5, 3, 3));
    assertThat(r.status()).isEqualTo(StageStatus.SUCCEEDED);
    assertThat(r.rollbacks()).isEqualTo(1);
    AttemptPlan second = activities.plans.get(1);
    assertThat(second.cause()).isEqualTo("rollback");
    assertThat(second.resumeFrom().step()).isEqualTo(300L);
    assertThat(second.skipWindows()).containsExactly(new BatchWindow(300L, 500L));
    assertThat(second.lrFactor()).isEqualTo(0.5);
    assertThat(activities.events)
        .anyMatch(
            e ->
                e.status() == StageStatus.ROLLING_BACK
                    && e.message()
                        .contains(
                            "loss spike at step 412: resume from the healthy checkpoint at step 300"));
  }

  @Test
  void aCrashRestartsFromTheNewestCheckpointAfterABackoff() {
    activities.outcomes.add(crash(137));
    activities.outcomes.add(success(600));
    long before = env.currentTimeMillis();
    StageResult r = run(StabilityPolicy.DEFAULT);
    assertThat(r.status()).isEqualTo(StageStatus.SUCCEEDED);
    assertThat(r.restarts()).isEqualTo(1);
    assertThat(activities.plans.get(1).cause()).isEqualTo("restart");
    assertThat(activities.plans.get(1).resumeFrom().step()).isEqualTo(300L);
    assertThat(env.currentTimeMillis() - before).isGreaterThanOrEqualTo(30_000);
  }

  /**
   * The backoff doubles on crashes in a row, and a crash after the attempt checkpointed starts the
   * count again: a crash loop backs off, a crash after progress waits only the first delay.
   */
  @Test
  void theBackoffDoublesOnACrashLoopAndStartsAgainAfterProgress() {
    activities.outcomes.add(crashWith(List.of(ckpt(100, 1)))); // checkpointed: first delay
    activities.outcomes.add(crashWith(List.of(ckpt(100, 1)))); // none of its own: doubled
    activities.outcomes.add(crashWith(List.of(ckpt(100, 1)))); // again: doubled again
    activities.outcomes.add(crashWith(List.of(ckpt(100, 1), ckpt(200, 4)))); // progress
    activities.outcomes.add(success(600));
    StageResult r = run(new StabilityPolicy(100, 200, 1.0, 3, 10));
    assertThat(r.status()).isEqualTo(StageStatus.SUCCEEDED);
    assertThat(r.decisions())
        .filteredOn(d -> d.startsWith("restart"))
        .extracting(d -> d.substring(d.lastIndexOf(" in ") + 4))
        .containsExactly("30s", "60s", "120s", "30s");
  }

  @Test
  void spentBudgetsFailTheStageWithAReason() {
    for (int i = 0; i < 3; i++) activities.outcomes.add(crash(1));
    StageResult r = run(new StabilityPolicy(100, 200, 1.0, 3, 2));
    assertThat(r.status()).isEqualTo(StageStatus.FAILED);
    assertThat(r.failureReason()).contains("restart budget (maxRestarts=2) is spent");

    activities.outcomes.clear();
    activities.outcomes.add(spike(412));
    activities.outcomes.add(spike(430));
    StageResult r2 = run(new StabilityPolicy(100, 200, 1.0, 1, 2));
    assertThat(r2.status()).isEqualTo(StageStatus.FAILED);
    assertThat(r2.failureReason()).contains("rollback budget (maxRollbacks=1) is spent");
  }

  @Test
  void badInputFailsAtOnce() {
    activities.outcomes.add(
        new AttemptOutcome(
            2, "invalid_spec: the RunSpec was malformed", null, List.of(), 0, null, null));
    StageResult r = run(StabilityPolicy.DEFAULT);
    assertThat(r.status()).isEqualTo(StageStatus.FAILED);
    assertThat(r.attempts()).isEqualTo(1);
    assertThat(r.failureReason()).contains("fix the spec or data");
  }

  @Test
  void aLongStageContinuesAsNewAndKeepsItsBudgetsAndPlan() {
    for (int i = 0; i < 3; i++) activities.outcomes.add(crash(137));
    activities.outcomes.add(success(600));
    StageWorkflow wf = stub("stage-long");
    WorkflowExecution first =
        WorkflowClient.start(wf::run, input(new StabilityPolicy(100, 200, 1.0, 3, 5), 2));
    StageResult r = WorkflowStub.fromTyped(wf).getResult(StageResult.class);
    assertThat(r.status()).isEqualTo(StageStatus.SUCCEEDED);
    assertThat(r.attempts()).isEqualTo(4);
    assertThat(r.restarts()).isEqualTo(3); // counted across runs
    assertThat(r.decisions()).filteredOn(d -> d.startsWith("restart")).hasSize(3);
    assertThat(activities.plans).extracting(AttemptPlan::attempt).containsExactly(1, 2, 3, 4);
    assertThat(activities.plans.get(2).stage()).isNotNull();
    assertThat(activities.plans.get(2).resumeFrom().step()).isEqualTo(300L);
    // the first run ended by continuing as new after its two attempts
    WorkflowExecutionHistory h =
        env.getWorkflowClient().fetchHistory(first.getWorkflowId(), first.getRunId());
    assertThat(h.getLastEvent().getEventType())
        .isEqualTo(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW);
  }

  @Test
  void cancellingAStageStopsItsJob() throws Exception {
    activities.outcomes.add(HANG);
    StageWorkflow wf = stub("stage-cancel");
    WorkflowClient.start(wf::run, input(StabilityPolicy.DEFAULT, 0));
    while (activities.launched.isEmpty()) Thread.sleep(20);
    WorkflowStub.fromTyped(wf).cancel();
    // the workflow ends as cancelled in Temporal, after it stopped the job
    assertThatThrownBy(() -> WorkflowStub.fromTyped(wf).getResult(StageResult.class))
        .isInstanceOf(WorkflowFailedException.class)
        .hasCauseInstanceOf(CanceledFailure.class);
    assertThat(activities.cancelled).containsExactly("anneal-test-a1");
    assertThat(activities.events).anyMatch(e -> e.status() == StageStatus.CANCELLED);
  }

  @Test
  void anActivityThatCannotSucceedFailsTheStageWithItsCause() {
    Scripted refusing =
        new Scripted() {
          @Override
          public void launch(PreparedAttempt attempt) {
            throw ApplicationFailure.newNonRetryableFailure(
                "creating Job x in namespace y: HTTP 403 forbidden", "KubernetesRequestRejected");
          }
        };
    env.close();
    env = TestWorkflowEnvironment.newInstance();
    Worker control = env.newWorker(TaskQueues.CONTROL);
    control.registerWorkflowImplementationTypes(StageWorkflowImpl.class);
    control.registerActivitiesImplementations(refusing);
    env.newWorker(TaskQueues.JOBS).registerActivitiesImplementations(refusing);
    env.start();
    StageResult r = run(StabilityPolicy.DEFAULT);
    assertThat(r.status()).isEqualTo(StageStatus.FAILED);
    assertThat(r.failureReason())
        .isEqualTo(
            "the platform could not run attempt 1: creating Job x in namespace y: HTTP 403 forbidden");
  }

  @Test
  void aCheckpointTheRunnerRefusesIsSkippedForThePreviousGoodOne() {
    activities.outcomes.add(crash(137));
    activities.outcomes.add(
        new AttemptOutcome(
            4,
            "corrupt_checkpoint: model.safetensors: sha256 mismatch",
            null,
            CKPTS,
            300,
            null,
            null));
    activities.outcomes.add(success(600));
    StageResult r = run(StabilityPolicy.DEFAULT);
    assertThat(r.status()).isEqualTo(StageStatus.SUCCEEDED);
    assertThat(activities.plans.get(1).resumeFrom().step()).isEqualTo(300L);
    assertThat(activities.plans.get(2).resumeFrom().step()).isEqualTo(200L);
    assertThat(activities.events)
        .anyMatch(
            e ->
                e.message()
                    .equals(
                        "the checkpoint at step 300 failed verification (corrupt_checkpoint:"
                            + " model.safetensors: sha256 mismatch); it is skipped from now on"));
  }

  /** A checkpoint of attempt {@code attempt} at {@code step}, named as the runner names it. */
  static CheckpointCandidate ckpt(long step, int attempt) {
    return new CheckpointCandidate(
        step, step, "c/step-%08d-a%d/manifest.json".formatted(step, attempt), true, attempt);
  }

  static AttemptOutcome crashWith(List<CheckpointCandidate> checkpoints) {
    return new AttemptOutcome(137, "killed (SIGKILL)", null, checkpoints, 0, null, null);
  }

  static AttemptOutcome spikeWith(long step, List<CheckpointCandidate> checkpoints) {
    AttemptOutcome s = spike(step);
    return new AttemptOutcome(
        s.exitCode(), s.reason(), s.instability(), checkpoints, step, null, null);
  }

  /**
   * The demo's defect: after a rollback to step 300, attempt 1's checkpoint at step 400 is on the
   * branch the rollback threw away. A crash of the next attempt before its first checkpoint must
   * resume from the rollback's checkpoint, after its first checkpoint from that one, and a later
   * rollback must never pick the dead branch either, even at a step both branches reached.
   */
  @Test
  void aRestartAfterARollbackNeverResumesOnTheAbandonedBranch() {
    List<CheckpointCandidate> a1 = List.of(ckpt(100, 1), ckpt(200, 1), ckpt(300, 1), ckpt(400, 1));
    List<CheckpointCandidate> a3 = new java.util.ArrayList<>(a1);
    a3.add(ckpt(400, 3));
    List<CheckpointCandidate> a4 = new java.util.ArrayList<>(a3);
    a4.add(ckpt(500, 4));
    activities.outcomes.add(spikeWith(415, a1)); // attempt 1: rollback to 300, skip 300-499
    activities.outcomes.add(crashWith(a1)); // attempt 2: killed before its first checkpoint
    activities.outcomes.add(crashWith(a3)); // attempt 3: killed after writing step 400
    activities.outcomes.add(spikeWith(560, a4)); // attempt 4: a second spike
    activities.outcomes.add(success(600));
    StageResult r = run(new StabilityPolicy(100, 200, 0.5, 3, 3));

    assertThat(r.status()).as(String.join("\n", r.decisions())).isEqualTo(StageStatus.SUCCEEDED);
    assertThat(activities.plans)
        .extracting(p -> p.resumeFrom() == null ? null : p.resumeFrom().manifestKey())
        .containsExactly(
            null,
            "c/step-00000300-a1/manifest.json", // the rollback
            "c/step-00000300-a1/manifest.json", // the restart: the rollback's checkpoint
            "c/step-00000400-a3/manifest.json", // the restart: the new attempt's newest
            "c/step-00000400-a3/manifest.json"); // the second rollback: never 400-a1
    // the restarts keep what the rollback told the attempt
    assertThat(activities.plans.get(2).skipWindows()).containsExactly(new BatchWindow(300L, 500L));
    assertThat(activities.plans.get(2).lrFactor()).isEqualTo(0.5);
    assertThat(activities.plans.get(3).skipWindows()).containsExactly(new BatchWindow(300L, 500L));
  }
}
