package dev.anneal.workflows.impl;

import static org.assertj.core.api.Assertions.assertThat;

import dev.anneal.workflows.api.TaskQueues;
import dev.anneal.workflows.api.pipeline.PipelineInput;
import dev.anneal.workflows.api.pipeline.PipelineResult;
import dev.anneal.workflows.api.pipeline.PipelineWorkflow;
import dev.anneal.workflows.api.spec.PipelineSpec;
import dev.anneal.workflows.api.spec.PipelineSpecs;
import dev.anneal.workflows.api.status.PipelineStatus;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import io.temporal.client.WorkflowStub;
import io.temporal.common.WorkflowExecutionHistory;
import io.temporal.testing.TestWorkflowEnvironment;
import io.temporal.testing.WorkflowReplayer;
import io.temporal.worker.Worker;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Workflow code must stay deterministic, and compatible with the histories of workflows that are
 * running when a new version is deployed. Two checks: a fresh scenario (rollback, restart, approval
 * gate) is run and its histories replayed against the code at once; and the histories recorded from
 * an earlier version ({@code src/test/resources/histories/}) are replayed against the current code.
 * One folder per recording ({@code 2026-11}: before the status enums and the small stage reference
 * in attempt plans; {@code 2026-12}: after), every one replayed. A change that breaks the second
 * check needs {@code Workflow.getVersion} — or, for a deliberate break before any release, new
 * recordings. A new recording after a change of the shapes that cross Temporal: {@code ./mvnw -pl
 * workflows test -Dtest=HistoryReplayTest -Danneal.recordHistories=<yyyy-mm>}.
 */
class HistoryReplayTest {

  private static final Path RECORDED = Path.of("src/test/resources/histories");

  static final PipelineSpec SPEC =
      PipelineSpecs.parse(
          """
          apiVersion: anneal.dev/v1
          kind: Pipeline
          metadata: {name: replay}
          datasets: [{name: d, source: "synthetic:prose"}]
          stages:
            - kind: pretrain
              data: [{dataset: d}]
              hyperparameters: {steps: 600}
              stability: {rollback: {steps: 100}, skipBatches: 200, lrFactor: 0.5}
              gate: {metric: final_loss, max: 0.1, onFail: approve}
            - {kind: sft, from: pretrain, data: [{dataset: d}], hyperparameters: {steps: 50}}
          """);

  @Test
  void aFreshScenarioReplaysAndMatchesTheRecording() throws Exception {
    StageWorkflowTest.Scripted activities = new StageWorkflowTest.Scripted();
    activities.outcomes.add(StageWorkflowTest.spike(412));
    activities.outcomes.add(StageWorkflowTest.crash(137));
    activities.outcomes.add(PipelineWorkflowTest.ok(600, "k/pretrain/final/manifest.json", 0.4));
    activities.outcomes.add(PipelineWorkflowTest.ok(50, "k/sft/final/manifest.json", 0.3));
    try (TestWorkflowEnvironment env = TestWorkflowEnvironment.newInstance()) {
      Worker control = env.newWorker(TaskQueues.CONTROL);
      control.registerWorkflowImplementationTypes(
          PipelineWorkflowImpl.class, StageWorkflowImpl.class);
      control.registerActivitiesImplementations(activities);
      env.newWorker(TaskQueues.JOBS).registerActivitiesImplementations(activities);
      env.start();
      WorkflowClient client = env.getWorkflowClient();
      PipelineWorkflow wf =
          client.newWorkflowStub(
              PipelineWorkflow.class,
              WorkflowOptions.newBuilder()
                  .setTaskQueue(TaskQueues.CONTROL)
                  .setWorkflowId("replay")
                  .build());
      // approval given up front (signal-with-start): it counts when the gate is reached
      WorkflowStub.fromTyped(wf)
          .signalWithStart(
              "approve",
              new Object[] {"pretrain"},
              new Object[] {new PipelineInput("p1", "t", SPEC, List.of("s1", "s2"), 5)});
      PipelineResult r = WorkflowStub.fromTyped(wf).getResult(PipelineResult.class);
      assertThat(r.status()).isEqualTo(PipelineStatus.SUCCEEDED);
      assertThat(r.stages().get(0).rollbacks()).isEqualTo(1);
      assertThat(r.stages().get(0).restarts()).isEqualTo(1);

      Map<String, WorkflowExecutionHistory> histories =
          Map.of(
              "pipeline", client.fetchHistory("replay"),
              "stage-pretrain", client.fetchHistory("replay/pretrain"),
              "stage-sft", client.fetchHistory("replay/sft"));
      for (WorkflowExecutionHistory h : histories.values()) {
        WorkflowReplayer.replayWorkflowExecution(
            h, PipelineWorkflowImpl.class, StageWorkflowImpl.class);
      }
      String recording = System.getProperty("anneal.recordHistories");
      if (recording != null && !recording.isBlank()) {
        Path dir = RECORDED.resolve(recording);
        Files.createDirectories(dir);
        for (var e : histories.entrySet()) {
          Files.writeString(
              dir.resolve(e.getKey() + ".json"), e.getValue().toJson(true), StandardCharsets.UTF_8);
        }
      }
    }
  }

  static Stream<Path> recorded() throws Exception {
    try (Stream<Path> files = Files.walk(RECORDED)) {
      return files.filter(p -> p.toString().endsWith(".json")).sorted().toList().stream();
    }
  }

  @ParameterizedTest
  @MethodSource("recorded")
  void recordedHistoriesReplayOnTheCurrentCode(Path file) throws Exception {
    // the recorded workflow id matters: child workflow ids derive from it
    String name = file.getFileName().toString();
    String workflowId =
        name.startsWith("stage-")
            ? "replay/" + name.substring("stage-".length(), name.length() - ".json".length())
            : "replay";
    WorkflowExecutionHistory h =
        WorkflowExecutionHistory.fromJson(
            Files.readString(file, StandardCharsets.UTF_8), workflowId);
    WorkflowReplayer.replayWorkflowExecution(
        h, PipelineWorkflowImpl.class, StageWorkflowImpl.class);
  }

  @Test
  void everyRecordingHasAllThreeWorkflowKinds() throws Exception {
    Map<Path, List<String>> byRecording =
        recorded()
            .collect(
                java.util.stream.Collectors.groupingBy(
                    Path::getParent,
                    java.util.stream.Collectors.mapping(
                        p -> p.getFileName().toString(), java.util.stream.Collectors.toList())));
    assertThat(byRecording).hasSizeGreaterThanOrEqualTo(2);
    byRecording.forEach(
        (dir, names) ->
            assertThat(names)
                .as("%s", dir)
                .containsExactlyInAnyOrder(
                    "pipeline.json", "stage-pretrain.json", "stage-sft.json"));
  }
}
