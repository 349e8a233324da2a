package dev.anneal.activities.stage;

import dev.anneal.activities.metadata.MetadataReads;
import dev.anneal.protocol.DatasetRef;
import dev.anneal.protocol.EventSink;
import dev.anneal.protocol.ObjectKeys;
import dev.anneal.protocol.ObjectStoreTarget;
import dev.anneal.protocol.RunSpec;
import dev.anneal.protocol.StageKind;
import dev.anneal.workflows.api.spec.DatasetSpec;
import dev.anneal.workflows.api.spec.MixtureEntry;
import dev.anneal.workflows.api.spec.PipelineSpec;
import dev.anneal.workflows.api.spec.RegistryRef;
import dev.anneal.workflows.api.spec.StageSpec;
import dev.anneal.workflows.api.stage.AttemptPlan;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Turns a pipeline's spec and an attempt plan of one of its stages into the runner's RunSpec. Pure.
 */
public final class RunSpecFactory {
  private RunSpecFactory() {}

  /** Where a team's registered dataset version is stored, and its sha256; empty if it is not. */
  @FunctionalInterface
  public interface DatasetObjects {
    Optional<MetadataReads.StoredDataset> find(String team, String name, int version);

    DatasetObjects NONE = (team, name, version) -> Optional.empty();
  }

  public static RunSpec build(
      PipelineSpec p, AttemptPlan plan, ObjectStoreTarget store, String eventsUrl) {
    return build(p, plan, store, eventsUrl, DatasetObjects.NONE);
  }

  /**
   * The RunSpec; a {@code dataset:} source names its registered object (JSONL or Parquet) with the
   * sha256 recorded at upload, which the runner checks as it reads.
   */
  public static RunSpec build(
      PipelineSpec p,
      AttemptPlan plan,
      ObjectStoreTarget store,
      String eventsUrl,
      DatasetObjects datasets) {
    StageSpec s = p.stages().get(plan.stage().position());
    String team = plan.stage().team();
    List<DatasetRef> data = new ArrayList<>();
    for (MixtureEntry m : s.data()) {
      DatasetSpec d =
          p.datasets().stream().filter(x -> x.name().equals(m.dataset())).findFirst().orElseThrow();
      String format = s.kind() == StageKind.SFT ? "chat" : "text";
      Optional<MetadataReads.StoredDataset> stored =
          RegistryRef.parse(RegistryRef.Kind.DATASET, d.source())
              .flatMap(r -> datasets.find(team, r.name(), r.version() == null ? 1 : r.version()));
      data.add(
          new DatasetRef(
              d.name(),
              stored.map(MetadataReads.StoredDataset::key).orElse(key(team, d.source())),
              stored.map(MetadataReads.StoredDataset::sha256).orElse(null),
              m.weight(),
              format));
    }
    return RunSpec.builder()
        .team(team)
        .pipeline(plan.stage().pipelineKey())
        .stage(s.kind())
        .attempt(plan.attempt())
        .device(s.resources().device())
        .seed(p.seed())
        .model(p.model())
        .training(s.hyperparameters())
        .datasets(data)
        .curriculum(s.curriculum())
        .tokenizer(p.tokenizer())
        .initFrom(plan.stage().initFrom())
        .resumeFrom(plan.resumeFrom())
        .checkpoint(s.checkpoint())
        .stability(s.stability().forAttempt(plan.skipWindows(), plan.lrFactor()))
        .store(store)
        .events(eventsUrl == null ? null : new EventSink(eventsUrl, null, null))
        .inject(s.inject())
        .rewardFrom(plan.stage().rewardFrom())
        .rl(s.rl())
        .export(
            s.export()
                .orDefaults(
                    p.metadata().labels().get("license"),
                    s.from() == null
                        ? null
                        : s.from().startsWith("model:")
                            ? s.from().substring("model:".length())
                            : p.metadata().name() + "/" + s.from()))
        .build();
  }

  /**
   * {@code dataset:<name>[@v<n>]} becomes the key a JSONL upload has (when the registry does not
   * say where it is); other sources pass through.
   */
  static String key(String team, String source) {
    return RegistryRef.parse(RegistryRef.Kind.DATASET, source)
        .map(r -> ObjectKeys.dataset(team, r.name(), r.version() == null ? 1 : r.version()))
        .orElse(source);
  }
}
