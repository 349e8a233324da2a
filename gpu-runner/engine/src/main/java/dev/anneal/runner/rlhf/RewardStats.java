package dev.anneal.runner.rlhf;

/**
 * The reward model's scores as PPO uses them: clipped to {@code ±clip}, and, if asked, whitened by
 * running statistics of every score seen (Welford's mean and variance, checkpointed so that a
 * resumed run whitens as the original did).
 */
final class RewardStats {
  private final boolean normalize;
  private final double clip;
  private long count;
  private double mean;
  private double m2;

  RewardStats(boolean normalize, double clip) {
    this.normalize = normalize;
    this.clip = clip;
  }

  /** Counts the scores in, then returns them shaped. */
  float[] shape(float[] raw) {
    float[] out = new float[raw.length];
    for (float x : raw) {
      count++;
      double delta = x - mean;
      mean += delta / count;
      m2 += delta * (x - mean);
    }
    double std = count > 1 ? Math.sqrt(m2 / (count - 1)) : 1;
    for (int i = 0; i < raw.length; i++) {
      double v = normalize ? (raw[i] - mean) / (std + 1e-8) : raw[i];
      out[i] = (float) Math.max(-clip, Math.min(clip, v));
    }
    return out;
  }

  /** The running statistics, for checkpoints. */
  record State(long count, double mean, double m2) {}

  State state() {
    return new State(count, mean, m2);
  }

  void restore(State s) {
    count = s.count();
    mean = s.mean();
    m2 = s.m2();
  }
}
