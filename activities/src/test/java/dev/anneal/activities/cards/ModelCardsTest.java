package dev.anneal.activities.cards;

import static org.assertj.core.api.Assertions.assertThat;

import dev.anneal.workflows.api.stage.GateOutcome;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/** The runner's card with the platform's lineage: front matter a YAML parser reads, idempotent. */
class ModelCardsTest {

  private static final String RUNNER_CARD =
      """
      ---
      library_name: transformers
      pipeline_tag: text-generation
      license: apache-2.0
      datasets:
      - "chat"
      tags:
      - anneal
      - sft
      ---

      # p — sft

      | | |
      |---|---|
      | architecture | LlamaForCausalLM |
      """;

  private static final CardLineage LINEAGE =
      new CardLineage(
          "team-a",
          "p",
          UUID.fromString("00000000-0000-0000-0000-000000000001"),
          "model:base@v2 (imported, qwen3)",
          List.of(
              new CardLineage.StageLine(
                  "pre", "pretrain", "SUCCEEDED", 100, 1, 0, Map.of("perplexity", 12.5)),
              new CardLineage.StageLine(
                  "sft", "sft", "SUCCEEDED", 40, 0, 0, Map.of("final_loss", Double.NaN))),
          List.of(
              new CardLineage.DatasetLine(
                  "chat", "dataset:chat@v3", 3, "ab".repeat(32), 300L, "parquet"),
              new CardLineage.DatasetLine(
                  "prose", "synthetic:prose?docs=10", null, null, null, null)));

  private static final List<GateOutcome> GATES =
      List.of(new GateOutcome("pre", "perplexity", 12.5, "must be <= 40.0", "passed"));

  @SuppressWarnings("unchecked")
  @Test
  void theLineageIsInTheFrontMatterAndTheBody() {
    String card = ModelCards.rewrite(RUNNER_CARD, LINEAGE, GATES);
    Map<String, Object> front = new Yaml().load(card.substring(4, card.indexOf("\n---\n", 4)));
    assertThat(front)
        .containsEntry("license", "apache-2.0")
        .containsEntry("datasets", List.of("chat"));
    Map<String, Object> anneal = (Map<String, Object>) front.get("anneal");
    assertThat(anneal)
        .containsEntry("team", "team-a")
        .containsEntry("started_from", "model:base@v2 (imported, qwen3)");
    List<Map<String, Object>> datasets = (List<Map<String, Object>>) anneal.get("datasets");
    assertThat(datasets.get(0))
        .containsEntry("version", 3)
        .containsEntry("sha256", "ab".repeat(32))
        .containsEntry("records", 300)
        .containsEntry("file", "parquet");
    assertThat(datasets.get(1)).containsOnlyKeys("name", "source");
    List<Map<String, Object>> stages = (List<Map<String, Object>>) anneal.get("stages");
    assertThat(stages.get(0))
        .containsEntry("rollbacks", 1)
        .containsEntry("figures", Map.of("perplexity", 12.5))
        .containsEntry(
            "gate",
            Map.of(
                "metric",
                "perplexity",
                "value",
                12.5,
                "bounds",
                "must be <= 40.0",
                "result",
                "passed"));
    assertThat((Map<String, Object>) stages.get(1).get("figures"))
        .hasEntrySatisfying("final_loss", v -> assertThat((Double) v).isNaN());
    assertThat(stages.get(1)).doesNotContainKey("gate");
    assertThat(card)
        .contains("| architecture | LlamaForCausalLM |")
        .contains("## Lineage")
        .contains("| pre | pretrain | SUCCEEDED | 100 | 1 | perplexity 12.50 | passed: perplexity")
        .contains("| chat | `dataset:chat@v3` | 300 | parquet | `" + "ab".repeat(32) + "` |");
  }

  @Test
  void rewritingAgainReplacesWhatTheLastRewriteAdded() {
    String once = ModelCards.rewrite(RUNNER_CARD, LINEAGE, List.of());
    assertThat(ModelCards.rewrite(once, LINEAGE, GATES))
        .isEqualTo(ModelCards.rewrite(RUNNER_CARD, LINEAGE, GATES));
  }
}
