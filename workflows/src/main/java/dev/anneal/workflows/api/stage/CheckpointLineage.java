package dev.anneal.workflows.api.stage;

import java.util.ArrayList;
import java.util.List;

/**
 * Which of a stage's checkpoints are on its live branch. Every attempt starts from a checkpoint of
 * an earlier attempt (or from the start), so the attempts form a tree; the live branch runs from
 * the newest attempt back through the checkpoints it resumed from. After a rollback to step S, an
 * earlier attempt's checkpoints past S are off that branch — trained on the data the rollback
 * skipped — and a restart or a later rollback must never resume from them.
 *
 * <p>A checkpoint is live when it was written by an attempt on the branch, no later than the step
 * at which the branch leaves that attempt. Where the record is incomplete (an attempt or a
 * checkpoint whose attempt is unknown, as in histories recorded before lineage was kept), the
 * checkpoint counts as live: the old behaviour, never a checkpoint lost. Pure, so it runs in
 * workflow code and in the API alike.
 *
 * @param links one per attempt, in the order the attempts started
 */
public record CheckpointLineage(List<Link> links) {

  /**
   * Attempt {@code attempt} resumed from the checkpoint that attempt {@code fromAttempt} wrote at
   * {@code fromStep}; both null: from the stage's start. {@code fromAttempt} null with a step: the
   * attempt is not known (recorded before lineage was kept).
   */
  public record Link(int attempt, Integer fromAttempt, Long fromStep) {}

  public CheckpointLineage {
    links = links == null ? List.of() : List.copyOf(links);
  }

  public static CheckpointLineage none() {
    return new CheckpointLineage(List.of());
  }

  /** This lineage with attempt {@code attempt} started from the given checkpoint. */
  public CheckpointLineage then(int attempt, Integer fromAttempt, Long fromStep) {
    List<Link> next = new ArrayList<>(links.size() + 1);
    for (Link l : links) {
      if (l.attempt() != attempt) next.add(l);
    }
    next.add(new Link(attempt, fromStep == null ? null : fromAttempt, fromStep));
    return new CheckpointLineage(next);
  }

  public boolean isLive(CheckpointCandidate c) {
    return c.attempt() == null || isLive(c.attempt(), c.step());
  }

  /** Whether attempt {@code attempt}'s checkpoint at {@code step} is on the live branch. */
  public boolean isLive(int attempt, long step) {
    if (links.isEmpty()) return true;
    Link at = links.get(links.size() - 1);
    long bound = Long.MAX_VALUE;
    for (int hops = 0; hops <= links.size(); hops++) {
      if (at.attempt() == attempt) return step <= bound;
      if (at.fromStep() == null) return false; // the branch starts here, from the stage's start
      if (at.fromAttempt() == null) return true; // lineage unknown past this point
      bound = Math.min(bound, at.fromStep());
      Link parent = find(at.fromAttempt());
      if (parent == null) return true; // an attempt this record does not know
      at = parent;
    }
    return true; // a cycle cannot come from real attempts; keep the checkpoint rather than lose it
  }

  private Link find(int attempt) {
    for (Link l : links) {
      if (l.attempt() == attempt) return l;
    }
    return null;
  }
}
