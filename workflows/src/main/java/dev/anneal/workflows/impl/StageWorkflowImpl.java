package dev.anneal.workflows.impl;

import dev.anneal.protocol.CheckpointRef;
import dev.anneal.protocol.ExitCode;
import dev.anneal.protocol.RunnerEvent;
import dev.anneal.protocol.StabilityConfig.BatchWindow;
import dev.anneal.workflows.api.StabilityPolicy;
import dev.anneal.workflows.api.stage.AttemptOutcome;
import dev.anneal.workflows.api.stage.AttemptPlan;
import dev.anneal.workflows.api.stage.CheckpointCandidate;
import dev.anneal.workflows.api.stage.PreparedAttempt;
import dev.anneal.workflows.api.stage.StageActivities;
import dev.anneal.workflows.api.stage.StageEvent;
import dev.anneal.workflows.api.stage.StageInput;
import dev.anneal.workflows.api.stage.StageResult;
import dev.anneal.workflows.api.stage.StageWorkflow;
import io.temporal.workflow.Workflow;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;

/**
 * prepare → launch → await → decide, until the stage succeeds or a budget is spent. Deterministic:
 * every effect goes through activities, time through {@link Workflow}.
 */
public class StageWorkflowImpl implements StageWorkflow {

  private static final Logger log = Workflow.getLogger(StageWorkflowImpl.class);

  private final StageActivities control =
      Workflow.newActivityStub(StageActivities.class, ActivityOptionsCatalog.control());
  private StageActivities jobs;
  private String status = "starting";

  @Override
  public StageResult run(StageInput in) {
    jobs =
        Workflow.newActivityStub(
            StageActivities.class, ActivityOptionsCatalog.await(Duration.ofDays(7)));
    StabilityPolicy policy = in.policy();
    List<RollbackPlanner.PastRollback> history = new ArrayList<>();
    List<String> decisions = new ArrayList<>();
    int restarts = 0;
    AttemptPlan plan = new AttemptPlan(in, 1, "first", null, List.of(), 1.0);
    while (true) {
      status = "attempt " + plan.attempt() + " (" + plan.cause() + "): running";
      PreparedAttempt prepared = control.prepare(plan);
      control.launch(prepared);
      AttemptOutcome out = jobs.await(prepared);
      ExitCode.Outcome outcome =
          out.exitCode() == null
              ? ExitCode.Outcome.INFRASTRUCTURE
              : ExitCode.outcomeOf(out.exitCode());
      switch (outcome) {
        case SUCCEEDED -> {
          status = "succeeded";
          decisions.add("attempt " + plan.attempt() + " finished at step " + out.lastStep());
          record(in, plan.attempt(), "SUCCEEDED", "INFO", decisions.get(decisions.size() - 1));
          return new StageResult(
              "SUCCEEDED",
              out.finalManifestKey(),
              plan.attempt(),
              history.size(),
              restarts,
              null,
              decisions);
        }
        case USER_ERROR -> {
          return fail(
              in,
              plan,
              history,
              restarts,
              decisions,
              "the runner refused its input ("
                  + out.reason()
                  + "); fix the spec or data and resubmit");
        }
        case INSTABILITY -> {
          RunnerEvent.Instability report = out.instability();
          RollbackPlanner.Anomaly anomaly =
              report == null
                  ? new RollbackPlanner.Anomaly(
                      out.lastStep(), out.lastStep(), out.lastStep(), "instability")
                  : new RollbackPlanner.Anomaly(
                      report.step(),
                      report.firstBatch(),
                      report.lastBatch(),
                      report.kind().name().toLowerCase().replace('_', ' '));
          RollbackPlanner.Decision d =
              RollbackPlanner.plan(anomaly, out.checkpoints(), history, policy);
          if (d.plan().isEmpty()) {
            return fail(in, plan, history, restarts, decisions, d.failureReason());
          }
          RollbackPlanner.Plan p = d.plan().get();
          history.add(
              new RollbackPlanner.PastRollback(anomaly.step(), p.newWindow(), p.lrFactor()));
          decisions.add("rollback " + history.size() + ": " + p.explanation());
          status = "rolling back: " + p.explanation();
          record(in, plan.attempt(), "ROLLING_BACK", "WARN", decisions.get(decisions.size() - 1));
          plan =
              new AttemptPlan(
                  in,
                  plan.attempt() + 1,
                  "rollback",
                  p.resumeFrom()
                      .map(c -> new CheckpointRef(c.manifestKey(), c.step()))
                      .orElse(null),
                  p.skipWindows(),
                  p.lrFactor());
        }
        case INFRASTRUCTURE -> {
          if (restarts >= policy.maxRestarts()) {
            return fail(
                in,
                plan,
                history,
                restarts,
                decisions,
                String.format(
                    "the runner failed %d times (last: %s) and the restart budget (maxRestarts=%d) is spent;"
                        + " look at the attempt's log for the cause (out of memory? a bad node?)",
                    restarts + 1, out.reason(), policy.maxRestarts()));
          }
          restarts++;
          Optional<CheckpointCandidate> newest =
              out.checkpoints().stream().max(Comparator.comparingLong(CheckpointCandidate::step));
          Duration backoff =
              Duration.ofSeconds(in.restartBackoffSeconds() << Math.min(restarts - 1, 6));
          String msg =
              String.format(
                  "restart %d after %s: resume from %s in %ds",
                  restarts,
                  out.reason(),
                  newest.map(c -> "step " + c.step()).orElse("the start"),
                  backoff.toSeconds());
          decisions.add(msg);
          status = msg;
          record(in, plan.attempt(), "RESTARTING", "WARN", msg);
          Workflow.sleep(backoff);
          List<BatchWindow> windows = plan.skipWindows();
          plan =
              new AttemptPlan(
                  in,
                  plan.attempt() + 1,
                  "restart",
                  newest
                      .map(c -> new CheckpointRef(c.manifestKey(), c.step()))
                      .orElse(plan.resumeFrom()),
                  windows,
                  plan.lrFactor());
        }
      }
    }
  }

  private StageResult fail(
      StageInput in,
      AttemptPlan plan,
      List<RollbackPlanner.PastRollback> history,
      int restarts,
      List<String> decisions,
      String reason) {
    status = "failed: " + reason;
    decisions.add("failed: " + reason);
    record(in, plan.attempt(), "FAILED", "ERROR", reason);
    log.warn("stage {} of {} failed: {}", in.kind(), in.pipelineId(), reason);
    return new StageResult(
        "FAILED", null, plan.attempt(), history.size(), restarts, reason, decisions);
  }

  private void record(StageInput in, int attempt, String status, String severity, String message) {
    control.record(
        new StageEvent(
            in.pipelineId(), in.stageId(), in.position(), attempt, status, severity, message));
  }

  @Override
  public String status() {
    return status;
  }
}
