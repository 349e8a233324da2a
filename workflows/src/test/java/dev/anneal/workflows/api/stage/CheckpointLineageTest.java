package dev.anneal.workflows.api.stage;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class CheckpointLineageTest {

  /** attempt 1 → rollback to 300 (attempt 2) → restart from 400 of attempt 2 (attempt 3). */
  private static final CheckpointLineage TREE =
      CheckpointLineage.none().then(1, null, null).then(2, 1, 300L).then(3, 2, 400L);

  @Test
  void theLiveBranchRunsBackThroughTheCheckpointsEachAttemptResumedFrom() {
    assertThat(TREE.isLive(3, 900)).isTrue();
    assertThat(TREE.isLive(2, 400)).isTrue();
    assertThat(TREE.isLive(2, 500)).as("attempt 2 past where attempt 3 left it").isFalse();
    assertThat(TREE.isLive(1, 300)).isTrue();
    assertThat(TREE.isLive(1, 100)).isTrue();
    assertThat(TREE.isLive(1, 400)).as("the branch the rollback abandoned").isFalse();
  }

  @Test
  void aRollbackBehindABranchPointCutsEveryLaterAttemptOff() {
    CheckpointLineage back = TREE.then(4, 1, 200L);
    assertThat(back.isLive(1, 200)).isTrue();
    assertThat(back.isLive(1, 300)).isFalse();
    assertThat(back.isLive(2, 400)).isFalse();
    assertThat(back.isLive(3, 900)).isFalse();
    assertThat(back.isLive(4, 250)).isTrue();
  }

  @Test
  void aStartFromScratchLeavesNothingOfTheEarlierAttempts() {
    CheckpointLineage fresh = TREE.then(4, null, null);
    assertThat(fresh.isLive(1, 100)).isFalse();
    assertThat(fresh.isLive(4, 100)).isTrue();
  }

  @Test
  void whatIsNotKnownCountsAsLiveAsItDidBeforeLineageWasKept() {
    assertThat(CheckpointLineage.none().isLive(1, 400)).isTrue();
    CheckpointLineage unknownParent = CheckpointLineage.none().then(2, null, 300L);
    assertThat(unknownParent.isLive(1, 400)).isTrue();
    assertThat(
            TREE.isLive(
                new CheckpointCandidate(400, 400, "k/step-00000400/manifest.json", true, null)))
        .isTrue();
    CheckpointLineage missing = CheckpointLineage.none().then(5, 4, 300L);
    assertThat(missing.isLive(1, 400)).as("an attempt the record lacks").isTrue();
  }

  @Test
  void aRepeatedAttemptNumberReplacesItsLink() {
    CheckpointLineage again = TREE.then(3, 1, 100L);
    assertThat(again.links()).hasSize(3);
    assertThat(again.isLive(1, 200)).isFalse();
  }
}
