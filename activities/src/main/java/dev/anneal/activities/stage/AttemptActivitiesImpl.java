package dev.anneal.activities.stage;

import dev.anneal.activities.launch.JobLauncher;
import dev.anneal.activities.metadata.MetadataStore;
import dev.anneal.activities.store.ObjectStore;
import dev.anneal.protocol.EventSink;
import dev.anneal.protocol.ObjectKeys;
import dev.anneal.protocol.ObjectStoreTarget;
import dev.anneal.protocol.ProtocolJson;
import dev.anneal.protocol.RunSpec;
import dev.anneal.workflows.api.jobs.JobNames;
import dev.anneal.workflows.api.jobs.LaunchRequest;
import dev.anneal.workflows.api.spec.PipelineSpec;
import dev.anneal.workflows.api.spec.StageSpec;
import dev.anneal.workflows.api.stage.AttemptActivities;
import dev.anneal.workflows.api.stage.AttemptPlan;
import dev.anneal.workflows.api.stage.PreparedAttempt;
import dev.anneal.workflows.api.status.AttemptStatus;
import dev.anneal.workflows.api.status.StageStatus;
import io.temporal.failure.ApplicationFailure;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * An attempt's short steps: the RunSpec to S3 and the attempt row to PostgreSQL (prepare), the job
 * (launch), and stopping it (cancel).
 */
public final class AttemptActivitiesImpl implements AttemptActivities {

  private final ObjectStore store;
  private final MetadataStore meta;
  private final JobLauncher launcher;
  private final Function<UUID, String> tokens;
  private final Supplier<String> eventsUrl;

  public AttemptActivitiesImpl(
      ObjectStore store,
      MetadataStore meta,
      JobLauncher launcher,
      Function<UUID, String> tokens,
      Supplier<String> eventsUrl) {
    this.store = store;
    this.meta = meta;
    this.launcher = launcher;
    this.tokens = tokens;
    this.eventsUrl = eventsUrl;
  }

  @Override
  public PreparedAttempt prepare(AttemptPlan plan) {
    UUID attemptId =
        meta.attempts()
            .create(UUID.fromString(plan.stage().stageId()), plan.attempt(), plan.cause());
    ObjectStoreTarget target =
        new ObjectStoreTarget(
            store.settings().endpoint(), store.bucket(), store.settings().region());
    PipelineSpec pipeline = submittedSpec(plan);
    StageSpec stage = pipeline.stages().get(plan.stage().position());
    RunSpec spec =
        RunSpecFactory.build(pipeline, plan, target, eventsUrl.get(), meta.reads()::dataset);
    String key = ObjectKeys.spec(spec.team(), spec.pipeline(), spec.stage(), plan.attempt());
    store.put(key, ProtocolJson.write(spec).getBytes(StandardCharsets.UTF_8), "application/json");
    // no secret here: what prepare returns is kept in the workflow's history; launch adds them
    Map<String, String> env = new HashMap<>();
    env.put("ANNEAL_S3_ENDPOINT", store.settings().endpoint());
    String job = JobNames.of(plan.stage().pipelineId() + "/" + stage.name(), plan.attempt());
    LaunchRequest launch =
        new LaunchRequest(
            job,
            spec.team(),
            spec.pipeline(),
            spec.stage(),
            plan.attempt(),
            "s3://" + store.bucket() + "/" + key,
            stage.resources(),
            stage.engine(),
            env);
    meta.attempts().mark(attemptId, AttemptStatus.PREPARING, null, null, job);
    meta.attempts()
        .setPlan(
            attemptId,
            plan.resumeFrom() == null ? null : plan.resumeFrom().manifestKey(),
            plan.resumeFrom() == null ? null : plan.resumeFrom().step(),
            plan.resumeAttempt(),
            ProtocolJson.write(plan.skipWindows() == null ? List.of() : plan.skipWindows()),
            plan.lrFactor());
    if (plan.stage().initFrom() != null) {
      meta.stages()
          .setInitFrom(
              UUID.fromString(plan.stage().stageId()), plan.stage().initFrom().manifestKey());
    }
    return new PreparedAttempt(attemptId.toString(), launch);
  }

  /** The spec the pipeline was submitted with; its row is written before its workflow starts. */
  private PipelineSpec submittedSpec(AttemptPlan plan) {
    String json =
        meta.reads()
            .pipelineSpec(UUID.fromString(plan.stage().pipelineId()))
            .orElseThrow(
                () ->
                    ApplicationFailure.newNonRetryableFailure(
                        "pipeline " + plan.stage().pipelineId() + " has no row in PostgreSQL",
                        "MissingPipeline"));
    return ProtocolJson.read(json, PipelineSpec.class);
  }

  @Override
  public void launch(PreparedAttempt attempt) {
    UUID attemptId = UUID.fromString(attempt.attemptId());
    launcher.launch(withSecrets(attempt.launch(), attemptId));
    meta.attempts().mark(attemptId, AttemptStatus.LAUNCHED, null, null, null);
    meta.reads()
        .attempt(attemptId)
        .ifPresent(a -> meta.stages().setStatus(a.stageId(), StageStatus.RUNNING));
  }

  /**
   * The request with the credentials the runner needs — the S3 keys from this worker's
   * configuration, the attempt's event token minted now — added inside this activity, so that they
   * never enter the workflow's history (activity inputs and results are stored there in plain
   * text).
   */
  private LaunchRequest withSecrets(LaunchRequest r, UUID attemptId) {
    Map<String, String> env = new HashMap<>(r.env());
    env.put(ObjectStoreTarget.ACCESS_KEY_ENV, store.settings().accessKey());
    env.put(ObjectStoreTarget.SECRET_KEY_ENV, store.settings().secretKey());
    env.put(EventSink.TOKEN_ENV, tokens.apply(attemptId));
    return r.withEnv(env);
  }

  @Override
  public void cancel(PreparedAttempt attempt) {
    launcher.cancel(attempt.launch().jobName());
    UUID attemptId = UUID.fromString(attempt.attemptId());
    meta.attempts().mark(attemptId, AttemptStatus.CANCELLED, null, "cancelled by a person", null);
    meta.reads()
        .attempt(attemptId)
        .ifPresent(a -> meta.stages().setStatus(a.stageId(), StageStatus.CANCELLED));
  }
}
