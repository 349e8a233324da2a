package dev.anneal.protocol;

import io.soabase.recordbuilder.core.RecordBuilder;
import java.util.List;

/**
 * Everything one stage attempt needs: what to train, from where, to where. The platform writes it
 * to {@link ObjectKeys#spec}; the runner reads it and nothing else. Unknown fields are an error.
 */
@RecordBuilder
public record RunSpec(
    String apiVersion,
    String team,
    String pipeline,
    StageKind stage,
    Integer attempt,
    String device,
    Long seed,
    ModelConfig model,
    TrainingConfig training,
    List<DatasetRef> datasets,
    List<CurriculumPhase> curriculum,
    TokenizerSpec tokenizer,
    CheckpointRef initFrom,
    CheckpointRef resumeFrom,
    CheckpointPolicy checkpoint,
    StabilityConfig stability,
    ObjectStoreTarget store,
    EventSink events,
    FaultInjection inject,
    CheckpointRef rewardFrom,
    RlConfig rl,
    ExportConfig export) {

  public static final String API_VERSION = "anneal.dev/runner/v1";

  public RunSpec {
    apiVersion = Checks.orDefault(apiVersion, API_VERSION);
    if (!API_VERSION.equals(apiVersion)) {
      throw new IllegalArgumentException(
          "apiVersion: must be '" + API_VERSION + "', got '" + apiVersion + "'");
    }
    ObjectKeys.segment("team", Checks.text("team", team));
    ObjectKeys.segment("pipeline", Checks.text("pipeline", pipeline));
    Checks.present("stage", stage);
    Checks.positive("attempt", Checks.present("attempt", attempt));
    device = Checks.orDefault(device, "cpu");
    if (!device.equals("cpu") && !device.matches("cuda(:\\d+)?")) {
      throw new IllegalArgumentException(
          "device: must be 'cpu', 'cuda' or 'cuda:N', got '" + device + "'");
    }
    seed = Checks.orDefault(seed, 1234L);
    model = Checks.orDefault(model, ModelConfig.preset("tiny"));
    Checks.present("training", training);
    datasets = datasets == null ? List.of() : List.copyOf(datasets);
    curriculum = curriculum == null ? List.of() : List.copyOf(curriculum);
    tokenizer = Checks.orDefault(tokenizer, TokenizerSpec.defaults());
    inject = Checks.orDefault(inject, FaultInjection.none());
    export = Checks.orDefault(export, ExportConfig.defaults());
    if (stage == StageKind.RLHF) {
      rl = Checks.orDefault(rl, RlConfig.defaults());
      if (rewardFrom == null) {
        throw new IllegalArgumentException(
            "rewardFrom: an rlhf stage needs the reward model's checkpoint");
      }
    } else if (rl != null || rewardFrom != null) {
      throw new IllegalArgumentException(
          (rl != null ? "rl" : "rewardFrom") + ": only an rlhf stage takes one");
    }
    checkpoint = Checks.orDefault(checkpoint, CheckpointPolicy.defaults());
    stability = Checks.orDefault(stability, StabilityConfig.defaults());
    Checks.present("store", store);
    if (stage == StageKind.PRETRAIN && datasets.isEmpty()) {
      throw new IllegalArgumentException("datasets: pretrain needs at least one dataset");
    }
    for (int i = 0; i < curriculum.size(); i++) {
      for (String name : curriculum.get(i).weights().keySet()) {
        if (datasets.stream().noneMatch(d -> d.name().equals(name))) {
          throw new IllegalArgumentException(
              "curriculum["
                  + i
                  + "].weights: names dataset '"
                  + name
                  + "', which is not among the datasets");
        }
      }
    }
  }

  /** A builder: unset fields are null and take their defaults, as in a spec file. */
  public static RunSpecBuilder builder() {
    return RunSpecBuilder.builder();
  }

  /** A builder holding this run spec's values, to change a few of them. */
  public RunSpecBuilder toBuilder() {
    return RunSpecBuilder.builder(this);
  }
}
