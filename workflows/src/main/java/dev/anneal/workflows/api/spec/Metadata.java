package dev.anneal.workflows.api.spec;

import dev.anneal.protocol.Checks;
import dev.anneal.protocol.ObjectKeys;
import java.util.Map;

/** Who owns the pipeline and what it is called; both become parts of object keys. */
public record Metadata(String name, String team, Map<String, String> labels) {
  public Metadata {
    ObjectKeys.segment("name", Checks.text("name", name));
    if (team != null) ObjectKeys.segment("team", team);
    labels = labels == null ? Map.of() : Map.copyOf(labels);
  }
}
