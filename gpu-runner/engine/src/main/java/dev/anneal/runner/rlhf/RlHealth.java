package dev.anneal.runner.rlhf;

import dev.anneal.protocol.RlConfig;
import dev.anneal.protocol.RunnerEvent.InstabilityKind;
import dev.anneal.protocol.StabilityConfig;
import dev.anneal.runner.data.Sampler;
import dev.anneal.runner.stability.InstabilityDetector;
import java.util.Optional;

/**
 * RL health: the ways a PPO run goes wrong that a loss curve does not show — KL blow-up, length
 * collapse and reward collapse judged on every step's rollouts, reward hacking on the held-out
 * evaluations (reward up while exact match falls from the starting policy's). Each ends the attempt
 * with an instability, as a loss spike does, so the platform rolls back.
 */
final class RlHealth {
  private final RlConfig rl;
  private final StabilityConfig stability;
  private final InstabilityDetector detector;
  private double firstLength = Double.NaN;
  private int shortInARow;
  private double baselineReward = Double.NaN;
  private double baselineAccuracy = Double.NaN;

  RlHealth(RlConfig rl, StabilityConfig st) {
    this.rl = rl;
    this.stability = st;
    // reward collapse is judged on the reward's shortfall by standard deviations only: a ratio
    // test on a shortfall near zero would fire on ordinary batch-to-batch noise
    this.detector =
        new InstabilityDetector(
            new StabilityConfig(
                st.spikeZ(),
                Double.MAX_VALUE,
                st.spikeConsecutive(),
                st.spikeWindow(),
                st.gradNormLimit(),
                st.ignoreFirstSteps(),
                st.lrFactor(),
                st.skipWindows()));
  }

  boolean hasBaseline() {
    return !Double.isNaN(baselineReward);
  }

  /** The starting policy's held-out reward and exact match. */
  void baseline(double reward, double accuracy) {
    baselineReward = reward;
    baselineAccuracy = accuracy;
  }

  /** What the judgements so far depend on, for checkpoints. */
  record State(
      double firstLength, int shortInARow, double baselineReward, double baselineAccuracy) {}

  State state() {
    return new State(firstLength, shortInARow, baselineReward, baselineAccuracy);
  }

  void restore(State s) {
    firstLength = s.firstLength();
    shortInARow = s.shortInARow();
    baselineReward = s.baselineReward();
    baselineAccuracy = s.baselineAccuracy();
  }

  InstabilityDetector detector() {
    return detector;
  }

  /** KL blow-up, length collapse and reward collapse, judged on this step's rollouts. */
  Optional<InstabilityDetector.Trigger> observe(
      long s, long dataIndex, double meanScore, double klMean, double meanLength) {
    if (Double.isNaN(firstLength)) firstLength = meanLength;
    if (!Double.isFinite(klMean) || klMean > rl.klLimit()) {
      return Optional.of(
          trigger(
              InstabilityKind.KL_BLOWUP,
              s,
              klMean,
              rl.klLimit(),
              dataIndex,
              String.format(
                  "KL to the reference %.4g nats per response above the limit %.4g at step %d",
                  klMean, rl.klLimit(), s)));
    }
    if (meanLength < rl.minLengthRatio() * firstLength) {
      shortInARow++;
      if (shortInARow >= stability.spikeConsecutive()) {
        return Optional.of(
            trigger(
                InstabilityKind.LENGTH_COLLAPSE,
                s,
                meanLength,
                rl.minLengthRatio() * firstLength,
                dataIndex - shortInARow + 1,
                String.format(
                    "responses collapsed to %.2f tokens (%.2f at the start) for %d steps ending"
                        + " at step %d",
                    meanLength, firstLength, shortInARow, s)));
      }
    } else {
      shortInARow = 0;
    }
    // reward collapse: the shortfall from the best possible (clipped) score, plus one so that a
    // ratio means something near the top, spiking as a loss does
    double top = rl.rewardClip() + 1;
    double shortfall = top - Math.max(-rl.rewardClip(), Math.min(rl.rewardClip(), meanScore));
    Optional<InstabilityDetector.Trigger> t = detector.observe(s, dataIndex, shortfall, 0);
    return t.map(
        x ->
            x.kind() == InstabilityKind.LOSS_SPIKE
                ? new InstabilityDetector.Trigger(
                    InstabilityKind.REWARD_COLLAPSE,
                    x.step(),
                    top - x.value(),
                    top - x.threshold(),
                    x.firstBatch(),
                    x.lastBatch(),
                    String.format(
                        "reward collapse: mean reward %.4g below %.4g for %d steps ending at step"
                            + " %d",
                        top - x.value(),
                        top - x.threshold(),
                        stability.spikeConsecutive(),
                        x.step()))
                : x);
  }

  /** Reward hacking: the held-out reward rose above the start while exact match fell. */
  Optional<InstabilityDetector.Trigger> hacking(long s, PolicyFigures e) {
    boolean hacked =
        e.meanReward() > baselineReward && e.exactMatch() < baselineAccuracy - rl.hackingDrop();
    if (!hacked) return Optional.empty();
    return Optional.of(
        trigger(
            InstabilityKind.REWARD_HACKING,
            s,
            e.exactMatch(),
            baselineAccuracy - rl.hackingDrop(),
            Sampler.dataBatchIndex(Math.max(0, s + 1 - rl.evalEvery()), stability.skipWindows()),
            String.format(
                "reward hacking: held-out reward rose to %.3f (from %.3f) while exact match"
                    + " fell to %.3f (from %.3f) by step %d",
                e.meanReward(), baselineReward, e.exactMatch(), baselineAccuracy, s)));
  }

  /** A trigger at step {@code s} whose suspects run from {@code batch} to the step's batch. */
  InstabilityDetector.Trigger trigger(
      InstabilityKind kind, long s, double value, double threshold, long batch, String message) {
    return new InstabilityDetector.Trigger(
        kind,
        s,
        value,
        threshold,
        batch,
        Sampler.dataBatchIndex(s, stability.skipWindows()),
        message);
  }
}
