package dev.anneal.workflows.api.stage;

import java.util.List;

/**
 * What a stage workflow hands to its next run when it continues as new (a long stage with many
 * attempts keeps its history short): the next attempt's plan and everything the decisions so far
 * depend on, the live branch of the stage's checkpoints included. A stage rebuilt after its
 * workflow was lost may also name the attempt to re-attach to ({@code reattach}: its job is still
 * running, or ended with a recorded exit code): then {@code next} is that attempt's own plan, and
 * it is followed instead of launched.
 */
public record StageCarry(
    AttemptPlan next,
    List<PastRollback> rollbacks,
    int restarts,
    List<String> decisions,
    List<String> badCheckpoints,
    CheckpointLineage lineage,
    PreparedAttempt reattach) {

  public StageCarry(
      AttemptPlan next,
      List<PastRollback> rollbacks,
      int restarts,
      List<String> decisions,
      List<String> badCheckpoints,
      CheckpointLineage lineage) {
    this(next, rollbacks, restarts, decisions, badCheckpoints, lineage, null);
  }

  public StageCarry {
    rollbacks = List.copyOf(rollbacks);
    decisions = List.copyOf(decisions);
    badCheckpoints = badCheckpoints == null ? List.of() : List.copyOf(badCheckpoints);
    // a carry from before lineage was kept: every checkpoint counts as live, as it did then
    lineage = lineage == null ? CheckpointLineage.none() : lineage;
  }
}
