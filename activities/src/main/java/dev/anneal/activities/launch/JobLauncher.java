package dev.anneal.activities.launch;

import dev.anneal.protocol.EventBatch;
import dev.anneal.workflows.api.jobs.JobState;
import dev.anneal.workflows.api.jobs.LaunchRequest;
import java.util.List;

/**
 * Starts and follows runner jobs. {@link #launch} is idempotent: a job that already exists under
 * the request's name is reported, not started again.
 */
public interface JobLauncher {
  JobState launch(LaunchRequest request);

  /** The job's state; UNKNOWN for a name this launcher has never seen. */
  JobState status(String jobName);

  /** Asks the job to stop (SIGTERM: the runner commits a checkpoint first). */
  void cancel(String jobName);

  /**
   * Every event batch the job's runner wrote where this launcher can read it back (a local job's
   * standard output), whole lines only; empty where it cannot (a pod's log is not read). The
   * platform ingests them once the job has ended, so that events that never reached it over HTTP
   * (it was down, restarting, or the last ones were still in flight) are not lost.
   */
  default List<EventBatch> eventBatches(String jobName) {
    return List.of();
  }
}
