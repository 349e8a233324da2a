package dev.anneal.activities.cards;

import com.fasterxml.jackson.databind.JsonNode;
import dev.anneal.activities.metadata.Sql;
import dev.anneal.protocol.ProtocolJson;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * What the platform holds of a stage's lineage, for its model card: the pipeline, every stage up to
 * this one with its figures, the datasets those stages read (a registered one with its version,
 * sha256, record count and file format), and what the stage's chain started from.
 */
public record CardLineage(
    String team,
    String pipeline,
    UUID pipelineId,
    String startedFrom,
    List<StageLine> stages,
    List<DatasetLine> datasets) {

  /** A stage as the metadata has it; {@code figures} are its summary (empty if none). */
  public record StageLine(
      String name,
      String kind,
      String status,
      long steps,
      int rollbacks,
      int restarts,
      Map<String, Double> figures) {}

  /** A dataset a stage read; the registry's fields are null for a synthetic or file source. */
  public record DatasetLine(
      String name, String source, Integer version, String sha256, Long records, String file) {}

  /** The lineage of the stage at {@code position}, read from PostgreSQL. */
  public static Optional<CardLineage> read(Sql sql, UUID pipelineId, int position) {
    Optional<String[]> p =
        sql.one(
            "SELECT p.name, t.name, p.spec::text FROM pipelines p JOIN teams t ON t.id = p.team_id"
                + " WHERE p.id = ?",
            rs -> new String[] {rs.getString(1), rs.getString(2), rs.getString(3)},
            pipelineId);
    if (p.isEmpty()) return Optional.empty();
    JsonNode spec = tree(p.get()[2]);
    JsonNode specStages = spec.path("stages");

    List<StageLine> stages =
        sql.list(
            "SELECT position, kind, status, current_step, rollbacks, restarts, eval::text"
                + " FROM stages WHERE pipeline_id = ? AND position <= ? ORDER BY position",
            rs ->
                new StageLine(
                    specStages.path(rs.getInt(1)).path("name").asText(rs.getString(2)),
                    rs.getString(2),
                    rs.getString(3),
                    rs.getLong(4),
                    rs.getInt(5),
                    rs.getInt(6),
                    figures(rs.getString(7))),
            pipelineId,
            position);

    Map<String, DatasetLine> registered = new LinkedHashMap<>();
    sql.list(
            "SELECT d.name, d.version, d.sha256, d.records, d.uri FROM pipeline_datasets u"
                + " JOIN datasets d ON d.id = u.dataset_id WHERE u.pipeline_id = ?",
            rs ->
                new DatasetLine(
                    rs.getString(1),
                    "dataset:" + rs.getString(1) + "@v" + rs.getInt(2),
                    rs.getInt(2),
                    rs.getString(3),
                    rs.getObject(4) == null ? null : rs.getLong(4),
                    rs.getString(5).endsWith(".parquet") ? "parquet" : "jsonl"),
            pipelineId)
        .forEach(d -> registered.put(d.source(), d));

    // the datasets the stages so far read, in the order the spec names them
    Set<String> read = new LinkedHashSet<>();
    for (int i = 0; i <= position && i < specStages.size(); i++) {
      for (JsonNode m : specStages.get(i).path("data")) read.add(m.path("dataset").asText());
    }
    List<DatasetLine> datasets = new ArrayList<>();
    for (JsonNode d : spec.path("datasets")) {
      String name = d.path("name").asText();
      if (!read.contains(name)) continue;
      String source = d.path("source").asText();
      DatasetLine r = registered.get(source);
      datasets.add(
          r == null
              ? new DatasetLine(name, source, null, null, null, null)
              : new DatasetLine(name, source, r.version(), r.sha256(), r.records(), r.file()));
    }

    return Optional.of(
        new CardLineage(
            p.get()[1],
            p.get()[0],
            pipelineId,
            startedFrom(sql, pipelineId, specStages, position),
            stages,
            datasets));
  }

  /**
   * Where the chain of {@code from}s that ends at the stage begins: {@code scratch}, or a
   * registered model ({@code model:name@vN}, with how it came to be).
   */
  private static String startedFrom(Sql sql, UUID pipelineId, JsonNode stages, int position) {
    JsonNode s = stages.path(position);
    for (int guard = 0; guard <= stages.size(); guard++) {
      String from = s.path("from").asText(null);
      if (from == null) return "scratch";
      if (from.startsWith("model:")) {
        String name = from.substring("model:".length()).replaceAll("@v\\d+$", "");
        return sql.one(
                "SELECT m.version, m.lineage->>'origin', m.lineage->>'family',"
                    + " m.lineage->>'pipelineName' FROM pipeline_models u"
                    + " JOIN models m ON m.id = u.model_id WHERE u.pipeline_id = ? AND m.name = ?",
                rs ->
                    "model:"
                        + name
                        + "@v"
                        + rs.getInt(1)
                        + describe(rs.getString(2), rs.getString(3), rs.getString(4)),
                pipelineId,
                name)
            .orElse(from);
      }
      JsonNode parent = null;
      for (JsonNode x : stages) if (x.path("name").asText().equals(from)) parent = x;
      if (parent == null) return from;
      s = parent;
    }
    return "scratch";
  }

  private static String describe(String origin, String family, String pipeline) {
    if ("imported".equals(origin)) {
      return " (imported" + (family == null ? "" : ", " + family) + ")";
    }
    return pipeline == null ? "" : " (from pipeline " + pipeline + ")";
  }

  private static JsonNode tree(String json) {
    try {
      return ProtocolJson.mapper().readTree(json);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static Map<String, Double> figures(String eval) {
    Map<String, Double> out = new LinkedHashMap<>();
    if (eval == null) return out;
    tree(eval)
        .fields()
        .forEachRemaining(
            e -> {
              if (e.getValue().isNumber()) out.put(e.getKey(), e.getValue().asDouble());
            });
    return out;
  }
}
