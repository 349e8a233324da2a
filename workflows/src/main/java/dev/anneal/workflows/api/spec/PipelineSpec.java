package dev.anneal.workflows.api.spec;

import dev.anneal.protocol.Checks;
import dev.anneal.protocol.ModelConfig;
import dev.anneal.protocol.StageKind;
import dev.anneal.protocol.TokenizerSpec;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A pipeline: {@code apiVersion: anneal.dev/v1}, {@code kind: Pipeline}, metadata, datasets, the
 * model, and an ordered list of stages (any subset of pretrain, sft, reward, rlhf). Read with
 * {@link PipelineSpecs#parse}, which reports every problem with the path of its field.
 */
public record PipelineSpec(
    String apiVersion,
    String kind,
    Metadata metadata,
    Long seed,
    List<DatasetSpec> datasets,
    ModelConfig model,
    TokenizerSpec tokenizer,
    List<StageSpec> stages) {

  public static final String API_VERSION = "anneal.dev/v1";
  public static final String KIND = "Pipeline";

  public PipelineSpec {
    if (!API_VERSION.equals(apiVersion)) {
      throw new IllegalArgumentException(
          "apiVersion: must be '" + API_VERSION + "', got '" + apiVersion + "'");
    }
    if (!KIND.equals(kind)) {
      throw new IllegalArgumentException("kind: must be '" + KIND + "', got '" + kind + "'");
    }
    Checks.present("metadata", metadata);
    seed = Checks.orDefault(seed, 1234L);
    datasets = datasets == null ? List.of() : List.copyOf(datasets);
    model = Checks.orDefault(model, ModelConfig.preset("tiny"));
    tokenizer = Checks.orDefault(tokenizer, TokenizerSpec.defaults());
    stages = List.copyOf(Checks.present("stages", stages));
    if (stages.isEmpty()) {
      throw new IllegalArgumentException("stages: a pipeline has at least one stage");
    }
    String license = metadata.labels().get("license");
    if (license != null) {
      try {
        new dev.anneal.protocol.ExportConfig(null, null, license, null);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("metadata.labels." + e.getMessage());
      }
    }
    Set<String> datasetNames = new HashSet<>();
    for (int i = 0; i < datasets.size(); i++) {
      if (!datasetNames.add(datasets.get(i).name())) {
        throw new IllegalArgumentException(
            "datasets[" + i + "].name: '" + datasets.get(i).name() + "' is used twice");
      }
    }
    Set<String> earlier = new HashSet<>();
    for (int i = 0; i < stages.size(); i++) {
      StageSpec s = stages.get(i);
      String at = "stages[" + i + "]";
      if (earlier.contains(s.name())) {
        throw new IllegalArgumentException(at + ".name: '" + s.name() + "' is used twice");
      }
      for (int j = 0; j < s.data().size(); j++) {
        if (!datasetNames.contains(s.data().get(j).dataset())) {
          throw new IllegalArgumentException(
              at
                  + ".data["
                  + j
                  + "].dataset: '"
                  + s.data().get(j).dataset()
                  + "' is not among the pipeline's datasets "
                  + datasetNames);
        }
      }
      if (s.from() != null && !s.from().startsWith("model:") && !earlier.contains(s.from())) {
        throw new IllegalArgumentException(
            at
                + ".from: '"
                + s.from()
                + "' is not an earlier stage (earlier: "
                + earlier
                + ") nor model:<name>");
      }
      if (s.reward() != null) {
        StageSpec rm =
            stages.stream()
                .limit(i)
                .filter(x -> x.name().equals(s.reward()))
                .findFirst()
                .orElse(null);
        if (rm == null || rm.kind() != StageKind.REWARD) {
          throw new IllegalArgumentException(
              at + ".reward: '" + s.reward() + "' is not an earlier reward stage");
        }
      }
      earlier.add(s.name());
    }
  }

  /** The team, from the metadata or, when submitted through the API, the caller's. */
  public String team() {
    return metadata.team();
  }
}
