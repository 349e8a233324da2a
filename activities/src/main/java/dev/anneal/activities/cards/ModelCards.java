package dev.anneal.activities.cards;

import dev.anneal.activities.metadata.MetadataStore;
import dev.anneal.activities.store.ObjectStore;
import dev.anneal.workflows.api.stage.GateOutcome;
import dev.anneal.workflows.api.stage.ModelCardRequest;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A stage's model card rewritten from the platform's lineage. The runner writes {@code
 * hf/README.md} knowing only its own stage; once the stage's gate has decided, the platform adds
 * what it holds: an {@code anneal:} block in the YAML front matter (the team, the pipeline, what
 * the chain started from, every dataset read with its version, sha256, record count and file
 * format, every stage so far with its figures and gate) and a Lineage section saying the same for
 * people. Rewriting is idempotent: an earlier block and section are replaced.
 */
public final class ModelCards {
  private static final Logger log = LoggerFactory.getLogger(ModelCards.class);
  private static final String SECTION = "\n## Lineage\n";

  private final ObjectStore store;
  private final MetadataStore meta;

  public ModelCards(ObjectStore store, MetadataStore meta) {
    this.store = store;
    this.meta = meta;
  }

  /** Rewrites the cards of the stage's exports ({@code hf/}, {@code hf-ema/}); false if none. */
  public boolean write(ModelCardRequest r) {
    Optional<CardLineage> lineage =
        CardLineage.read(meta.sql(), UUID.fromString(r.pipelineId()), r.position());
    if (lineage.isEmpty()) return false;
    String dir = r.finalManifestKey().substring(0, r.finalManifestKey().lastIndexOf('/') + 1);
    boolean any = false;
    for (String export : List.of("hf/", "hf-ema/")) {
      String key = dir + export + "README.md";
      if (store.stat(key).isEmpty()) continue;
      String card = new String(store.get(key), StandardCharsets.UTF_8);
      store.put(
          key,
          rewrite(card, lineage.get(), r.gates()).getBytes(StandardCharsets.UTF_8),
          "text/markdown");
      any = true;
    }
    if (!any)
      log.info("stage {} of {} has no export to write a card for", r.position(), r.pipelineId());
    return any;
  }

  /** The runner's card with the lineage added (or replaced). */
  public static String rewrite(String card, CardLineage l, List<GateOutcome> gates) {
    if (!card.startsWith("---\n")) card = "---\n---\n\n" + card;
    int end = card.indexOf("\n---\n", 3);
    String front = card.substring(4, end + 1);
    String body = card.substring(end + 5);
    int old = front.indexOf("anneal:\n");
    if (old == 0 || (old > 0 && front.charAt(old - 1) == '\n')) front = front.substring(0, old);
    int section = body.indexOf(SECTION);
    if (section >= 0) body = body.substring(0, section);
    body = body.stripTrailing() + "\n\n";
    return "---\n" + front + yaml(l, gates) + "---\n" + body + markdown(l, gates);
  }

  private static String yaml(CardLineage l, List<GateOutcome> gates) {
    StringBuilder y = new StringBuilder("anneal:\n");
    y.append("  team: ").append(q(l.team())).append('\n');
    y.append("  pipeline: ").append(q(l.pipeline())).append('\n');
    y.append("  pipeline_id: ").append(q(l.pipelineId().toString())).append('\n');
    y.append("  started_from: ").append(q(l.startedFrom())).append('\n');
    y.append(l.datasets().isEmpty() ? "  datasets: []\n" : "  datasets:\n");
    for (CardLineage.DatasetLine d : l.datasets()) {
      y.append("  - name: ").append(q(d.name())).append('\n');
      y.append("    source: ").append(q(d.source())).append('\n');
      if (d.version() != null) y.append("    version: ").append(d.version()).append('\n');
      if (d.sha256() != null) y.append("    sha256: ").append(q(d.sha256())).append('\n');
      if (d.records() != null) y.append("    records: ").append(d.records()).append('\n');
      if (d.file() != null) y.append("    file: ").append(d.file()).append('\n');
    }
    y.append("  stages:\n");
    for (CardLineage.StageLine s : l.stages()) {
      y.append("  - name: ").append(q(s.name())).append('\n');
      y.append("    kind: ").append(s.kind()).append('\n');
      y.append("    status: ").append(s.status()).append('\n');
      y.append("    steps: ").append(s.steps()).append('\n');
      y.append("    rollbacks: ").append(s.rollbacks()).append('\n');
      y.append("    restarts: ").append(s.restarts()).append('\n');
      if (!s.figures().isEmpty()) {
        y.append("    figures:\n");
        s.figures()
            .forEach(
                (k, v) -> y.append("      ").append(q(k)).append(": ").append(num(v)).append('\n'));
      }
      for (GateOutcome g : gates) {
        if (!g.stage().equals(s.name())) continue;
        y.append("    gate:\n");
        y.append("      metric: ").append(q(g.metric())).append('\n');
        if (g.value() != null) y.append("      value: ").append(num(g.value())).append('\n');
        y.append("      bounds: ").append(q(g.bounds())).append('\n');
        y.append("      result: ").append(q(g.result())).append('\n');
      }
    }
    return y.toString();
  }

  private static String markdown(CardLineage l, List<GateOutcome> gates) {
    StringBuilder m = new StringBuilder(SECTION.substring(1));
    m.append("\nPipeline `")
        .append(l.pipeline())
        .append("` of team `")
        .append(l.team())
        .append("`, started from ")
        .append(l.startedFrom())
        .append(".\n\n| stage | kind | status | steps | rollbacks | figures | gate |\n")
        .append("|---|---|---|---|---|---|---|\n");
    for (CardLineage.StageLine s : l.stages()) {
      String figures =
          s.figures().entrySet().stream()
              .map(e -> e.getKey() + " " + String.format(Locale.ROOT, "%.4g", e.getValue()))
              .collect(Collectors.joining(", "));
      String gate =
          gates.stream()
              .filter(g -> g.stage().equals(s.name()))
              .map(
                  g ->
                      g.result()
                          + ": "
                          + g.metric()
                          + (g.value() == null
                              ? ""
                              : " = " + String.format(Locale.ROOT, "%.4g", g.value()))
                          + " ("
                          + g.bounds()
                          + ")")
              .findFirst()
              .orElse("none");
      row(
          m,
          s.name(),
          s.kind(),
          s.status(),
          Long.toString(s.steps()),
          Integer.toString(s.rollbacks()),
          figures,
          gate);
    }
    m.append("\n| dataset | source | records | file | sha256 |\n|---|---|---|---|---|\n");
    for (CardLineage.DatasetLine d : l.datasets()) {
      row(
          m,
          d.name(),
          "`" + d.source() + "`",
          d.records() == null ? "" : String.format(Locale.ROOT, "%,d", d.records()),
          d.file() == null ? "" : d.file(),
          d.sha256() == null ? "" : "`" + d.sha256() + "`");
    }
    return m.toString();
  }

  private static void row(StringBuilder m, String... cells) {
    m.append('|');
    for (String c : cells) m.append(' ').append(c.replace("|", "\\|")).append(" |");
    m.append('\n');
  }

  /** A YAML number: .nan and .inf for the figures that are not finite. */
  private static String num(double v) {
    if (Double.isNaN(v)) return ".nan";
    if (Double.isInfinite(v)) return v > 0 ? ".inf" : "-.inf";
    return Double.toString(v);
  }

  /** A YAML double-quoted scalar. */
  private static String q(String s) {
    return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }
}
