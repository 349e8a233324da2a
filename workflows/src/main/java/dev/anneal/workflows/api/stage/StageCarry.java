package dev.anneal.workflows.api.stage;

import java.util.List;

/**
 * What a stage workflow hands to its next run when it continues as new (a long stage with many
 * attempts keeps its history short): the next attempt's plan and everything the decisions so far
 * depend on.
 */
public record StageCarry(
    AttemptPlan next,
    List<PastRollback> rollbacks,
    int restarts,
    List<String> decisions,
    List<String> badCheckpoints) {
  public StageCarry {
    rollbacks = List.copyOf(rollbacks);
    decisions = List.copyOf(decisions);
    badCheckpoints = badCheckpoints == null ? List.of() : List.copyOf(badCheckpoints);
  }
}
