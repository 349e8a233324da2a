package dev.anneal.workflows.api.spec;

import dev.anneal.protocol.Checks;
import dev.anneal.protocol.ObjectKeys;

/**
 * A dataset the stages may draw from. {@code source} is {@code dataset:<name>[@v<version>]} (a
 * dataset registered with the platform), {@code synthetic:<kind>[?docs=N]} (the built-in corpus) or
 * {@code file:<path>} (embedded mode only).
 */
public record DatasetSpec(String name, String source) {
  public DatasetSpec {
    ObjectKeys.segment("name", Checks.text("name", name));
    Checks.text("source", source);
    if (!source.startsWith("dataset:")
        && !source.startsWith("synthetic:")
        && !source.startsWith("file:")) {
      throw new IllegalArgumentException(
          "source: must start with dataset:, synthetic: or file:, got '" + source + "'");
    }
  }
}
