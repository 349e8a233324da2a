package dev.anneal.platform.temporal;

import dev.anneal.activities.stage.StageActivitySet;
import dev.anneal.workflows.api.TaskQueues;
import dev.anneal.workflows.impl.PipelineWorkflowImpl;
import dev.anneal.workflows.impl.StageWorkflowImpl;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.worker.Worker;
import io.temporal.worker.WorkerFactory;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;

/**
 * Hosts the platform's Temporal workers: polls start after the context is ready and stop, letting
 * running tasks finish, before the connection to Temporal closes. A process built without
 * activities ({@code anneal.temporal.worker-enabled=false}: an API-only replica) polls nothing and
 * only closes the connection.
 */
public class TemporalWorkers implements SmartLifecycle {

  private static final Logger log = LoggerFactory.getLogger(TemporalWorkers.class);

  private final WorkerFactory factory;
  private final WorkflowServiceStubs stubs;
  private final boolean hosting;
  private volatile boolean running;

  /**
   * Registers the workflows and {@code hosted} activities on their queues (none when {@code hosted}
   * is null); nothing polls before {@link #start}.
   */
  TemporalWorkers(WorkerFactory factory, WorkflowServiceStubs stubs, StageActivitySet hosted) {
    this.factory = factory;
    this.stubs = stubs;
    this.hosting = hosted != null;
    if (hosting) {
      Worker control = factory.newWorker(TaskQueues.CONTROL);
      control.registerWorkflowImplementationTypes(
          PipelineWorkflowImpl.class, StageWorkflowImpl.class);
      hosted.registerControl(control);
      // awaiting jobs has its own queue, so long waits cannot starve the control plane
      hosted.registerJobs(factory.newWorker(TaskQueues.JOBS));
    }
  }

  @Override
  public void start() {
    if (hosting) {
      factory.start();
      log.info(
          "Temporal workers polling task queues {} and {}", TaskQueues.CONTROL, TaskQueues.JOBS);
    }
    running = true;
  }

  @Override
  public void stop() {
    if (hosting && factory.isStarted()) {
      factory.shutdown();
      factory.awaitTermination(20, TimeUnit.SECONDS);
    }
    stubs.shutdown();
    stubs.awaitTermination(5, TimeUnit.SECONDS);
    running = false;
  }

  @Override
  public boolean isRunning() {
    return running;
  }

  @Override
  public int getPhase() {
    // stop before the web server's graceful shutdown completes, start after it
    return SmartLifecycle.DEFAULT_PHASE - 2048;
  }
}
