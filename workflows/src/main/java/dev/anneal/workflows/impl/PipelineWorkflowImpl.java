package dev.anneal.workflows.impl;

import dev.anneal.protocol.CheckpointRef;
import dev.anneal.workflows.api.TaskQueues;
import dev.anneal.workflows.api.pipeline.PipelineInput;
import dev.anneal.workflows.api.pipeline.PipelineResult;
import dev.anneal.workflows.api.pipeline.PipelineWorkflow;
import dev.anneal.workflows.api.spec.StageSpec;
import dev.anneal.workflows.api.stage.StageInput;
import dev.anneal.workflows.api.stage.StageResult;
import dev.anneal.workflows.api.stage.StageWorkflow;
import io.temporal.api.enums.v1.ParentClosePolicy;
import io.temporal.workflow.ChildWorkflowOptions;
import io.temporal.workflow.Workflow;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Stages in order, each a child {@link StageWorkflow} that starts from its parent stage's final
 * checkpoint; the first failure stops the pipeline. Pause holds before the next stage; cancel ends
 * the pipeline before the next stage. (Stopping a running stage's job on cancel, and evaluation
 * gates with their approve signal, come with the rest of the pipeline issue.)
 */
public class PipelineWorkflowImpl implements PipelineWorkflow {

  private boolean paused;
  private boolean cancelled;
  private String status = "pending";

  @Override
  public PipelineResult run(PipelineInput in) {
    List<StageResult> results = new ArrayList<>();
    Map<String, String> finalCheckpoint = new HashMap<>();
    List<StageSpec> stages = in.spec().stages();
    for (int i = 0; i < stages.size(); i++) {
      StageSpec s = stages.get(i);
      Workflow.await(() -> !paused || cancelled);
      if (cancelled) {
        status = "cancelled";
        return new PipelineResult("CANCELLED", results, "cancelled before stage " + s.name());
      }
      String parent = s.from() == null ? null : finalCheckpoint.get(s.from());
      CheckpointRef initFrom = parent == null ? null : new CheckpointRef(parent, null);
      StageInput stageIn =
          new StageInput(
              in.pipelineId(),
              in.stageIds().get(i),
              in.team(),
              in.spec(),
              i,
              initFrom,
              in.restartBackoffSeconds());
      StageWorkflow child =
          Workflow.newChildWorkflowStub(
              StageWorkflow.class,
              ChildWorkflowOptions.newBuilder()
                  .setWorkflowId(Workflow.getInfo().getWorkflowId() + "/" + s.name())
                  .setTaskQueue(TaskQueues.CONTROL)
                  .setParentClosePolicy(ParentClosePolicy.PARENT_CLOSE_POLICY_REQUEST_CANCEL)
                  .build());
      status = "stage " + s.name() + " running";
      StageResult result = child.run(stageIn);
      results.add(result);
      if (!"SUCCEEDED".equals(result.status())) {
        status = "failed in stage " + s.name();
        return new PipelineResult(
            "FAILED", results, "stage " + s.name() + " failed: " + result.failureReason());
      }
      finalCheckpoint.put(s.name(), result.finalManifestKey());
    }
    status = "succeeded";
    return new PipelineResult("SUCCEEDED", results, null);
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
  }

  @Override
  public String status() {
    return paused ? status + " (paused)" : status;
  }
}
