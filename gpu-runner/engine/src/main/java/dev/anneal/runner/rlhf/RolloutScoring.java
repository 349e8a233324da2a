package dev.anneal.runner.rlhf;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import dev.anneal.runner.model.Host;
import dev.anneal.runner.model.Params;
import dev.anneal.runner.model.Transformer;
import dev.anneal.runner.train.RewardObjective;

/**
 * What the four roles make of a rollout: the policy's and the reference's log-probabilities of the
 * tokens taken (and the policy's entropy), the critic's values, the reward model's scores.
 */
record RolloutScoring(Transformer model) {

  /** The old policy's view of a rollout, {@code [B * t]} each. */
  record PolicyScores(float[] logProbs, float[] entropy) {}

  private NDArray logits(Params p, NDManager m, Rollout r) {
    Shape s = new Shape(r.rows(), r.t());
    return model.logits(
        p,
        Host.longs(m, r.inputs(), s),
        Transformer.mask(m, r.rows(), r.t(), null, DataType.FLOAT32));
  }

  /** Per-position log-probability of the next token {@code [B, t]} (in the graph if p is). */
  NDArray logProbs(Params p, NDManager m, Rollout r) {
    NDArray y = Host.longs(m, r.targets(), new Shape(r.rows(), r.t()));
    return logits(p, m, r).logSoftmax(-1).gather(y.expandDims(-1), -1).squeeze(-1);
  }

  /**
   * The old policy's scores, without autograd: the log-probability of the token taken and the
   * entropy of the distribution it was drawn from. A policy whose entropy collapses has stopped
   * exploring.
   */
  PolicyScores policy(Params p, NDManager m, Rollout r) {
    NDArray ls = logits(p, m, r).logSoftmax(-1);
    NDArray y = Host.longs(m, r.targets(), new Shape(r.rows(), r.t()));
    float[] lp = ls.gather(y.expandDims(-1), -1).squeeze(-1).toFloatArray();
    float[] entropy = ls.exp().mul(ls).sum(new int[] {-1}).neg().toFloatArray();
    return new PolicyScores(lp, entropy);
  }

  /** The critic's value of every position's state {@code [B, t]}. */
  NDArray values(Params critic, NDManager m, Rollout r) {
    Shape s = new Shape(r.rows(), r.t());
    NDArray h =
        model.hidden(
            critic,
            Host.longs(m, r.inputs(), s),
            Transformer.mask(m, r.rows(), r.t(), null, DataType.FLOAT32));
    return Linear.linear(h, critic.get(RewardObjective.HEAD)).singletonOrThrow().squeeze(-1);
  }

  /** The reward model's score of each whole row, read at its last real token. */
  float[] rewards(Params rewardModel, NDManager m, Rollout r) {
    int full = r.t() + 1;
    long[] seq = new long[r.rows() * full];
    float[] onehot = new float[r.rows() * full];
    for (int i = 0; i < r.rows(); i++) {
      System.arraycopy(r.inputs(), i * r.t(), seq, i * full, r.t());
      seq[i * full + r.t()] = r.targets()[i * r.t() + r.t() - 1];
      onehot[i * full + r.lastToken(i)] = 1f;
    }
    Shape s = new Shape(r.rows(), full);
    return RewardObjective.rewards(
            model,
            rewardModel,
            Host.longs(m, seq, s),
            Transformer.mask(m, r.rows(), full, null, DataType.FLOAT32),
            Host.floats(m, onehot, s))
        .toFloatArray();
  }
}
