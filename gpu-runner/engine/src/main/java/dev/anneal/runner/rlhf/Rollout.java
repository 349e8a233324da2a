package dev.anneal.runner.rlhf;

import java.util.Arrays;
import java.util.List;

/**
 * A batch of prompt + response rows, right-padded, in the frame of next-token prediction: position
 * {@code j} of a row predicts token {@code j + 1}, and it is an action (mask 1) when that token is
 * the response's.
 */
record Rollout(
    int rows,
    int t,
    long[] inputs,
    long[] targets,
    float[] mask,
    int[] promptLength,
    int[] responseLength) {

  /** Index in the full sequence of row r's last real token. */
  int lastToken(int r) {
    return promptLength[r] + responseLength[r] - 1;
  }

  double meanResponseLength() {
    return Arrays.stream(responseLength).average().orElse(Double.NaN);
  }

  static Rollout of(List<int[]> promptIds, List<int[]> responses, int pad) {
    int b = promptIds.size();
    int[] pl = new int[b];
    int[] rlen = new int[b];
    int full = 0;
    for (int r = 0; r < b; r++) {
      pl[r] = promptIds.get(r).length;
      rlen[r] = responses.get(r).length;
      full = Math.max(full, pl[r] + rlen[r]);
    }
    int t = full - 1;
    long[] x = new long[b * t];
    long[] y = new long[b * t];
    float[] mask = new float[b * t];
    for (int r = 0; r < b; r++) {
      int[] seq = new int[full];
      Arrays.fill(seq, pad);
      System.arraycopy(promptIds.get(r), 0, seq, 0, pl[r]);
      System.arraycopy(responses.get(r), 0, seq, pl[r], rlen[r]);
      for (int j = 0; j < t; j++) {
        x[r * t + j] = seq[j];
        y[r * t + j] = seq[j + 1];
        mask[r * t + j] = j + 1 >= pl[r] && j + 1 < pl[r] + rlen[r] ? 1f : 0f;
      }
    }
    return new Rollout(b, t, x, y, mask, pl, rlen);
  }
}
