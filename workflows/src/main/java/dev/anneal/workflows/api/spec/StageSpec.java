package dev.anneal.workflows.api.spec;

import dev.anneal.protocol.CheckpointPolicy;
import dev.anneal.protocol.Checks;
import dev.anneal.protocol.CurriculumPhase;
import dev.anneal.protocol.ExportConfig;
import dev.anneal.protocol.FaultInjection;
import dev.anneal.protocol.ObjectKeys;
import dev.anneal.protocol.RlConfig;
import dev.anneal.protocol.StageKind;
import dev.anneal.protocol.TrainingConfig;
import java.util.List;

/**
 * One stage of a pipeline. {@code from} names the earlier stage whose final checkpoint it starts
 * from, or a registered model ({@code model:<name>[@v<version>]}); a pre-training stage may start
 * from scratch. An RLHF stage also names its reward stage ({@code reward}) and may set PPO options
 * ({@code rl}). {@code engine} chooses what trains it: the built-in engine by default. {@code
 * export} sets how its {@code hf/} export is written (dtype, shard size, the model card's license
 * and base model).
 */
public record StageSpec(
    String name,
    StageKind kind,
    String from,
    String reward,
    List<MixtureEntry> data,
    List<CurriculumPhase> curriculum,
    TrainingConfig hyperparameters,
    Resources resources,
    CheckpointPolicy checkpoint,
    StabilitySpec stability,
    GateSpec gate,
    FaultInjection inject,
    RlConfig rl,
    EngineSpec engine,
    ExportConfig export) {

  /** The GPUs the built-in engine can use: one device. */
  public static final int BUILT_IN_ENGINE_GPUS = 1;

  public StageSpec {
    Checks.present("kind", kind);
    name = Checks.orDefault(name, kind.id());
    ObjectKeys.segment("name", name);
    data = data == null ? List.of() : List.copyOf(data);
    curriculum = curriculum == null ? List.of() : List.copyOf(curriculum);
    Checks.present("hyperparameters", hyperparameters);
    resources = Checks.orDefault(resources, Resources.defaults());
    checkpoint = Checks.orDefault(checkpoint, CheckpointPolicy.defaults());
    stability = Checks.orDefault(stability, StabilitySpec.defaults());
    inject = Checks.orDefault(inject, FaultInjection.none());
    engine = Checks.orDefault(engine, EngineSpec.builtin());
    export = Checks.orDefault(export, ExportConfig.defaults());
    if (engine.kind() == EngineSpec.Kind.BUILTIN && resources.gpus() > BUILT_IN_ENGINE_GPUS) {
      String hint =
          EngineSpec.Kind.TORCH.stages().contains(kind)
              ? "; engine: {kind: torch} trains on " + resources.gpus()
              : "";
      throw new IllegalArgumentException(
          "resources.gpus: the built-in engine trains on one device, so a stage asks for at most "
              + BUILT_IN_ENGINE_GPUS
              + " GPU, got "
              + resources.gpus()
              + " (a GPU it cannot use would still be billed to the team's quota)"
              + hint);
    }
    if (engine.kind() != EngineSpec.Kind.BUILTIN) {
      EngineChecks.check(kind, engine, resources, data, curriculum, hyperparameters);
    }
    if (kind == StageKind.PRETRAIN && data.isEmpty()) {
      throw new IllegalArgumentException("data: a pretrain stage needs at least one dataset");
    }
    if (kind != StageKind.PRETRAIN && from == null) {
      throw new IllegalArgumentException(
          "from: a " + kind.id() + " stage starts from an earlier stage or a model");
    }
    if (kind == StageKind.RLHF && reward == null) {
      throw new IllegalArgumentException("reward: an rlhf stage names its reward-model stage");
    }
    if (kind != StageKind.RLHF && reward != null) {
      throw new IllegalArgumentException("reward: only an rlhf stage takes a reward model");
    }
    if (kind != StageKind.RLHF && rl != null) {
      throw new IllegalArgumentException("rl: only an rlhf stage takes PPO settings");
    }
    for (int i = 0; i < curriculum.size(); i++) {
      for (String ds : curriculum.get(i).weights().keySet()) {
        if (data.stream().noneMatch(m -> m.dataset().equals(ds))) {
          throw new IllegalArgumentException(
              "curriculum["
                  + i
                  + "].weights: names dataset '"
                  + ds
                  + "', which is not in this stage's data");
        }
      }
    }
  }
}
