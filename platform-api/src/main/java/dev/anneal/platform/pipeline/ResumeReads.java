package dev.anneal.platform.pipeline;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.anneal.activities.launch.JobLauncher;
import dev.anneal.activities.metadata.MetadataStore;
import dev.anneal.activities.stage.EventReadBack;
import dev.anneal.protocol.CheckpointRef;
import dev.anneal.protocol.ObjectKeys;
import dev.anneal.protocol.ProtocolJson;
import dev.anneal.protocol.StabilityConfig.BatchWindow;
import dev.anneal.workflows.api.jobs.JobState;
import dev.anneal.workflows.api.jobs.LaunchRequest;
import dev.anneal.workflows.api.pipeline.PipelineResume;
import dev.anneal.workflows.api.spec.PipelineSpec;
import dev.anneal.workflows.api.spec.StageSpec;
import dev.anneal.workflows.api.stage.AttemptPlan;
import dev.anneal.workflows.api.stage.CheckpointLineage;
import dev.anneal.workflows.api.stage.PastRollback;
import dev.anneal.workflows.api.stage.PreparedAttempt;
import dev.anneal.workflows.api.stage.StageCarry;
import dev.anneal.workflows.api.stage.StageResult;
import dev.anneal.workflows.api.status.AttemptStatus;
import dev.anneal.workflows.api.status.PipelineStatus;
import dev.anneal.workflows.api.status.StageStatus;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Rebuilds where a pipeline stands from what PostgreSQL holds — every transition is written there —
 * into a {@link PipelineResume}: the stages done with their results, and for the stage in progress
 * its attempts (restarts, rollbacks, the live branch of its checkpoints, the decisions so far) and
 * the attempt to go on with. That attempt is the last one re-attached when its job is still running
 * or ended with a recorded exit code; otherwise a new attempt that resumes from the stage's newest
 * live checkpoint.
 */
final class ResumeReads {

  /** What the rebuild found and will do, for the pipeline's log. */
  record Rebuilt(PipelineResume resume, Map<String, String> models, String summary) {}

  private record Attempt(
      UUID id,
      int number,
      String cause,
      AttemptStatus status,
      String jobName,
      String resumeCheckpoint,
      Long resumeStep,
      Integer resumeAttempt,
      List<BatchWindow> skipWindows,
      double lrFactor) {
    CheckpointRef resumeFrom() {
      return resumeCheckpoint == null ? null : new CheckpointRef(resumeCheckpoint, resumeStep);
    }
  }

  /** Statuses of an attempt whose job the platform may still follow to its end. */
  private static final Set<AttemptStatus> FOLLOWABLE =
      Set.of(
          AttemptStatus.PREPARING,
          AttemptStatus.LAUNCHED,
          AttemptStatus.RUNNING,
          AttemptStatus.SUCCEEDED,
          AttemptStatus.UNSTABLE);

  private final JdbcTemplate jdbc;
  private final MetadataStore meta;
  private final JobLauncher launcher;
  private final String bucket;

  ResumeReads(JdbcTemplate jdbc, MetadataStore meta, JobLauncher launcher, String bucket) {
    this.jdbc = jdbc;
    this.meta = meta;
    this.launcher = launcher;
    this.bucket = bucket;
  }

  Rebuilt rebuild(UUID pipelineId, String team, PipelineSpec spec, PipelineStatus status) {
    List<StageResult> done = new ArrayList<>();
    List<String> summary = new ArrayList<>();
    List<Map<String, Object>> stages =
        jdbc.queryForList(
            "SELECT id, status, final_checkpoint, eval, rollbacks, restarts,"
                + " (SELECT count(*) FROM attempts a WHERE a.stage_id = s.id) AS attempts"
                + " FROM stages s WHERE pipeline_id = ? ORDER BY position",
            pipelineId);
    for (Map<String, Object> s : stages) {
      if (!StageStatus.SUCCEEDED.name().equals(s.get("status"))
          || s.get("final_checkpoint") == null) {
        break;
      }
      done.add(
          new StageResult(
              StageStatus.SUCCEEDED,
              (String) s.get("final_checkpoint"),
              ((Number) s.get("attempts")).intValue(),
              ((Number) s.get("rollbacks")).intValue(),
              ((Number) s.get("restarts")).intValue(),
              null,
              List.of(),
              figures(s.get("eval"))));
    }
    if (!done.isEmpty()) {
      summary.add(
          "stages done: "
              + String.join(
                  ", ",
                  spec.stages().subList(0, done.size()).stream().map(StageSpec::name).toList()));
    }
    StageCarry current = null;
    boolean gatePending = false;
    if (done.size() < stages.size()) {
      Map<String, Object> row = stages.get(done.size());
      UUID stageId = (UUID) row.get("id");
      List<Attempt> attempts = attempts(stageId);
      StageSpec stage = spec.stages().get(done.size());
      gatePending =
          !done.isEmpty()
              && attempts.isEmpty()
              && spec.stages().get(done.size() - 1).gate() != null;
      if (!attempts.isEmpty()) {
        current =
            carry(
                pipelineId,
                team,
                spec,
                done.size(),
                stageId,
                ((Number) row.get("restarts")).intValue(),
                attempts,
                summary);
      } else {
        summary.add("stage " + stage.name() + " starts");
      }
    } else if (!done.isEmpty()) {
      // every stage done: the pipeline was lost before the last gate or its own end was recorded
      gatePending = spec.stages().get(done.size() - 1).gate() != null;
    }
    if (status == PipelineStatus.WAITING_APPROVAL && !done.isEmpty()) {
      gatePending = true;
    }
    if (gatePending) {
      summary.add(
          "the gate after stage " + spec.stages().get(done.size() - 1).name() + " decides again");
    }
    boolean paused = status == PipelineStatus.PAUSED;
    if (paused) {
      summary.add("still paused");
    }
    return new Rebuilt(
        new PipelineResume(done, gatePending, current, paused),
        models(pipelineId),
        String.join("; ", summary));
  }

  private StageCarry carry(
      UUID pipelineId,
      String team,
      PipelineSpec spec,
      int position,
      UUID stageId,
      int restarts,
      List<Attempt> attempts,
      List<String> summary) {
    StageSpec stage = spec.stages().get(position);
    CheckpointLineage lineage = CheckpointLineage.none();
    List<PastRollback> rollbacks = new ArrayList<>();
    for (Attempt a : attempts) {
      lineage = lineage.then(a.number(), a.resumeAttempt(), a.resumeStep());
      if (a.cause().equals("rollback") && !a.skipWindows().isEmpty()) {
        BatchWindow window = a.skipWindows().get(a.skipWindows().size() - 1);
        rollbacks.add(new PastRollback(anomalyStepBefore(stageId, a), window, a.lrFactor()));
      }
    }
    List<String> decisions =
        new ArrayList<>(
            jdbc.queryForList(
                "SELECT message FROM events WHERE stage_id = ? AND type = 'stage'"
                    + " AND message NOT LIKE 'gate after stage %' ORDER BY id",
                String.class, stageId));
    List<String> bad =
        jdbc.queryForList(
            "SELECT uri FROM checkpoints WHERE stage_id = ? AND state = 'CORRUPT'",
            String.class,
            stageId);
    Attempt last = attempts.get(attempts.size() - 1);
    String pipelineKey = ObjectKeys.pipelineRun(spec.metadata().name(), pipelineId.toString());
    JobState job = last.jobName() == null ? null : launcher.status(last.jobName());
    if (FOLLOWABLE.contains(last.status())
        && job != null
        && job.phase() != JobState.Phase.UNKNOWN) {
      LaunchRequest request =
          new LaunchRequest(
              last.jobName(),
              team,
              pipelineKey,
              stage.kind(),
              last.number(),
              "s3://"
                  + bucket
                  + "/"
                  + ObjectKeys.spec(team, pipelineKey, stage.kind(), last.number()),
              stage.resources(),
              stage.engine(),
              Map.of());
      AttemptPlan plan =
          new AttemptPlan(
              null,
              last.number(),
              last.cause(),
              last.resumeFrom(),
              last.skipWindows(),
              last.lrFactor(),
              last.resumeAttempt());
      summary.add(
          "stage "
              + stage.name()
              + " re-attached to attempt "
              + last.number()
              + " (job "
              + last.jobName()
              + ", "
              + job.phase().name().toLowerCase()
              + ")");
      return new StageCarry(
          plan,
          rollbacks,
          restarts,
          decisions,
          bad,
          lineage,
          new PreparedAttempt(last.id().toString(), request));
    }
    // the job is gone, or its attempt was decided: a new attempt from the newest checkpoint on
    // the live branch — after the checkpoints its runner committed while no platform listened
    // (a Ctrl-C's last one among them) are read back from the job's log
    if (last.jobName() != null) {
      EventReadBack.ingest(meta, launcher, last.jobName(), last.id());
    }
    CheckpointLineage live = lineage;
    Map<String, Object> newest =
        jdbc
            .queryForList(
                "SELECT c.step, c.uri, a.number FROM checkpoints c"
                    + " LEFT JOIN attempts a ON a.id = c.attempt_id"
                    + " WHERE c.stage_id = ? AND c.state IN ('COMMITTED', 'VERIFIED')"
                    + " ORDER BY c.step DESC, a.number DESC",
                stageId)
            .stream()
            .filter(c -> !bad.contains((String) c.get("uri")))
            .filter(
                c ->
                    c.get("number") == null
                        || live.isLive(
                            ((Number) c.get("number")).intValue(),
                            ((Number) c.get("step")).longValue()))
            .findFirst()
            .orElse(null);
    CheckpointRef resumeFrom;
    Integer resumeAttempt;
    if (newest != null) {
      resumeFrom =
          new CheckpointRef((String) newest.get("uri"), ((Number) newest.get("step")).longValue());
      resumeAttempt =
          newest.get("number") == null ? null : ((Number) newest.get("number")).intValue();
    } else {
      // no checkpoint of its own: start again where the last attempt started
      boolean same = last.resumeCheckpoint() != null && !bad.contains(last.resumeCheckpoint());
      resumeFrom = same ? last.resumeFrom() : null;
      resumeAttempt = same ? last.resumeAttempt() : null;
    }
    int next = last.number() + 1;
    if (!last.status().isFinal()) {
      jdbc.update(
          "UPDATE attempts SET status = ?, reason = ?, finished_at = now() WHERE id = ?",
          AttemptStatus.CRASHED.name(),
          "lost: the platform restarted and this attempt's job was gone",
          last.id());
    }
    String msg =
        "recovered after a platform restart: attempt "
            + last.number()
            + (last.status().isFinal()
                ? " had ended (" + last.status().name().toLowerCase() + ")"
                : "'s job was gone")
            + "; attempt "
            + next
            + " resumes from "
            + (resumeFrom == null ? "the start" : "step " + resumeFrom.step());
    decisions.add(msg);
    summary.add("stage " + stage.name() + ": " + msg);
    lineage = lineage.then(next, resumeAttempt, resumeFrom == null ? null : resumeFrom.step());
    return new StageCarry(
        new AttemptPlan(
            null, next, "restart", resumeFrom, last.skipWindows(), last.lrFactor(), resumeAttempt),
        rollbacks,
        restarts,
        decisions,
        bad,
        lineage,
        null);
  }

  private List<Attempt> attempts(UUID stageId) {
    return jdbc.query(
        "SELECT id, number, cause, status, job_name, resume_checkpoint, resume_step,"
            + " resume_attempt, skip_windows, lr_factor FROM attempts WHERE stage_id = ?"
            + " ORDER BY number",
        (rs, i) ->
            new Attempt(
                rs.getObject("id", UUID.class),
                rs.getInt("number"),
                rs.getString("cause"),
                AttemptStatus.valueOf(rs.getString("status")),
                rs.getString("job_name"),
                rs.getString("resume_checkpoint"),
                (Long) rs.getObject("resume_step"),
                (Integer) rs.getObject("resume_attempt"),
                windows(rs.getString("skip_windows")),
                rs.getObject("lr_factor") == null ? 1.0 : rs.getDouble("lr_factor")),
        stageId);
  }

  /** Where the instability that led to rollback attempt {@code a} was (0 when not recorded). */
  private long anomalyStepBefore(UUID stageId, Attempt a) {
    List<Long> steps =
        jdbc.queryForList(
            "SELECT (e.payload->>'step')::bigint FROM events e JOIN attempts a ON a.id = e.attempt_id"
                + " WHERE a.stage_id = ? AND a.number = ? AND e.type = 'instability'"
                + " ORDER BY e.id DESC LIMIT 1",
            Long.class,
            stageId,
            a.number() - 1);
    return steps.isEmpty() || steps.get(0) == null ? 0 : steps.get(0);
  }

  private Map<String, String> models(UUID pipelineId) {
    Map<String, String> out = new LinkedHashMap<>();
    jdbc.query(
        "SELECT pm.ref, m.uri FROM pipeline_models pm JOIN models m ON m.id = pm.model_id"
            + " WHERE pm.pipeline_id = ?",
        rs -> {
          out.put(rs.getString("ref"), rs.getString("uri"));
        },
        pipelineId);
    return out;
  }

  private static List<BatchWindow> windows(String json) {
    return json == null
        ? List.of()
        : ProtocolJson.mapper().convertValue(read(json), new TypeReference<List<BatchWindow>>() {});
  }

  private static Map<String, Double> figures(Object eval) {
    if (eval == null) {
      return Map.of();
    }
    return ProtocolJson.mapper()
        .convertValue(read(eval.toString()), new TypeReference<Map<String, Double>>() {});
  }

  private static com.fasterxml.jackson.databind.JsonNode read(String json) {
    try {
      return ProtocolJson.mapper().readTree(json);
    } catch (java.io.IOException e) {
      throw new IllegalStateException("unreadable JSON in PostgreSQL: " + json, e);
    }
  }
}
