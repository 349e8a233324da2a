package dev.anneal.workflows.api.jobs;

import dev.anneal.protocol.StageKind;
import dev.anneal.workflows.api.spec.Resources;
import java.util.Map;

/**
 * What to start for one stage attempt: the runner reads its RunSpec from {@code specUri} (a file
 * path or {@code s3://bucket/key}); {@code resources} is what the job asks of a cluster (the local
 * launcher ignores it); {@code env} carries credentials and the attempt's token.
 */
public record LaunchRequest(
    String jobName,
    String team,
    String pipeline,
    StageKind stage,
    int attempt,
    String specUri,
    Resources resources,
    Map<String, String> env) {
  public LaunchRequest {
    JobNames.check(jobName);
    resources = resources == null ? Resources.defaults() : resources;
    env = env == null ? Map.of() : Map.copyOf(env);
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
