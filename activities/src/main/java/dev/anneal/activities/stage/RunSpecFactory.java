package dev.anneal.activities.stage;

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

/**
 * Turns a pipeline's spec and an attempt plan of one of its stages into the runner's RunSpec. Pure.
 */
public final class RunSpecFactory {
  private RunSpecFactory() {}

  public static RunSpec build(
      PipelineSpec p, AttemptPlan plan, ObjectStoreTarget store, String eventsUrl) {
    StageSpec s = p.stages().get(plan.stage().position());
    String team = plan.stage().team();
    List<DatasetRef> data = new ArrayList<>();
    for (MixtureEntry m : s.data()) {
      DatasetSpec d =
          p.datasets().stream().filter(x -> x.name().equals(m.dataset())).findFirst().orElseThrow();
      String format = s.kind() == StageKind.SFT ? "chat" : "text";
      data.add(new DatasetRef(d.name(), key(team, d.source()), null, m.weight(), format));
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
   * {@code dataset:<name>[@v<n>]} becomes the registered object's key; other sources pass through.
   */
  static String key(String team, String source) {
    return RegistryRef.parse(RegistryRef.Kind.DATASET, source)
        .map(r -> ObjectKeys.dataset(team, r.name(), r.version() == null ? 1 : r.version()))
        .orElse(source);
  }
}
