package dev.anneal.runner.hf;

import dev.anneal.protocol.DatasetRef;
import dev.anneal.protocol.HfModelConfig;
import dev.anneal.protocol.RunSpec;
import dev.anneal.protocol.StageKind;
import dev.anneal.runner.model.ModelShape;
import java.util.Locale;
import java.util.Map;

/**
 * The {@code README.md} of an {@code hf/} export: YAML front matter the Hub reads ({@code
 * library_name}, {@code pipeline_tag}, {@code license}, {@code base_model}, {@code datasets},
 * {@code tags}), then what the run knows of itself — the stage, what it started from, the
 * architecture, the data with its keys and sha256 where registered, the hyperparameters, and the
 * stage's figures.
 */
public final class ModelCard {
  private ModelCard() {}

  public static String write(
      RunSpec spec, ModelShape shape, long step, Map<String, Double> figures) {
    StringBuilder y = new StringBuilder("---\n");
    y.append("library_name: transformers\n");
    boolean reward = spec.stage() == StageKind.REWARD;
    y.append("pipeline_tag: ")
        .append(reward ? "text-classification" : "text-generation")
        .append('\n');
    if (spec.export().license() != null)
      y.append("license: ").append(spec.export().license()).append('\n');
    if (spec.export().baseModel() != null) {
      y.append("base_model: ").append(quote(spec.export().baseModel())).append('\n');
    }
    if (!spec.datasets().isEmpty()) {
      y.append("datasets:\n");
      for (DatasetRef d : spec.datasets()) y.append("- ").append(quote(d.name())).append('\n');
    }
    y.append("tags:\n- anneal\n- ").append(spec.stage().id()).append('\n');
    y.append("---\n\n");
    String arch =
        HfModelConfig.FAMILIES.get(shape.arch().family())
            + (reward ? "ForSequenceClassification" : "ForCausalLM");
    y.append("# ").append(spec.pipeline()).append(" — ").append(spec.stage().id()).append("\n\n");
    y.append("Trained with Anneal: the ")
        .append(spec.stage().id())
        .append(" stage of pipeline `")
        .append(spec.pipeline())
        .append("` (team `")
        .append(spec.team())
        .append("`), attempt ")
        .append(spec.attempt())
        .append(", ")
        .append(step)
        .append(" steps.\n\n");
    y.append("| | |\n|---|---|\n");
    row(
        y,
        "architecture",
        arch + ", " + String.format(Locale.ROOT, "%,d", shape.parameterCount()) + " parameters");
    row(
        y,
        "shape",
        String.format(
            Locale.ROOT,
            "hidden %d, %d layers, %d heads (%d KV), head_dim %d, vocabulary %d",
            shape.dModel(),
            shape.nLayers(),
            shape.nHeads(),
            shape.nKvHeads(),
            shape.headDim(),
            shape.vocabSize()));
    row(
        y,
        "started from",
        spec.export().baseModel() != null ? spec.export().baseModel() : "scratch");
    for (DatasetRef d : spec.datasets()) {
      row(
          y,
          "data: " + d.name(),
          "`" + d.key() + "`" + (d.sha256() != null ? ", sha256 `" + d.sha256() + "`" : ""));
    }
    row(
        y,
        "hyperparameters",
        String.format(
            Locale.ROOT,
            "lr %s, batch %d × %d tokens, %d steps, seed %d",
            spec.training().lr(),
            spec.training().batchSize(),
            spec.training().seqLen(),
            spec.training().steps(),
            spec.seed()));
    row(y, "weights", spec.export().dtype());
    if (!figures.isEmpty()) {
      y.append("\n## Figures\n\n| figure | value |\n|---|---|\n");
      figures.forEach(
          (k, v) -> {
            if (v != null && Double.isFinite(v)) row(y, k, String.format(Locale.ROOT, "%.4g", v));
          });
    }
    return y.toString();
  }

  private static void row(StringBuilder y, String k, String v) {
    y.append("| ").append(k).append(" | ").append(v.replace("|", "\\|")).append(" |\n");
  }

  /** A YAML double-quoted scalar. */
  private static String quote(String s) {
    return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }
}
