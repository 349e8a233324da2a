package dev.anneal.platform.api.pipelines;

import dev.anneal.platform.api.ApiException;
import dev.anneal.platform.api.auth.Caller;
import dev.anneal.platform.api.datasets.Datasets;
import dev.anneal.platform.api.models.Models;
import dev.anneal.platform.api.teams.Teams;
import dev.anneal.platform.pipeline.PipelineLauncher;
import dev.anneal.protocol.Sha256;
import dev.anneal.workflows.api.spec.DatasetSpec;
import dev.anneal.workflows.api.spec.Metadata;
import dev.anneal.workflows.api.spec.PipelineSpec;
import dev.anneal.workflows.api.spec.PipelineSpecs;
import dev.anneal.workflows.api.spec.RegistryRef;
import dev.anneal.workflows.api.spec.StageSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.core.env.Environment;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.http.HttpStatus;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * Turns a submitted spec into a started pipeline: validates it, pins every {@code dataset:} to the
 * version it means now and resolves every {@code model:}, both within the caller's team only;
 * honours {@code Idempotency-Key}; refuses a submission over quota.
 */
@Component
public class Submissions {
  private final JdbcTemplate jdbc;
  private final Teams teams;
  private final Datasets datasets;
  private final Models models;
  private final PipelineLauncher launcher;
  private final boolean allowFileSources;
  private final CommandEngines commandEngines;

  public Submissions(
      JdbcTemplate jdbc,
      Teams teams,
      Datasets datasets,
      Models models,
      PipelineLauncher launcher,
      @Value("${anneal.api.allow-file-sources:false}") boolean allowFileSources,
      @Value("${anneal.engines.command-enabled:false}") boolean commandEngines,
      Environment env) {
    this.jdbc = jdbc;
    this.teams = teams;
    this.datasets = datasets;
    this.models = models;
    this.launcher = launcher;
    this.allowFileSources = allowFileSources;
    // a YAML list (the chart's) or a comma-separated value; @Value would miss the former
    this.commandEngines =
        new CommandEngines(
            commandEngines,
            Binder.get(env)
                .bind("anneal.engines.command-images", Bindable.listOf(String.class))
                .orElse(List.of()));
  }

  /** The outcome: the pipeline, and whether it was made by an earlier request with the same key. */
  public record Submitted(UUID id, boolean replayed) {}

  public static String sha256(String s) {
    return Sha256.hex(s);
  }

  public Submitted submit(Caller caller, String body, String idempotencyKey, UUID clonedFrom) {
    if (body == null || body.isBlank()) {
      throw ApiException.badRequest("the request body must be a pipeline spec (YAML or JSON)", "");
    }
    if (idempotencyKey != null && (idempotencyKey.isBlank() || idempotencyKey.length() > 255)) {
      throw ApiException.badRequest(
          "Idempotency-Key: must be 1 to 255 characters", "Idempotency-Key");
    }
    String requestSha = sha256(body);
    if (idempotencyKey != null) {
      Optional<Submitted> earlier = replay(caller, idempotencyKey, requestSha);
      if (earlier.isPresent()) return earlier.get();
    }
    PipelineSpec parsed = PipelineSpecs.parse(body);
    Metadata md = parsed.metadata();
    if (md.team() != null && !md.team().equals(caller.team())) {
      throw ApiException.unprocessable(
          "metadata.team: this token belongs to team '"
              + caller.team()
              + "', but the spec names team '"
              + md.team()
              + "'; leave it out or submit with a token of that team",
          "metadata.team");
    }
    commandEngines.check(parsed);
    List<UUID> datasetIds = new ArrayList<>();
    List<DatasetSpec> pinned = new ArrayList<>();
    for (int i = 0; i < parsed.datasets().size(); i++) {
      DatasetSpec d = parsed.datasets().get(i);
      String field = "datasets[" + i + "].source";
      if (d.source().startsWith("file:") && !allowFileSources) {
        throw ApiException.unprocessable(
            field
                + ": file: sources read the server's own disk and are not accepted through the"
                + " API; upload the file (POST /api/v1/datasets/"
                + d.name()
                + ") and use dataset:"
                + d.name(),
            field);
      }
      RegistryRef ref;
      try {
        ref = RegistryRef.parse(RegistryRef.Kind.DATASET, d.source()).orElse(null);
      } catch (IllegalArgumentException e) {
        throw ApiException.unprocessable(field + ": " + e.getMessage(), field);
      }
      if (ref == null) {
        pinned.add(d);
        continue;
      }
      Datasets.Dataset found =
          datasets
              .resolve(caller.teamId(), ref.name(), ref.version())
              .orElseThrow(
                  () ->
                      ApiException.unprocessable(
                          field
                              + ": team '"
                              + caller.team()
                              + "' has no dataset "
                              + (ref.version() == null ? "'" + ref.name() + "'" : ref.display())
                              + " (upload it with POST /api/v1/datasets/"
                              + ref.name()
                              + " or `anneal datasets upload`)",
                          field));
      datasetIds.add(found.id());
      pinned.add(new DatasetSpec(d.name(), found.source()));
    }
    List<PipelineLauncher.ModelUse> modelUses = new ArrayList<>();
    for (int i = 0; i < parsed.stages().size(); i++) {
      StageSpec s = parsed.stages().get(i);
      String field = "stages[" + i + "].from";
      RegistryRef model;
      try {
        model = RegistryRef.parse(RegistryRef.Kind.MODEL, s.from()).orElse(null);
      } catch (IllegalArgumentException e) {
        throw ApiException.unprocessable(field + ": " + e.getMessage(), field);
      }
      if (model == null) continue;
      if (modelUses.stream().anyMatch(m -> m.ref().equals(s.from()))) continue;
      Models.Model m = models.resolve(caller, model, field);
      modelUses.add(new PipelineLauncher.ModelUse(s.from(), m.id(), m.checkpoint()));
    }
    PipelineSpec spec =
        new PipelineSpec(
            parsed.apiVersion(),
            parsed.kind(),
            new Metadata(md.name(), caller.team(), md.labels()),
            parsed.seed(),
            pinned,
            parsed.model(),
            parsed.tokenizer(),
            parsed.stages());
    Teams.Team team = teams.byId(caller.teamId());
    try {
      PipelineLauncher.Started started =
          launcher.start(
              new PipelineLauncher.Submission(
                  caller.teamId(),
                  caller.team(),
                  spec,
                  body,
                  idempotencyKey,
                  requestSha,
                  clonedFrom,
                  datasetIds,
                  modelUses,
                  t -> teams.checkQuota(team)));
      return new Submitted(started.pipelineId(), false);
    } catch (DuplicateKeyException e) {
      // a concurrent request with the same key won the race
      return replay(caller, idempotencyKey, requestSha).orElseThrow(() -> e);
    }
  }

  private Optional<Submitted> replay(Caller caller, String key, String requestSha) {
    List<String[]> rows =
        jdbc.query(
            "SELECT id::text, request_sha256 FROM pipelines WHERE team_id = ? AND idempotency_key = ?",
            (rs, i) -> new String[] {rs.getString(1), rs.getString(2)},
            caller.teamId(),
            key);
    if (rows.isEmpty()) return Optional.empty();
    if (!requestSha.equals(rows.get(0)[1])) {
      throw new ApiException(
              HttpStatus.UNPROCESSABLE_ENTITY,
              "idempotency-key-reused",
              "Idempotency-Key '"
                  + key
                  + "' was used for a different request (pipeline "
                  + rows.get(0)[0]
                  + "); use a new key for a new pipeline",
              "Idempotency-Key")
          .with("pipeline", rows.get(0)[0]);
    }
    return Optional.of(new Submitted(UUID.fromString(rows.get(0)[0]), true));
  }
}
