package dev.anneal.workflows.api.stage;

import io.temporal.workflow.QueryMethod;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;

/** Runs one stage to the end: attempts, rollbacks on instability, restarts on failures. */
@WorkflowInterface
public interface StageWorkflow {

  @WorkflowMethod
  StageResult run(StageInput input);

  /** "attempt 2 (rollback): running", for the API and the console. */
  @QueryMethod
  String status();
}
