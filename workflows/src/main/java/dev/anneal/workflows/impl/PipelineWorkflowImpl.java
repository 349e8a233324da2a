package dev.anneal.workflows.impl;

import dev.anneal.protocol.CheckpointRef;
import dev.anneal.workflows.api.TaskQueues;
import dev.anneal.workflows.api.pipeline.PipelineInput;
import dev.anneal.workflows.api.pipeline.PipelineResult;
import dev.anneal.workflows.api.pipeline.PipelineResume;
import dev.anneal.workflows.api.pipeline.PipelineWorkflow;
import dev.anneal.workflows.api.spec.GateSpec;
import dev.anneal.workflows.api.spec.StageSpec;
import dev.anneal.workflows.api.stage.GateOutcome;
import dev.anneal.workflows.api.stage.LedgerActivities;
import dev.anneal.workflows.api.stage.ModelCardRequest;
import dev.anneal.workflows.api.stage.StageEvent;
import dev.anneal.workflows.api.stage.StageInput;
import dev.anneal.workflows.api.stage.StageResult;
import dev.anneal.workflows.api.stage.StageWorkflow;
import dev.anneal.workflows.api.status.PipelineStatus;
import dev.anneal.workflows.api.status.StageStatus;
import io.temporal.api.enums.v1.ParentClosePolicy;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.TemporalFailure;
import io.temporal.workflow.Async;
import io.temporal.workflow.CancellationScope;
import io.temporal.workflow.ChildWorkflowOptions;
import io.temporal.workflow.Promise;
import io.temporal.workflow.Workflow;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Stages in order, each a child {@link StageWorkflow} that starts from its parent stage's final
 * checkpoint; the first failure stops the pipeline. After a stage, its evaluation gate (if any)
 * checks one of the stage's figures: within bounds the pipeline goes on; outside, it stops ({@code
 * onFail: stop}) or waits for a person's {@code approve} signal ({@code onFail: approve}). Pause
 * holds before the next stage; cancel stops the running stage's job (the stage workflow does that
 * in a detached scope) and ends the pipeline.
 */
public class PipelineWorkflowImpl implements PipelineWorkflow {

  private final LedgerActivities ledger = ActivityOptionsCatalog.ledger();
  private boolean paused;
  private boolean cancelled;
  private final Set<String> approvals = new HashSet<>();
  private final List<GateOutcome> gates = new ArrayList<>();
  private CancellationScope running;
  private String status = "pending";

  @Override
  public PipelineResult run(PipelineInput in) {
    List<StageResult> results = new ArrayList<>();
    Map<String, String> finalCheckpoint = new HashMap<>();
    List<StageSpec> stages = in.spec().stages();
    PipelineResume resume = in.resume();
    int first = 0;
    if (resume != null) {
      // rebuilt after the workflow was lost: the stages done stay done
      for (StageResult done : resume.done()) {
        results.add(done);
        finalCheckpoint.put(stages.get(first).name(), done.finalManifestKey());
        first++;
      }
      paused = resume.paused();
    }
    ledger.pipelineStatus(in.pipelineId(), PipelineStatus.RUNNING, null);
    if (resume != null && resume.gatePending() && first > 0) {
      PipelineResult stopped = afterStage(in, first - 1, results);
      if (stopped != null) {
        return stopped;
      }
    }
    for (int i = first; i < stages.size(); i++) {
      StageSpec s = stages.get(i);
      if (paused && !cancelled) {
        status = "paused before stage " + s.name();
        ledger.pipelineStatus(in.pipelineId(), PipelineStatus.PAUSED, null);
        Workflow.await(() -> !paused || cancelled);
        if (!cancelled) {
          ledger.pipelineStatus(in.pipelineId(), PipelineStatus.RUNNING, null);
        }
      }
      if (cancelled) {
        return end(
            in,
            new PipelineResult(
                PipelineStatus.CANCELLED, results, "cancelled before stage " + s.name()));
      }
      String parent =
          s.from() == null
              ? null
              : s.from().startsWith("model:")
                  ? in.models().get(s.from())
                  : finalCheckpoint.get(s.from());
      CheckpointRef initFrom = parent == null ? null : new CheckpointRef(parent, null);
      CheckpointRef rewardFrom =
          s.reward() == null ? null : new CheckpointRef(finalCheckpoint.get(s.reward()), null);
      StageInput stageIn =
          resume != null && i == first && resume.current() != null
              // its attempts so far, and the next
              ? in.stage(i, initFrom, rewardFrom).withCarry(resume.current())
              : in.stage(i, initFrom, rewardFrom);
      StageWorkflow child =
          Workflow.newChildWorkflowStub(
              StageWorkflow.class,
              ChildWorkflowOptions.newBuilder()
                  .setWorkflowId(Workflow.getInfo().getWorkflowId() + "/" + s.name())
                  .setTaskQueue(TaskQueues.CONTROL)
                  .setParentClosePolicy(ParentClosePolicy.PARENT_CLOSE_POLICY_REQUEST_CANCEL)
                  .build());
      status = "stage " + s.name() + " running";
      List<StageResult> holder = new ArrayList<>(1);
      running =
          Workflow.newCancellationScope(
              () -> {
                Promise<StageResult> p = Async.function(child::run, stageIn);
                holder.add(p.get());
              });
      try {
        running.run();
      } catch (TemporalFailure e) {
        if (!cancelled && !CancellationScope.current().isCancelRequested()) {
          throw e;
        }
        cancelled = true; // the signal, or the pipeline workflow itself was cancelled
      } finally {
        running = null;
      }
      StageResult result = holder.isEmpty() ? null : holder.get(0);
      if (result != null) {
        results.add(result);
      }
      if (cancelled || (result != null && result.status() == StageStatus.CANCELLED)) {
        return end(
            in,
            new PipelineResult(
                PipelineStatus.CANCELLED, results, "cancelled during stage " + s.name()));
      }
      if (result.status() != StageStatus.SUCCEEDED) {
        status = "failed in stage " + s.name();
        return end(
            in,
            new PipelineResult(
                PipelineStatus.FAILED,
                results,
                "stage " + s.name() + " failed: " + result.failureReason()));
      }
      finalCheckpoint.put(s.name(), result.finalManifestKey());
      PipelineResult stopped = afterStage(in, i, results);
      if (stopped != null) {
        return stopped;
      }
    }
    status = "succeeded";
    return end(in, new PipelineResult(PipelineStatus.SUCCEEDED, results, null));
  }

  /**
   * The gate after the stage at {@code position} (the last of {@code results}), then its model
   * card; null when the pipeline goes on, else its end.
   */
  private PipelineResult afterStage(PipelineInput in, int position, List<StageResult> results) {
    StageResult result = results.get(position);
    String gateFailure = gate(in, position, in.spec().stages().get(position), result);
    modelCard(in, position, result);
    if (gateFailure == null) {
      return null;
    }
    return end(
        in,
        new PipelineResult(
            cancelled ? PipelineStatus.CANCELLED : PipelineStatus.FAILED, results, gateFailure));
  }

  /** Applies the stage's gate; null when the pipeline goes on, else why it stops. */
  private String gate(PipelineInput in, int position, StageSpec s, StageResult result) {
    GateSpec gate = s.gate();
    if (gate == null) {
      return null;
    }
    Double value = result.metrics().get(gate.metric());
    String stageId = in.stageIds().get(position);
    if (value == null) {
      String msg =
          "gate after stage "
              + s.name()
              + " checks '"
              + gate.metric()
              + "', which the stage did not report (it reported: "
              + String.join(", ", new TreeMap<>(result.metrics()).keySet())
              + ")";
      record(in, stageId, position, StageStatus.SUCCEEDED, "ERROR", msg);
      gates.add(new GateOutcome(s.name(), gate.metric(), null, gate.bounds(), "not reported"));
      return msg;
    }
    String figure = gate.metric() + " = " + figure(value) + " (" + gate.bounds() + ")";
    if (gate.passes(value)) {
      String msg = "gate after stage " + s.name() + " passed: " + figure;
      record(in, stageId, position, StageStatus.SUCCEEDED, "INFO", msg);
      gates.add(new GateOutcome(s.name(), gate.metric(), value, gate.bounds(), "passed"));
      return null;
    }
    if (gate.onFail().equals("stop")) {
      String msg = "gate after stage " + s.name() + " failed: " + figure;
      record(in, stageId, position, StageStatus.SUCCEEDED, "ERROR", msg);
      gates.add(new GateOutcome(s.name(), gate.metric(), value, gate.bounds(), "failed"));
      return msg;
    }
    status = "waiting for approval after stage " + s.name() + ": " + figure;
    record(
        in,
        stageId,
        position,
        StageStatus.WAITING_APPROVAL,
        "WARN",
        "gate after stage "
            + s.name()
            + " failed: "
            + figure
            + "; waiting for a person to approve (signal approve \""
            + s.name()
            + "\") or cancel");
    ledger.pipelineStatus(in.pipelineId(), PipelineStatus.WAITING_APPROVAL, null);
    Workflow.await(() -> approvals.contains(s.name()) || cancelled);
    if (cancelled) {
      return "cancelled while waiting for approval after stage " + s.name();
    }
    String approved = "gate after stage " + s.name() + " approved by a person despite " + figure;
    record(in, stageId, position, StageStatus.SUCCEEDED, "INFO", approved);
    gates.add(new GateOutcome(s.name(), gate.metric(), value, gate.bounds(), "approved"));
    ledger.pipelineStatus(in.pipelineId(), PipelineStatus.RUNNING, null);
    return null;
  }

  /**
   * The stage's model card, rewritten from the lineage once its gate has decided. Best effort: a
   * card that cannot be written never fails the pipeline. (Versioned: a workflow started before
   * cards were written replays without it.)
   */
  private void modelCard(PipelineInput in, int position, StageResult result) {
    if (cancelled
        || result.finalManifestKey() == null
        || Workflow.getVersion("model-card-from-lineage", Workflow.DEFAULT_VERSION, 1)
            == Workflow.DEFAULT_VERSION) {
      return;
    }
    try {
      ledger.modelCard(
          new ModelCardRequest(
              in.pipelineId(), position, result.finalManifestKey(), List.copyOf(gates)));
    } catch (ActivityFailure e) {
      Workflow.getLogger(PipelineWorkflowImpl.class)
          .warn("the model card of stage {} was not rewritten: {}", position, e.getMessage());
    }
  }

  /** Four significant digits: 1.690, 0.4000, 1234. */
  private static String figure(double v) {
    return new java.math.BigDecimal(v)
        .round(new java.math.MathContext(4))
        .stripTrailingZeros()
        .toPlainString();
  }

  private void record(
      PipelineInput in,
      String stageId,
      int position,
      StageStatus stageStatus,
      String severity,
      String msg) {
    ledger.record(
        new StageEvent(in.pipelineId(), stageId, position, 0, stageStatus, severity, msg));
  }

  private PipelineResult end(PipelineInput in, PipelineResult result) {
    status =
        result.status().name().toLowerCase()
            + (result.reason() == null ? "" : ": " + result.reason());
    // runs even when the workflow itself was cancelled
    Workflow.newDetachedCancellationScope(
            () -> ledger.pipelineStatus(in.pipelineId(), result.status(), result.reason()))
        .run();
    return result;
  }

  @Override
  public void pause() {
    paused = true;
  }

  @Override
  public void resume() {
    paused = false;
  }

  @Override
  public void cancel() {
    cancelled = true;
    if (running != null) {
      running.cancel("cancelled by a person");
    }
  }

  @Override
  public void approve(String stage) {
    approvals.add(stage);
  }

  @Override
  public String status() {
    return paused ? status + " (paused)" : status;
  }
}
