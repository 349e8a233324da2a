package dev.anneal.workflows.api.jobs;

import dev.anneal.protocol.StageKind;
import dev.anneal.workflows.api.spec.EngineSpec;
import dev.anneal.workflows.api.spec.Resources;
import java.util.Map;

/**
 * What to start for one stage attempt: the runner reads its RunSpec from {@code specUri} (a file
 * path or {@code s3://bucket/key}); {@code resources} is what the job asks of a cluster (the local
 * launcher ignores it); {@code engine} is what trains in it (the built-in engine, or the torch
 * engine's ranks under {@code anneal-runner exec}); {@code env} carries credentials and the
 * attempt's token.
 */
public record LaunchRequest(
    String jobName,
    String team,
    String pipeline,
    StageKind stage,
    int attempt,
    String specUri,
    Resources resources,
    EngineSpec engine,
    Map<String, String> env) {
  public LaunchRequest {
    JobNames.check(jobName);
    resources = resources == null ? Resources.defaults() : resources;
    engine = engine == null ? EngineSpec.builtin() : engine;
    env = env == null ? Map.of() : Map.copyOf(env);
  }

  /** The same attempt on another engine. */
  public LaunchRequest withEngine(EngineSpec other) {
    return new LaunchRequest(
        jobName, team, pipeline, stage, attempt, specUri, resources, other, env);
  }

  /** The same attempt with another environment. */
  public LaunchRequest withEnv(Map<String, String> other) {
    return new LaunchRequest(
        jobName, team, pipeline, stage, attempt, specUri, resources, engine, other);
  }

  @Override
  public String toString() {
    // never print the environment: it holds secrets
    return "LaunchRequest["
        + jobName
        + ", "
        + team
        + "/"
        + pipeline
        + "/"
        + stage.id()
        + " attempt "
        + attempt
        + ", spec "
        + specUri
        + "]";
  }
}
