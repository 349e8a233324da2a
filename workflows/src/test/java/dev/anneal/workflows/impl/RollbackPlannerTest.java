package dev.anneal.workflows.impl;

import static org.assertj.core.api.Assertions.assertThat;

import dev.anneal.protocol.StabilityConfig.BatchWindow;
import dev.anneal.workflows.api.StabilityPolicy;
import dev.anneal.workflows.api.stage.CheckpointCandidate;
import dev.anneal.workflows.api.stage.PastRollback;
import dev.anneal.workflows.impl.RollbackPlanner.Anomaly;
import dev.anneal.workflows.impl.RollbackPlanner.Decision;
import java.util.List;
import org.junit.jupiter.api.Test;

class RollbackPlannerTest {

  private static final StabilityPolicy POLICY = new StabilityPolicy(100, 200, 0.5, 3, 3);

  private static CheckpointCandidate ckpt(long step, boolean healthy) {
    return new CheckpointCandidate(step, step, "k/step-" + step + "/manifest.json", healthy, 1);
  }

  private static final List<CheckpointCandidate> CHECKPOINTS =
      List.of(ckpt(100, true), ckpt(200, true), ckpt(300, false), ckpt(400, true), ckpt(500, true));

  @Test
  void resumesFromNewestHealthyCheckpointAtLeastRollbackStepsBeforeTheSpike() {
    Decision d =
        RollbackPlanner.plan(
            new Anomaly(420, 418, 420, "loss spike"), CHECKPOINTS, List.of(), POLICY);
    assertThat(d.plan()).isPresent();
    RollbackPlanner.Plan p = d.plan().get();
    // 420 - 100 = 320: step 300 is unhealthy, so 200 is the newest eligible
    assertThat(p.resumeFrom()).map(CheckpointCandidate::step).contains(200L);
    assertThat(p.newWindow()).isEqualTo(new BatchWindow(200L, 421L));
    assertThat(p.lrFactor()).isEqualTo(0.5);
    assertThat(p.repeat()).isZero();
    assertThat(p.explanation())
        .isEqualTo(
            "loss spike at step 420: resume from the healthy checkpoint at step 200,"
                + " skip data batches 200-420, learning rate x0.500");
  }

  @Test
  void windowIsAtLeastSkipBatchesWide() {
    Decision d =
        RollbackPlanner.plan(
            new Anomaly(520, 519, 519, "NaN loss"), CHECKPOINTS, List.of(), POLICY);
    RollbackPlanner.Plan p = d.plan().orElseThrow();
    assertThat(p.resumeFrom()).map(CheckpointCandidate::step).contains(400L);
    assertThat(p.newWindow()).isEqualTo(new BatchWindow(400L, 600L));
  }

  @Test
  void withoutAnEligibleCheckpointItRestartsFromTheBeginning() {
    Decision d =
        RollbackPlanner.plan(
            new Anomaly(150, 149, 150, "loss spike"), CHECKPOINTS, List.of(), POLICY);
    RollbackPlanner.Plan p = d.plan().orElseThrow();
    assertThat(p.resumeFrom()).isEmpty();
    assertThat(p.newWindow().fromBatch()).isZero();
    assertThat(p.explanation()).contains("resume from the start");
  }

  @Test
  void aRepeatedSpikeAtTheSamePlaceWidensTheWindowAndCompoundsTheLrFactor() {
    PastRollback first = new PastRollback(420, new BatchWindow(200L, 421L), 0.5);
    Decision d =
        RollbackPlanner.plan(
            new Anomaly(470, 450, 452, "loss spike"), CHECKPOINTS, List.of(first), POLICY);
    RollbackPlanner.Plan p = d.plan().orElseThrow();
    assertThat(p.repeat()).isEqualTo(1);
    assertThat(p.lrFactor()).isEqualTo(0.25);
    // resume at 200 again (470-100=370 -> 200), window 2 x 200 = 400 batches
    assertThat(p.newWindow()).isEqualTo(new BatchWindow(200L, 600L));
    assertThat(p.skipWindows()).containsExactly(first.window(), p.newWindow());
  }

  @Test
  void aSpikeElsewhereIsNotARepeat() {
    PastRollback first = new PastRollback(120, new BatchWindow(0L, 200L), 0.5);
    Decision d =
        RollbackPlanner.plan(
            new Anomaly(900, 899, 900, "loss spike"), CHECKPOINTS, List.of(first), POLICY);
    assertThat(d.plan().orElseThrow().repeat()).isZero();
  }

  @Test
  void exhaustedBudgetFailsWithAnActionableReason() {
    List<PastRollback> history =
        List.of(
            new PastRollback(10, new BatchWindow(0L, 200L), 1),
            new PastRollback(20, new BatchWindow(0L, 400L), 1),
            new PastRollback(30, new BatchWindow(0L, 800L), 1));
    Decision d =
        RollbackPlanner.plan(
            new Anomaly(40, 39, 40, "gradient explosion"), CHECKPOINTS, history, POLICY);
    assertThat(d.plan()).isEmpty();
    assertThat(d.failureReason())
        .contains("4 times")
        .contains("gradient explosion at step 40")
        .contains("maxRollbacks=3")
        .contains("lower the learning rate");
  }
}
