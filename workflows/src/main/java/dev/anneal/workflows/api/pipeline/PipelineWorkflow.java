package dev.anneal.workflows.api.pipeline;

import io.temporal.workflow.QueryMethod;
import io.temporal.workflow.SignalMethod;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;

/** Runs a pipeline's stages in order as child stage workflows. */
@WorkflowInterface
public interface PipelineWorkflow {

  @WorkflowMethod
  PipelineResult run(PipelineInput input);

  /** Hold before the next stage starts (a running stage goes on). */
  @SignalMethod
  void pause();

  @SignalMethod
  void resume();

  /**
   * Stop: the running stage's job is stopped (it checkpoints first) and no further stage starts.
   */
  @SignalMethod
  void cancel();

  /**
   * Lets the pipeline go on past the failed evaluation gate after the named stage ({@code onFail:
   * approve}); an approval given before the gate is reached counts when it is.
   */
  @SignalMethod
  void approve(String stage);

  @QueryMethod
  String status();
}
