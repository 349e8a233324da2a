package dev.anneal.activities.stage;

import dev.anneal.activities.checkpoints.CheckpointCatalog;
import dev.anneal.activities.launch.JobLauncher;
import dev.anneal.activities.metadata.AttemptRef;
import dev.anneal.activities.metadata.MetadataStore;
import dev.anneal.activities.store.ObjectStore;
import dev.anneal.protocol.ExitCode;
import dev.anneal.protocol.ProtocolJson;
import dev.anneal.protocol.RunnerEvent;
import dev.anneal.workflows.api.jobs.JobState;
import dev.anneal.workflows.api.stage.AttemptOutcome;
import dev.anneal.workflows.api.stage.CheckpointCandidate;
import dev.anneal.workflows.api.stage.JobActivities;
import dev.anneal.workflows.api.stage.PreparedAttempt;
import dev.anneal.workflows.api.status.AttemptStatus;
import dev.anneal.workflows.api.status.StageStatus;
import io.temporal.activity.Activity;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Follows an attempt's job to its end while heartbeating, then reads how it ended: the exit code,
 * the runner's last instability, finished and failed events, and the stage's checkpoints.
 */
public final class JobActivitiesImpl implements JobActivities {

  private final MetadataStore meta;
  private final JobLauncher launcher;
  private final CheckpointCatalog catalog;
  private final Duration pollInterval;

  public JobActivitiesImpl(
      ObjectStore store, MetadataStore meta, JobLauncher launcher, Duration pollInterval) {
    this.meta = meta;
    this.launcher = launcher;
    this.catalog = new CheckpointCatalog(store);
    this.pollInterval = pollInterval;
  }

  @Override
  public AttemptOutcome await(PreparedAttempt attempt) {
    String job = attempt.launch().jobName();
    UUID attemptId = UUID.fromString(attempt.attemptId());
    JobState state = launcher.status(job);
    UUID stageId = meta.reads().attempt(attemptId).map(AttemptRef::stageId).orElse(null);
    while (!state.terminal()) {
      // progress for whoever looks at the activity in Temporal: the phase and the stage's step
      Activity.getExecutionContext()
          .heartbeat(
              state.phase().name()
                  + (stageId == null ? "" : " at step " + meta.reads().currentStep(stageId))
                  + (state.reason() == null ? "" : " (" + state.reason() + ")"));
      try {
        Thread.sleep(pollInterval.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw Activity.wrap(e);
      }
      state = launcher.status(job);
    }
    EventReadBack.ingest(meta, launcher, job, attemptId);
    Integer code = state.exitCode();
    ExitCode.Outcome outcome =
        code == null ? ExitCode.Outcome.INFRASTRUCTURE : ExitCode.outcomeOf(code);
    meta.attempts()
        .mark(
            attemptId,
            switch (outcome) {
              case SUCCEEDED -> AttemptStatus.SUCCEEDED;
              case INSTABILITY -> AttemptStatus.UNSTABLE;
              case INFRASTRUCTURE -> AttemptStatus.CRASHED;
              case USER_ERROR -> AttemptStatus.FAILED;
            },
            code,
            state.reason(),
            null);
    RunnerEvent.Instability instability =
        meta.reads()
            .lastEventPayload(attemptId, "instability")
            .map(json -> (RunnerEvent.Instability) ProtocolJson.read(json, RunnerEvent.class))
            .orElse(null);
    RunnerEvent.Finished finished =
        meta.reads()
            .lastEventPayload(attemptId, "finished")
            .map(json -> (RunnerEvent.Finished) ProtocolJson.read(json, RunnerEvent.class))
            .orElse(null);
    String finalManifest = finished == null ? null : finished.finalManifestKey();
    Map<String, Double> summary = finished == null ? Map.of() : finished.summary();
    if (finished != null) {
      meta.stages()
          .setResult(
              UUID.fromString(stageOf(attemptId)),
              ProtocolJson.write(summary),
              finished.finalManifestKey());
    }
    String reason =
        meta.reads()
            .lastEventPayload(attemptId, "failed")
            .map(json -> ((RunnerEvent.Failed) ProtocolJson.read(json, RunnerEvent.class)).reason())
            .orElse(state.reason());
    List<CheckpointCandidate> checkpoints =
        catalog.candidates(
            attempt.launch().team(),
            attempt.launch().pipeline(),
            attempt.launch().stage(),
            problem ->
                meta.stages()
                    .recordEvent(
                        UUID.fromString(pipelineOf(attemptId)),
                        null,
                        StageStatus.RUNNING,
                        "WARN",
                        problem));
    long lastStep = checkpoints.isEmpty() ? 0 : checkpoints.get(checkpoints.size() - 1).step();
    return new AttemptOutcome(
        code, reason, instability, checkpoints, lastStep, finalManifest, summary);
  }

  private String stageOf(UUID attemptId) {
    return meta.reads().attempt(attemptId).orElseThrow().stageId().toString();
  }

  private String pipelineOf(UUID attemptId) {
    return meta.reads().attempt(attemptId).orElseThrow().pipelineId().toString();
  }
}
