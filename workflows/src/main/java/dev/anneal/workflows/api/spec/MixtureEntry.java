package dev.anneal.workflows.api.spec;

import dev.anneal.protocol.Checks;

/** One dataset of a stage's mixture, with its weight. */
public record MixtureEntry(String dataset, Double weight) {
  public MixtureEntry {
    Checks.text("dataset", dataset);
    weight = Checks.orDefault(weight, 1.0);
    if (!(weight > 0)) {
      throw new IllegalArgumentException("weight: must be > 0, got " + weight);
    }
  }
}
