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

/** Turns a pipeline stage and an attempt plan into the runner's RunSpec. Pure. */
public final class RunSpecFactory {
  private RunSpecFactory() {}

  public static RunSpec build(AttemptPlan plan, ObjectStoreTarget store, String eventsUrl) {
    PipelineSpec p = plan.stage().spec();
    StageSpec s = plan.stage().stage();
    String team = plan.stage().team();
    List<DatasetRef> data = new ArrayList<>();
    for (MixtureEntry m : s.data()) {
      DatasetSpec d =
          p.datasets().stream().filter(x -> x.name().equals(m.dataset())).findFirst().orElseThrow();
      String format = s.kind() == StageKind.SFT ? "chat" : "text";
      data.add(new DatasetRef(d.name(), key(team, d.source()), null, m.weight(), format));
    }
    return new RunSpec(
        null,
        team,
        plan.stage().pipelineKey(),
        s.kind(),
        plan.attempt(),
        "cpu",
        p.seed(),
        p.model(),
        s.hyperparameters(),
        data,
        s.curriculum(),
        p.tokenizer(),
        plan.stage().initFrom(),
        plan.resumeFrom(),
        s.checkpoint(),
        s.stability().forAttempt(plan.skipWindows(), plan.lrFactor()),
        store,
        eventsUrl == null ? null : new EventSink(eventsUrl, null, null),
        s.inject(),
        plan.stage().rewardFrom(),
        s.rl());
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
