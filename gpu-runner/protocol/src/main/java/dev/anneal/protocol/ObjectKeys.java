package dev.anneal.protocol;

import java.util.regex.Pattern;

/**
 * The object-store key layout, in one place. Every key is built here from validated segments, so no
 * user-supplied text can escape a team's prefix ({@code ..}, absolute keys, slashes).
 *
 * <pre>
 * teams/{team}/datasets/{dataset}/v{version}/data.jsonl (or data.parquet)
 * teams/{team}/pipelines/{pipeline}/{stage}/attempt-{n}/spec.json
 * teams/{team}/pipelines/{pipeline}/{stage}/checkpoints/step-{00000000}-a{attempt}/manifest.json
 *     (+ its files)
 * teams/{team}/models/{model}/v{version}/...
 * </pre>
 */
public final class ObjectKeys {

  /** Lower-case letters, digits, '-', '_' and '.', starting with a letter or digit. */
  private static final Pattern SEGMENT = Pattern.compile("[a-z0-9][a-z0-9._-]{0,62}");

  /** File names inside a checkpoint: the same, plus upper case, no path separators. */
  private static final Pattern FILE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

  public static final String MANIFEST = "manifest.json";
  public static final String SPEC = "spec.json";

  private ObjectKeys() {}

  /** Checks one path segment (a team, pipeline, dataset or model name); returns it unchanged. */
  /**
   * The key segment of one pipeline run: its name and the first 8 hex digits of its id, so two runs
   * of the same spec (the demo run twice, a resubmission) never write to the same keys.
   */
  public static String pipelineRun(String name, String pipelineId) {
    String hex = pipelineId.replace("-", "");
    String base = name.length() > 54 ? name.substring(0, 54) : name;
    return segment("pipeline", base + "-" + hex.substring(0, Math.min(8, hex.length())));
  }

  public static String segment(String what, String value) {
    if (value == null || !SEGMENT.matcher(value).matches() || value.contains("..")) {
      throw new IllegalArgumentException(
          what
              + " '"
              + value
              + "' is not a valid name: use 1-63 lower-case letters, digits, '.', '-' or '_',"
              + " starting with a letter or digit");
    }
    return value;
  }

  private static String fileName(String value) {
    if (value == null || !FILE_NAME.matcher(value).matches() || value.contains("..")) {
      throw new IllegalArgumentException("checkpoint file name '" + value + "' is not valid");
    }
    return value;
  }

  public static String teamPrefix(String team) {
    return "teams/" + segment("team", team) + "/";
  }

  /**
   * A token set: a dataset encoded with one tokenizer, under its content's identity (the sha256 of
   * the dataset's identity and the tokenizer's), written once and read by every attempt and node.
   */
  public static String tokenSet(String team, String identity) {
    if (!identity.matches("[0-9a-f]{64}")) {
      throw new IllegalArgumentException("token set identity must be a sha256, got " + identity);
    }
    return teamPrefix(team) + "tokens/" + identity + "/";
  }

  public static String dataset(String team, String dataset, int version) {
    return dataset(team, dataset, version, "jsonl");
  }

  /** A dataset version's object: {@code data.jsonl} or {@code data.parquet}. */
  public static String dataset(String team, String dataset, int version, String file) {
    if (!file.equals("jsonl") && !file.equals("parquet")) {
      throw new IllegalArgumentException("a dataset file is jsonl or parquet, got " + file);
    }
    if (version < 1) {
      throw new IllegalArgumentException("dataset version must be >= 1, got " + version);
    }
    return teamPrefix(team)
        + "datasets/"
        + segment("dataset", dataset)
        + "/v"
        + version
        + "/data."
        + file;
  }

  public static String stagePrefix(String team, String pipeline, StageKind stage) {
    return teamPrefix(team) + "pipelines/" + segment("pipeline", pipeline) + "/" + stage.id() + "/";
  }

  public static String attemptPrefix(String team, String pipeline, StageKind stage, int attempt) {
    if (attempt < 1) {
      throw new IllegalArgumentException("attempt must be >= 1, got " + attempt);
    }
    return stagePrefix(team, pipeline, stage) + "attempt-" + attempt + "/";
  }

  public static String spec(String team, String pipeline, StageKind stage, int attempt) {
    return attemptPrefix(team, pipeline, stage, attempt) + SPEC;
  }

  /**
   * Checkpoints belong to the stage, not the attempt, so a rollback reads an earlier attempt's; the
   * attempt is part of the name because an attempt that resumed earlier reaches the same step again
   * with other weights, and a checkpoint is never overwritten.
   */
  public static String checkpointPrefix(
      String team, String pipeline, StageKind stage, long step, int attempt) {
    if (step < 0) {
      throw new IllegalArgumentException("step must be >= 0, got " + step);
    }
    if (attempt < 1) {
      throw new IllegalArgumentException("attempt must be >= 1, got " + attempt);
    }
    return checkpointsPrefix(team, pipeline, stage)
        + String.format("step-%08d-a%d/", step, attempt);
  }

  /** The folder holding all of a stage's checkpoints. */
  public static String checkpointsPrefix(String team, String pipeline, StageKind stage) {
    return stagePrefix(team, pipeline, stage) + "checkpoints/";
  }

  public static String checkpointFile(
      String team, String pipeline, StageKind stage, long step, int attempt, String file) {
    return checkpointPrefix(team, pipeline, stage, step, attempt) + fileName(file);
  }

  public static String checkpointManifest(
      String team, String pipeline, StageKind stage, long step, int attempt) {
    return checkpointPrefix(team, pipeline, stage, step, attempt) + MANIFEST;
  }

  public static String model(String team, String model, int version) {
    if (version < 1) {
      throw new IllegalArgumentException("model version must be >= 1, got " + version);
    }
    return teamPrefix(team) + "models/" + segment("model", model) + "/v" + version + "/";
  }
}
