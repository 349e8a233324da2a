package dev.anneal.activities.stage;

import dev.anneal.activities.launch.JobLauncher;
import dev.anneal.activities.metadata.AttemptRef;
import dev.anneal.activities.metadata.MetadataStore;
import dev.anneal.protocol.EventBatch;
import dev.anneal.workflows.api.status.StageStatus;
import java.util.UUID;

/**
 * Ingests an ended job's events from where its launcher keeps them (a local job's standard output)
 * before anything is decided about its attempt, so the decision sees its last events even when they
 * never reached the platform over HTTP: it was down or restarting when they were sent, or they were
 * still in flight as the process ended. Ingestion is idempotent (one row per runner sequence
 * number), so events that did arrive are skipped.
 */
public final class EventReadBack {
  private EventReadBack() {}

  /** Returns how many events were new; says so in the pipeline's log when any were. */
  public static int ingest(MetadataStore meta, JobLauncher launcher, String job, UUID attemptId) {
    AttemptRef a = meta.reads().attempt(attemptId).orElse(null);
    if (a == null) {
      return 0;
    }
    int recovered = 0;
    for (EventBatch b : launcher.eventBatches(job)) {
      if (b.team().equals(a.team())
          && b.pipeline().equals(a.pipelineName())
          && b.stage() == a.stage()
          && b.attempt() == a.number()) {
        recovered += meta.ingestion().ingest(a, b).accepted();
      }
    }
    if (recovered > 0) {
      meta.stages()
          .recordEvent(
              a.pipelineId(),
              a.stageId(),
              StageStatus.RUNNING,
              "WARN",
              recovered
                  + " event(s) of attempt "
                  + a.number()
                  + " had not reached the platform; read back from the job's own log");
    }
    return recovered;
  }
}
