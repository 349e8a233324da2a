package dev.anneal.runner.rlhf;

/**
 * Per-token rewards — the KL penalty {@code -klCoef * (log pi - log ref)} at every action, the
 * reward model's shaped score added at the last — through generalised advantage estimation, with
 * the advantages whitened over the batch's actions.
 */
final class Advantages {
  private Advantages() {}

  /** Whitened advantages and returns, each {@code [B * t]} (zero off the actions). */
  record Estimate(float[] advantages, float[] returns) {}

  static Estimate of(
      Rollout r,
      float[] old,
      float[] ref,
      float[] values,
      float[] scores,
      double klCoef,
      double gamma,
      double lambda) {
    float[] adv = new float[old.length];
    float[] ret = new float[old.length];
    for (int i = 0; i < r.rows(); i++) {
      int first = r.promptLength()[i] - 1;
      int n = r.responseLength()[i];
      double[] rewards = new double[n];
      double[] v = new double[n];
      for (int j = 0; j < n; j++) {
        int k = i * r.t() + first + j;
        rewards[j] = -klCoef * (old[k] - ref[k]);
        v[j] = values[k];
      }
      rewards[n - 1] += scores[i];
      double[][] g = gae(rewards, v, gamma, lambda);
      for (int j = 0; j < n; j++) {
        adv[i * r.t() + first + j] = (float) g[0][j];
        ret[i * r.t() + first + j] = (float) g[1][j];
      }
    }
    double mean = 0;
    double n = 0;
    for (int k = 0; k < adv.length; k++) {
      if (r.mask()[k] > 0) {
        mean += adv[k];
        n++;
      }
    }
    mean /= Math.max(1, n);
    double var = 0;
    for (int k = 0; k < adv.length; k++) {
      if (r.mask()[k] > 0) var += (adv[k] - mean) * (adv[k] - mean);
    }
    double std = Math.sqrt(var / Math.max(1, n - 1));
    for (int k = 0; k < adv.length; k++) {
      adv[k] = r.mask()[k] > 0 ? (float) ((adv[k] - mean) / (std + 1e-8)) : 0f;
    }
    return new Estimate(adv, ret);
  }

  /**
   * Generalised advantage estimation over one response: {advantages, returns} from per-token
   * rewards and the critic's values (the value after the last token is 0).
   */
  static double[][] gae(double[] rewards, double[] values, double gamma, double lambda) {
    int n = rewards.length;
    double[] adv = new double[n];
    double[] ret = new double[n];
    double running = 0;
    for (int j = n - 1; j >= 0; j--) {
      double next = j + 1 < n ? values[j + 1] : 0;
      double delta = rewards[j] + gamma * next - values[j];
      running = delta + gamma * lambda * running;
      adv[j] = running;
      ret[j] = running + values[j];
    }
    return new double[][] {adv, ret};
  }

  /** The mean of {@code v} over the positions the mask selects (0 when it selects none). */
  static double maskedMean(float[] v, float[] mask) {
    double sum = 0;
    double n = 0;
    for (int i = 0; i < v.length; i++) {
      sum += v[i] * mask[i];
      n += mask[i];
    }
    return n == 0 ? 0 : sum / n;
  }

  /** The standard deviation of {@code v} over the positions the mask selects. */
  static double maskedStd(float[] v, float[] mask) {
    double s = 0;
    double s2 = 0;
    int n = 0;
    for (int i = 0; i < v.length; i++) {
      if (mask[i] > 0) {
        s += v[i];
        s2 += v[i] * v[i];
        n++;
      }
    }
    if (n == 0) return 0;
    double mu = s / n;
    return Math.sqrt(Math.max(0, s2 / n - mu * mu));
  }

  static double mean(float[] v) {
    double s = 0;
    for (float x : v) s += x;
    return v.length == 0 ? Double.NaN : s / v.length;
  }
}
