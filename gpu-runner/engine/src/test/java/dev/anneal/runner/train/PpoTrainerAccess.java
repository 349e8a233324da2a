package dev.anneal.runner.train;

import java.util.List;

/** The package-private pieces of {@link PpoTrainer} that tests check directly. */
public final class PpoTrainerAccess {
  private PpoTrainerAccess() {}

  public record Layout(int t, float[] mask, long[] targets) {}

  public static double[][] gae(double[] rewards, double[] values, double gamma, double lambda) {
    return PpoTrainer.gae(rewards, values, gamma, lambda);
  }

  public static double nextKlCoef(double coef, double kl, double target, long horizon, int n) {
    return PpoTrainer.nextKlCoef(coef, kl, target, horizon, n);
  }

  public static Layout layout(List<int[]> prompts, List<int[]> responses) {
    PpoTrainer.Rollout r = PpoTrainer.rollout(prompts, responses, 0);
    return new Layout(r.t(), r.mask(), r.targets());
  }
}
