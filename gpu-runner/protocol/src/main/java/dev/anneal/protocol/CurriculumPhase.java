package dev.anneal.protocol;

import java.util.Map;

/** From {@code fromStep} on, the mixture uses these weights (datasets not named get 0). */
public record CurriculumPhase(Long fromStep, Map<String, Double> weights) {
  public CurriculumPhase {
    Checks.nonNegative("fromStep", Checks.present("fromStep", fromStep));
    weights = Map.copyOf(Checks.present("weights", weights));
    if (weights.values().stream().anyMatch(w -> !(w >= 0))) {
      throw new IllegalArgumentException("weights: must all be >= 0");
    }
    if (weights.values().stream().mapToDouble(Double::doubleValue).sum() <= 0) {
      throw new IllegalArgumentException("weights: at least one must be > 0");
    }
  }
}
