package dev.anneal.runner.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Linear;
import dev.anneal.runner.data.RewardBatches;
import dev.anneal.runner.data.Sampler;
import dev.anneal.runner.model.Host;
import dev.anneal.runner.model.ModelShape;
import dev.anneal.runner.model.Params;
import dev.anneal.runner.model.Transformer;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The reward model: the decoder's final hidden state at the last token of a (prompt, response)
 * dialogue, through a scalar head {@code score.weight} ({@code [1, dModel]}, the name Hugging
 * Face's {@code LlamaForSequenceClassification} uses), is the reward. Rows come in pairs, chosen
 * then rejected; the loss is {@code -log sigmoid(r_chosen - r_rejected)}, averaged over pairs. The
 * batch's weights are one-hot at each row's last token, which picks that position's score.
 */
public final class RewardObjective implements Objective {

  public static final String HEAD = "score.weight";

  @Override
  public Map<String, NDArray> extraParams(ModelShape shape, NDManager m, long seed) {
    SplittableRandom rng = new SplittableRandom(seed ^ 0x5C0E);
    float[] w = new float[shape.dModel()];
    double std = 1.0 / Math.sqrt(shape.dModel());
    for (int i = 0; i < w.length; i++) w[i] = (float) (rng.nextGaussian() * std);
    return Map.of(HEAD, Host.floats(m, w, new Shape(1, shape.dModel())));
  }

  /** Per row, the reward: the head's score at the row's weighted (last) position. */
  public static NDArray rewards(
      Transformer model, Params p, NDArray tokens, NDArray mask, NDArray onehot) {
    NDArray h = model.hidden(p, tokens, mask);
    // h · head^T without a transposed copy of the head in the parameters' manager
    NDArray scores = Linear.linear(h, p.get(HEAD)).singletonOrThrow().squeeze(-1);
    return scores.mul(onehot).sum(new int[] {1});
  }

  @Override
  public NDArray loss(Transformer model, Params p, NDArray[] in) {
    NDArray r = rewards(model, p, in[0], in[3], in[2]);
    long pairs = r.getShape().get(0) / 2;
    NDArray byPair = r.reshape(pairs, 2);
    NDArray margin = byPair.get(new NDIndex(":, 0")).sub(byPair.get(new NDIndex(":, 1")));
    return Activation.softPlus(margin.neg()).mean();
  }

  /** Accuracy (chosen scored above rejected) and mean margin on every held-out pair. */
  public record Eval(double pairwiseAccuracy, double meanMargin, int pairs) {}

  public static Eval evaluate(
      Transformer model, Params p, NDManager parent, RewardBatches data, int seqLen) {
    int correct = 0;
    int total = 0;
    double margins = 0;
    for (Sampler.Batch b : data.heldOutBatches(32, seqLen)) {
      try (NDManager m = parent.newSubManager()) {
        int rows = b.rows();
        long[] x = new long[rows * seqLen];
        for (int r = 0; r < rows; r++) {
          System.arraycopy(b.tokens(), r * (seqLen + 1), x, r * seqLen, seqLen);
        }
        DataType dtype = p.get("model.embed_tokens.weight").getDataType();
        NDArray r =
            rewards(
                model,
                p,
                Host.longs(m, x, new Shape(rows, seqLen)),
                Transformer.mask(m, rows, seqLen, null, dtype),
                Host.floats(m, b.weights(), new Shape(rows, seqLen)).toType(dtype, false));
        float[] v = r.toType(DataType.FLOAT32, false).toFloatArray();
        for (int i = 0; i + 1 < v.length; i += 2) {
          if (v[i] > v[i + 1]) correct++;
          margins += v[i] - v[i + 1];
          total++;
        }
      }
    }
    return new Eval(
        total == 0 ? Double.NaN : (double) correct / total, margins / Math.max(1, total), total);
  }
}
