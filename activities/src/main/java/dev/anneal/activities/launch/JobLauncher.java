package dev.anneal.activities.launch;

import dev.anneal.workflows.api.jobs.JobState;
import dev.anneal.workflows.api.jobs.LaunchRequest;

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
}
