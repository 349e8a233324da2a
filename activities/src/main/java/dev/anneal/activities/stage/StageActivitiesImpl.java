package dev.anneal.activities.stage;

import dev.anneal.activities.checkpoints.CheckpointCatalog;
import dev.anneal.activities.launch.JobLauncher;
import dev.anneal.activities.metadata.MetadataStore;
import dev.anneal.activities.store.ObjectStore;
import dev.anneal.protocol.EventSink;
import dev.anneal.protocol.ExitCode;
import dev.anneal.protocol.ObjectKeys;
import dev.anneal.protocol.ObjectStoreTarget;
import dev.anneal.protocol.ProtocolJson;
import dev.anneal.protocol.RunSpec;
import dev.anneal.protocol.RunnerEvent;
import dev.anneal.workflows.api.jobs.JobNames;
import dev.anneal.workflows.api.jobs.JobState;
import dev.anneal.workflows.api.jobs.LaunchRequest;
import dev.anneal.workflows.api.stage.AttemptOutcome;
import dev.anneal.workflows.api.stage.AttemptPlan;
import dev.anneal.workflows.api.stage.CheckpointCandidate;
import dev.anneal.workflows.api.stage.PreparedAttempt;
import dev.anneal.workflows.api.stage.StageActivities;
import dev.anneal.workflows.api.stage.StageEvent;
import io.temporal.activity.Activity;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The stage workflow's I/O: the RunSpec to S3 and the attempt row to PostgreSQL (prepare), the job
 * (launch), following it while heartbeating (await), and decisions to the event log (record).
 */
public final class StageActivitiesImpl implements StageActivities {

  private final ObjectStore store;
  private final MetadataStore meta;
  private final JobLauncher launcher;
  private final CheckpointCatalog catalog;
  private final Function<UUID, String> tokens;
  private final Supplier<String> eventsUrl;
  private final Duration pollInterval;

  public StageActivitiesImpl(
      ObjectStore store,
      MetadataStore meta,
      JobLauncher launcher,
      Function<UUID, String> tokens,
      Supplier<String> eventsUrl,
      Duration pollInterval) {
    this.store = store;
    this.meta = meta;
    this.launcher = launcher;
    this.catalog = new CheckpointCatalog(store);
    this.tokens = tokens;
    this.eventsUrl = eventsUrl;
    this.pollInterval = pollInterval;
  }

  @Override
  public PreparedAttempt prepare(AttemptPlan plan) {
    UUID attemptId =
        meta.createAttempt(UUID.fromString(plan.stage().stageId()), plan.attempt(), plan.cause());
    ObjectStoreTarget target =
        new ObjectStoreTarget(
            store.settings().endpoint(), store.bucket(), store.settings().region());
    RunSpec spec = RunSpecFactory.build(plan, target, eventsUrl.get());
    String key = ObjectKeys.spec(spec.team(), spec.pipeline(), spec.stage(), plan.attempt());
    store.put(key, ProtocolJson.write(spec).getBytes(StandardCharsets.UTF_8), "application/json");
    Map<String, String> env = new HashMap<>();
    env.put(ObjectStoreTarget.ACCESS_KEY_ENV, store.settings().accessKey());
    env.put(ObjectStoreTarget.SECRET_KEY_ENV, store.settings().secretKey());
    env.put("ANNEAL_S3_ENDPOINT", store.settings().endpoint());
    env.put(EventSink.TOKEN_ENV, tokens.apply(attemptId));
    String job =
        JobNames.of(plan.stage().pipelineId() + "/" + plan.stage().stage().name(), plan.attempt());
    LaunchRequest launch =
        new LaunchRequest(
            job,
            spec.team(),
            spec.pipeline(),
            spec.stage(),
            plan.attempt(),
            "s3://" + store.bucket() + "/" + key,
            plan.stage().stage().resources(),
            env);
    meta.markAttempt(attemptId, "PREPARING", null, null, job);
    meta.setAttemptPlan(
        attemptId,
        plan.resumeFrom() == null ? null : plan.resumeFrom().manifestKey(),
        plan.resumeFrom() == null ? null : plan.resumeFrom().step(),
        plan.resumeAttempt(),
        ProtocolJson.write(plan.skipWindows() == null ? List.of() : plan.skipWindows()),
        plan.lrFactor());
    if (plan.stage().initFrom() != null) {
      meta.setStageInitFrom(
          UUID.fromString(plan.stage().stageId()), plan.stage().initFrom().manifestKey());
    }
    return new PreparedAttempt(attemptId.toString(), launch);
  }

  @Override
  public void launch(PreparedAttempt attempt) {
    launcher.launch(attempt.launch());
    UUID attemptId = UUID.fromString(attempt.attemptId());
    meta.markAttempt(attemptId, "LAUNCHED", null, null, null);
    meta.attempt(attemptId).ifPresent(a -> meta.setStageStatus(a.stageId(), "RUNNING"));
  }

  @Override
  public AttemptOutcome await(PreparedAttempt attempt) {
    String job = attempt.launch().jobName();
    UUID attemptId = UUID.fromString(attempt.attemptId());
    JobState state = launcher.status(job);
    UUID stageId = meta.attempt(attemptId).map(MetadataStore.AttemptRef::stageId).orElse(null);
    while (!state.terminal()) {
      // progress for whoever looks at the activity in Temporal: the phase and the stage's step
      Activity.getExecutionContext()
          .heartbeat(
              state.phase().name()
                  + (stageId == null ? "" : " at step " + meta.currentStep(stageId))
                  + (state.reason() == null ? "" : " (" + state.reason() + ")"));
      try {
        Thread.sleep(pollInterval.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw Activity.wrap(e);
      }
      state = launcher.status(job);
    }
    Integer code = state.exitCode();
    ExitCode.Outcome outcome =
        code == null ? ExitCode.Outcome.INFRASTRUCTURE : ExitCode.outcomeOf(code);
    meta.markAttempt(
        attemptId,
        switch (outcome) {
          case SUCCEEDED -> "SUCCEEDED";
          case INSTABILITY -> "UNSTABLE";
          case INFRASTRUCTURE -> "CRASHED";
          case USER_ERROR -> "FAILED";
        },
        code,
        state.reason(),
        null);
    RunnerEvent.Instability instability =
        meta.lastEventPayload(attemptId, "instability")
            .map(json -> (RunnerEvent.Instability) ProtocolJson.read(json, RunnerEvent.class))
            .orElse(null);
    RunnerEvent.Finished finished =
        meta.lastEventPayload(attemptId, "finished")
            .map(json -> (RunnerEvent.Finished) ProtocolJson.read(json, RunnerEvent.class))
            .orElse(null);
    String finalManifest = finished == null ? null : finished.finalManifestKey();
    Map<String, Double> summary = finished == null ? Map.of() : finished.summary();
    if (finished != null) {
      meta.setStageResult(
          UUID.fromString(stageOf(attemptId)),
          ProtocolJson.write(summary),
          finished.finalManifestKey());
    }
    String reason =
        meta.lastEventPayload(attemptId, "failed")
            .map(json -> ((RunnerEvent.Failed) ProtocolJson.read(json, RunnerEvent.class)).reason())
            .orElse(state.reason());
    List<CheckpointCandidate> checkpoints =
        catalog.candidates(
            attempt.launch().team(),
            attempt.launch().pipeline(),
            attempt.launch().stage(),
            problem ->
                meta.recordStageEvent(
                    UUID.fromString(pipelineOf(attemptId)), null, "RUNNING", "WARN", problem));
    long lastStep = checkpoints.isEmpty() ? 0 : checkpoints.get(checkpoints.size() - 1).step();
    return new AttemptOutcome(
        code, reason, instability, checkpoints, lastStep, finalManifest, summary);
  }

  @Override
  public void cancel(PreparedAttempt attempt) {
    launcher.cancel(attempt.launch().jobName());
    UUID attemptId = UUID.fromString(attempt.attemptId());
    meta.markAttempt(attemptId, "CANCELLED", null, "cancelled by a person", null);
    meta.attempt(attemptId).ifPresent(a -> meta.setStageStatus(a.stageId(), "CANCELLED"));
  }

  @Override
  public void pipelineStatus(String pipelineId, String status, String reason) {
    meta.setPipelineStatus(UUID.fromString(pipelineId), status, reason);
  }

  private String stageOf(UUID attemptId) {
    return meta.attempt(attemptId).orElseThrow().stageId().toString();
  }

  private String pipelineOf(UUID attemptId) {
    return meta.attempt(attemptId).orElseThrow().pipelineId().toString();
  }

  @Override
  public void record(StageEvent event) {
    UUID pipeline = UUID.fromString(event.pipelineId());
    meta.recordStageEvent(
        pipeline, stageOf(event), event.status(), event.severity(), event.message());
  }

  private UUID stageOf(StageEvent event) {
    return event.stageId() == null ? null : UUID.fromString(event.stageId());
  }
}
