package dev.anneal.workflows.api;

/**
 * Temporal task queues. Workflows and the light activities (prepare, record, decide) share the
 * control queue; awaiting a GPU job is a long, heartbeating activity on its own queue so a busy
 * cluster cannot starve the control plane.
 */
public final class TaskQueues {
  public static final String CONTROL = "anneal-control";
  public static final String JOBS = "anneal-jobs";

  private TaskQueues() {}
}
