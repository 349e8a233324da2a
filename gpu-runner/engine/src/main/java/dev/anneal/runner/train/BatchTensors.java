package dev.anneal.runner.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.anneal.runner.data.Sampler;
import dev.anneal.runner.model.Host;
import dev.anneal.runner.model.Transformer;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * A sampled batch as an {@link Objective} reads it: {@code {inputs, targets, weights, mask}} for a
 * slice of its rows (one micro-batch of gradient accumulation). The mask is causal, per packed
 * document when the batch carries segments, or prefix-LM with a seeded prefix length per row; the
 * weights are the batch's own (SFT's response tokens, a reward pair's last tokens), or 1 on every
 * target past a prefix.
 */
record BatchTensors(boolean prefixLm, long seed, MixedPrecision precision) {

  /** Inputs, targets, loss weights and mask for rows [from, from + n) of a batch. */
  NDArray[] of(NDManager m, Sampler.Batch batch, int from, int n, int seqLen) {
    long[] x = new long[n * seqLen];
    long[] y = new long[n * seqLen];
    float[] w = new float[n * seqLen];
    int[] prefix = prefixLm ? new int[n] : null;
    int span = seqLen + 1;
    for (int r = 0; r < n; r++) {
      int row = from + r;
      if (prefix != null) {
        prefix[r] =
            1
                + new SplittableRandom(seed ^ (batch.dataIndex() * 31 + row))
                    .nextInt(Math.max(1, seqLen / 2));
      }
      for (int i = 0; i < seqLen; i++) {
        x[r * seqLen + i] = batch.tokens()[row * span + i];
        y[r * seqLen + i] = batch.tokens()[row * span + i + 1];
        w[r * seqLen + i] =
            batch.weights() != null
                ? batch.weights()[row * seqLen + i]
                : prefix == null || i >= prefix[r] - 1 ? 1f : 0f;
      }
    }
    Shape s = new Shape(n, seqLen);
    NDArray mask;
    if (batch.segments() != null) {
      int[] seg = Arrays.copyOfRange(batch.segments(), from * seqLen, (from + n) * seqLen);
      mask = Transformer.segmentMask(m, n, seqLen, seg, precision.computeType());
    } else {
      mask = Transformer.mask(m, n, seqLen, prefix, precision.computeType());
    }
    NDArray weights = precision.cast(Host.floats(m, w, s));
    return new NDArray[] {Host.longs(m, x, s), Host.longs(m, y, s), weights, mask};
  }
}
