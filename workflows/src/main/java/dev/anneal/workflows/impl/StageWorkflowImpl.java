package dev.anneal.workflows.impl;

import dev.anneal.protocol.CheckpointRef;
import dev.anneal.protocol.ExitCode;
import dev.anneal.protocol.RunnerEvent;
import dev.anneal.workflows.api.StabilityPolicy;
import dev.anneal.workflows.api.stage.AttemptActivities;
import dev.anneal.workflows.api.stage.AttemptOutcome;
import dev.anneal.workflows.api.stage.AttemptPlan;
import dev.anneal.workflows.api.stage.CheckpointCandidate;
import dev.anneal.workflows.api.stage.CheckpointLineage;
import dev.anneal.workflows.api.stage.JobActivities;
import dev.anneal.workflows.api.stage.LedgerActivities;
import dev.anneal.workflows.api.stage.PastRollback;
import dev.anneal.workflows.api.stage.PreparedAttempt;
import dev.anneal.workflows.api.stage.StageCarry;
import dev.anneal.workflows.api.stage.StageEvent;
import dev.anneal.workflows.api.stage.StageInput;
import dev.anneal.workflows.api.stage.StageRef;
import dev.anneal.workflows.api.stage.StageResult;
import dev.anneal.workflows.api.stage.StageWorkflow;
import dev.anneal.workflows.api.status.StageStatus;
import io.temporal.failure.ApplicationFailure;
import io.temporal.failure.CanceledFailure;
import io.temporal.failure.TemporalFailure;
import io.temporal.workflow.CancellationScope;
import io.temporal.workflow.Workflow;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;

/**
 * prepare → launch → await → decide, until the stage succeeds or a budget is spent. Deterministic:
 * every effect goes through activities, time through {@link Workflow}. A long stage continues as
 * new every {@link StageInput#attemptsPerRun()} attempts (or when Temporal suggests it), carrying
 * its plan and budgets; a cancelled stage stops its job before it ends.
 */
public class StageWorkflowImpl implements StageWorkflow {

  private static final Logger log = Workflow.getLogger(StageWorkflowImpl.class);

  private final AttemptActivities attempts = ActivityOptionsCatalog.attempts();
  private final LedgerActivities ledger = ActivityOptionsCatalog.ledger();
  private final JobActivities jobs = ActivityOptionsCatalog.jobs(Duration.ofDays(7));
  private String status = "starting";

  @Override
  public StageResult run(StageInput in) {
    StabilityPolicy policy = in.policy();
    StageCarry carried = in.carry();
    List<PastRollback> history =
        carried == null ? new ArrayList<>() : new ArrayList<>(carried.rollbacks());
    List<String> decisions =
        carried == null ? new ArrayList<>() : new ArrayList<>(carried.decisions());
    int restarts = carried == null ? 0 : carried.restarts();
    // checkpoints a runner refused to load (sha256 or manifest check): never planned again
    Set<String> bad =
        carried == null ? new LinkedHashSet<>() : new LinkedHashSet<>(carried.badCheckpoints());
    AttemptPlan plan =
        carried == null
            ? new AttemptPlan(StageRef.of(in), 1, "first", null, List.of(), 1.0, null)
            : withStage(carried.next(), in);
    // the live branch of the stage's checkpoints: after a rollback to step S, what earlier
    // attempts wrote past S is dead for restarts and later rollbacks alike
    CheckpointLineage lineage =
        carried == null ? CheckpointLineage.none().then(1, null, null) : carried.lineage();
    // a stage rebuilt after its workflow was lost: follow the job it already has, never a twin
    PreparedAttempt reattach = carried == null ? null : carried.reattach();
    int attemptsThisRun = 0;
    // crashes in a row without a checkpoint between them: what the restart backoff doubles on, so
    // a crash loop backs off while a crash after hours of progress waits only the first delay
    int crashStreak = 0;
    while (true) {
      if (attemptsThisRun >= in.attemptsPerRun() || Workflow.getInfo().isContinueAsNewSuggested()) {
        // a long stage: keep the event history short; the next run starts with this plan
        log.info("stage {} continues as new before attempt {}", in.stageId(), plan.attempt());
        Workflow.continueAsNew(
            in.withCarry(
                new StageCarry(
                    withStage(plan, null),
                    history,
                    restarts,
                    decisions,
                    List.copyOf(bad),
                    lineage)));
      }
      attemptsThisRun++;
      status = "attempt " + plan.attempt() + " (" + plan.cause() + "): running";
      PreparedAttempt prepared = null;
      AttemptOutcome out;
      try {
        // prepare and launch always finish, even when a cancel arrives meanwhile: a launch cut off
        // halfway could leave a job nobody stops, and asking the server to cancel an activity
        // that completes in the same workflow task sticks the embedded Temporal server
        // (temporalio/sdk-java#2391); the job is stopped below instead
        if (reattach != null) {
          prepared = reattach;
          reattach = null;
          status = "attempt " + plan.attempt() + " (" + plan.cause() + "): re-attached";
        } else {
          List<PreparedAttempt> started = new ArrayList<>(1);
          AttemptPlan launching = plan;
          Workflow.newDetachedCancellationScope(
                  () -> {
                    PreparedAttempt p = attempts.prepare(launching);
                    started.add(p);
                    attempts.launch(p);
                  })
              .run();
          prepared = started.get(0);
        }
        if (CancellationScope.current().isCancelRequested()) {
          return cancelled(in, plan, prepared, history, restarts, decisions);
        }
        out = jobs.await(prepared);
      } catch (TemporalFailure e) {
        if (CancellationScope.current().isCancelRequested()) {
          return cancelled(in, plan, prepared, history, restarts, decisions);
        }
        // the activities' own retries are spent, or the failure cannot be retried (a manifest
        // the cluster rejects, a missing bucket): the stage fails with the cause
        String why = "the platform could not run attempt " + plan.attempt() + ": " + rootMessage(e);
        return fail(in, plan, history, restarts, decisions, why);
      }
      if (out.exitCode() != null
          && out.exitCode() == ExitCode.CORRUPT_CHECKPOINT.code()
          && plan.resumeFrom() != null
          && bad.add(plan.resumeFrom().manifestKey())) {
        String msg =
            "the checkpoint at step "
                + plan.resumeFrom().step()
                + " failed verification ("
                + out.reason()
                + "); it is skipped from now on";
        decisions.add(msg);
        record(in, plan.attempt(), StageStatus.RESTARTING, "WARN", msg);
      }
      CheckpointLineage live = lineage;
      List<CheckpointCandidate> usable =
          out.checkpoints().stream()
              .filter(c -> !bad.contains(c.manifestKey()))
              .filter(live::isLive)
              .toList();
      ExitCode.Outcome outcome =
          out.exitCode() == null
              ? ExitCode.Outcome.INFRASTRUCTURE
              : ExitCode.outcomeOf(out.exitCode());
      switch (outcome) {
        case SUCCEEDED -> {
          status = "succeeded";
          decisions.add("attempt " + plan.attempt() + " finished at step " + out.lastStep());
          record(
              in,
              plan.attempt(),
              StageStatus.SUCCEEDED,
              "INFO",
              decisions.get(decisions.size() - 1));
          return new StageResult(
              StageStatus.SUCCEEDED,
              out.finalManifestKey(),
              plan.attempt(),
              history.size(),
              restarts,
              null,
              decisions,
              out.summary());
        }
        case USER_ERROR -> {
          String why =
              "the runner refused its input ("
                  + out.reason()
                  + "); fix the spec or data and resubmit";
          return fail(in, plan, history, restarts, decisions, why);
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
          RollbackPlanner.Decision d = RollbackPlanner.plan(anomaly, usable, history, policy);
          if (d.plan().isEmpty()) {
            return fail(in, plan, history, restarts, decisions, d.failureReason());
          }
          RollbackPlanner.Plan p = d.plan().get();
          history.add(new PastRollback(anomaly.step(), p.newWindow(), p.lrFactor()));
          decisions.add("rollback " + history.size() + ": " + p.explanation());
          status = "rolling back: " + p.explanation();
          record(
              in,
              plan.attempt(),
              StageStatus.ROLLING_BACK,
              "WARN",
              decisions.get(decisions.size() - 1));
          plan =
              new AttemptPlan(
                  StageRef.of(in),
                  plan.attempt() + 1,
                  "rollback",
                  p.resumeFrom()
                      .map(c -> new CheckpointRef(c.manifestKey(), c.step()))
                      .orElse(null),
                  p.skipWindows(),
                  p.lrFactor(),
                  p.resumeFrom().map(CheckpointCandidate::attempt).orElse(null));
          lineage = lineage.then(plan.attempt(), plan.resumeAttempt(), resumeStep(plan));
        }
        case INFRASTRUCTURE -> {
          if (restarts >= policy.maxRestarts()) {
            String why =
                String.format(
                    "the runner failed %d times (last: %s) and the restart budget (maxRestarts=%d) is spent;"
                        + " look at the attempt's log for the cause (out of memory? a bad node?)",
                    restarts + 1, out.reason(), policy.maxRestarts());
            return fail(in, plan, history, restarts, decisions, why);
          }
          restarts++;
          Optional<CheckpointCandidate> newest =
              usable.stream().max(Comparator.comparingLong(CheckpointCandidate::step));
          int crashed = plan.attempt();
          if (usable.stream().anyMatch(c -> c.attempt() != null && c.attempt() == crashed)) {
            crashStreak = 0; // this attempt checkpointed: not part of a crash loop
          }
          crashStreak++;
          Duration backoff =
              Duration.ofSeconds(in.restartBackoffSeconds() << Math.min(crashStreak - 1, 6));
          String msg =
              String.format(
                  "restart %d after %s: resume from %s in %ds",
                  restarts,
                  out.reason(),
                  newest.map(c -> "step " + c.step()).orElse("the start"),
                  backoff.toSeconds());
          decisions.add(msg);
          status = msg;
          record(in, plan.attempt(), StageStatus.RESTARTING, "WARN", msg);
          try {
            Workflow.sleep(backoff);
          } catch (CanceledFailure e) {
            return cancelled(in, plan, null, history, restarts, decisions);
          }
          // no checkpoint of its own: the attempt starts again where the last one started
          boolean sameStart =
              newest.isEmpty()
                  && plan.resumeFrom() != null
                  && !bad.contains(plan.resumeFrom().manifestKey());
          plan =
              new AttemptPlan(
                  StageRef.of(in),
                  plan.attempt() + 1,
                  "restart",
                  newest
                      .map(c -> new CheckpointRef(c.manifestKey(), c.step()))
                      .orElse(sameStart ? plan.resumeFrom() : null),
                  plan.skipWindows(),
                  plan.lrFactor(),
                  newest
                      .map(CheckpointCandidate::attempt)
                      .orElse(sameStart ? plan.resumeAttempt() : null));
          lineage = lineage.then(plan.attempt(), plan.resumeAttempt(), resumeStep(plan));
        }
      }
    }
  }

  private StageResult fail(
      StageInput in,
      AttemptPlan plan,
      List<PastRollback> history,
      int restarts,
      List<String> decisions,
      String reason) {
    status = "failed: " + reason;
    decisions.add("failed: " + reason);
    record(in, plan.attempt(), StageStatus.FAILED, "ERROR", reason);
    log.warn("stage {} of {} failed: {}", in.kind(), in.pipelineId(), reason);
    return new StageResult(
        StageStatus.FAILED,
        null,
        plan.attempt(),
        history.size(),
        restarts,
        reason,
        decisions,
        null);
  }

  /**
   * The stage was cancelled (the pipeline's cancel signal, or its workflow cancelled): stop the
   * attempt's job in a detached scope — the workflow's own scope is cancelled, so its activities
   * would not run — and end the stage as CANCELLED.
   */
  private StageResult cancelled(
      StageInput in,
      AttemptPlan plan,
      PreparedAttempt prepared,
      List<PastRollback> history,
      int restarts,
      List<String> decisions) {
    String msg =
        prepared == null
            ? "cancelled before attempt " + plan.attempt() + " started"
            : "cancelled: stopping job " + prepared.launch().jobName();
    status = "cancelled";
    decisions.add(msg);
    Workflow.newDetachedCancellationScope(
            () -> {
              if (prepared != null) {
                attempts.cancel(prepared);
              }
              record(in, plan.attempt(), StageStatus.CANCELLED, "WARN", msg);
            })
        .run();
    return new StageResult(
        StageStatus.CANCELLED,
        null,
        plan.attempt(),
        history.size(),
        restarts,
        msg,
        decisions,
        null);
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null) {
      t = t.getCause();
    }
    return t instanceof ApplicationFailure a ? a.getOriginalMessage() : t.getMessage();
  }

  /**
   * Plans name their stage; across continue-as-new the carried plan's is set again from the input
   * (a carry recorded before plans were small had its stage input stripped).
   */
  private static AttemptPlan withStage(AttemptPlan p, StageInput in) {
    return new AttemptPlan(
        in == null ? null : StageRef.of(in),
        p.attempt(),
        p.cause(),
        p.resumeFrom(),
        p.skipWindows(),
        p.lrFactor(),
        p.resumeAttempt());
  }

  private static Long resumeStep(AttemptPlan p) {
    return p.resumeFrom() == null ? null : p.resumeFrom().step();
  }

  private void record(
      StageInput in, int attempt, StageStatus status, String severity, String message) {
    ledger.record(
        new StageEvent(
            in.pipelineId(), in.stageId(), in.position(), attempt, status, severity, message));
  }

  @Override
  public String status() {
    return status;
  }
}
