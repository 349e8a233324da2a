package dev.anneal.runner.data;

import dev.anneal.protocol.CurriculumPhase;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Mixture weights by step: the base weights, replaced by each phase from its first step on. */
public final class Curriculum {
  private final Map<String, Double> base;
  private final List<CurriculumPhase> phases;

  public Curriculum(Map<String, Double> base, List<CurriculumPhase> phases) {
    this.base = new LinkedHashMap<>(base);
    this.phases =
        phases.stream().sorted(Comparator.comparingLong(CurriculumPhase::fromStep)).toList();
    for (CurriculumPhase p : phases) {
      for (String name : p.weights().keySet()) {
        if (!base.containsKey(name)) {
          throw new IllegalArgumentException(
              "curriculum: phase from step "
                  + p.fromStep()
                  + " names dataset '"
                  + name
                  + "', which is not among the datasets "
                  + base.keySet());
        }
      }
    }
  }

  public Map<String, Double> weightsAt(long step) {
    Map<String, Double> w = base;
    for (CurriculumPhase p : phases) {
      if (step >= p.fromStep()) {
        Map<String, Double> next = new LinkedHashMap<>();
        for (String name : base.keySet()) next.put(name, p.weights().getOrDefault(name, 0.0));
        w = next;
      }
    }
    return w;
  }
}
