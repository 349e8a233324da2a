package dev.anneal.platform.api.pipelines;

import dev.anneal.platform.api.ApiException;
import dev.anneal.workflows.api.spec.EngineSpec;
import dev.anneal.workflows.api.spec.PipelineSpec;
import java.util.List;

/**
 * The operator's rule for stages that run a team's own program ({@code engine: {kind: command}}):
 * off unless {@code anneal.engines.command-enabled}; where {@code anneal.engines.command-images}
 * lists image prefixes, the stage names an image that starts with one of them.
 */
public record CommandEngines(boolean enabled, List<String> images) {

  public CommandEngines {
    images = images == null ? List.of() : images.stream().filter(i -> !i.isBlank()).toList();
  }

  /** Refuses, naming the field, the first stage of {@code spec} the rule does not allow. */
  public void check(PipelineSpec spec) {
    for (int i = 0; i < spec.stages().size(); i++) {
      EngineSpec e = spec.stages().get(i).engine();
      if (e.kind() != EngineSpec.Kind.COMMAND) continue;
      String at = "stages[" + i + "].engine.";
      if (!enabled) {
        throw ApiException.unprocessable(
            at
                + "kind: command engines are off on this platform: they run a team's own code"
                + " on its machines; an operator turns them on with"
                + " anneal.engines.command-enabled (the chart's training.engines.commandEnabled)",
            at + "kind");
      }
      if (!images.isEmpty()
          && (e.image() == null || images.stream().noneMatch(e.image()::startsWith))) {
        throw ApiException.unprocessable(
            at
                + "image: this platform runs command engines only from the images its operator"
                + " allows ("
                + String.join(", ", images.stream().map(p -> p + "…").toList())
                + "), got "
                + (e.image() == null ? "none" : e.image()),
            at + "image");
      }
    }
  }
}
