package dev.anneal.runner.hf;

import dev.anneal.protocol.RunSpec;
import dev.anneal.runner.ckpt.CheckpointReader;
import dev.anneal.runner.model.ModelShape;

/**
 * The shape a stage trains: the one its starting weights carry in their {@code config.json} (an
 * imported Hugging Face model, an {@code hf/} export, or a checkpoint of a stage that started from
 * one), else the spec's {@code model} section. Weights decide, as in transformers: a Qwen3
 * checkpoint is a Qwen3 whatever the preset says.
 */
public final class StageShape {
  private StageShape() {}

  public static ModelShape of(RunSpec spec, CheckpointReader.Loaded from) {
    if (from != null && from.files().containsKey("config.json")) {
      return HfFormat.shape(from.file("config.json"), from.manifestKey());
    }
    return ModelShape.of(spec.model());
  }

  /**
   * Whether checkpoints must carry the shape: it is not what the spec's model section gives, so a
   * resumed attempt or a later stage could not rebuild it from the spec.
   */
  public static boolean carried(RunSpec spec, ModelShape shape) {
    return !shape.equals(ModelShape.of(spec.model()));
  }
}
