package dev.anneal.activities.stage;

import dev.anneal.activities.launch.JobLauncher;
import dev.anneal.activities.metadata.MetadataStore;
import dev.anneal.activities.store.ObjectStore;
import io.temporal.worker.Worker;
import java.time.Duration;
import java.util.UUID;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The stage workflows' activities, registered each on its own queue: attempt control and the ledger
 * on the control queue, the job watch on the jobs queue. A worker of one queue cannot run the
 * other's activities.
 */
public record StageActivitySet(
    AttemptActivitiesImpl attempts, JobActivitiesImpl jobs, LedgerActivitiesImpl ledger) {

  public static StageActivitySet create(
      ObjectStore store,
      MetadataStore meta,
      JobLauncher launcher,
      Function<UUID, String> tokens,
      Supplier<String> eventsUrl,
      Duration pollInterval) {
    return new StageActivitySet(
        new AttemptActivitiesImpl(store, meta, launcher, tokens, eventsUrl),
        new JobActivitiesImpl(store, meta, launcher, pollInterval),
        new LedgerActivitiesImpl(meta, store));
  }

  public void registerControl(Worker control) {
    control.registerActivitiesImplementations(attempts, ledger);
  }

  public void registerJobs(Worker jobsWorker) {
    jobsWorker.registerActivitiesImplementations(jobs);
  }
}
