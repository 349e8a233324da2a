package dev.anneal.runner.data;

import dev.anneal.runner.data.PreferenceData.Preference;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Reward-model batches: each preference pair gives two rows, the prompt and the chosen response,
 * then the prompt and the rejected one, both rendered through the chat template; the weights are
 * one-hot at each row's last token (the {@code <|end|>} closing the response), where the reward is
 * read. A rendering longer than the sequence loses the start of its prompt, never its end. A seeded
 * 10% of the pairs are held out for the pairwise accuracy.
 */
public final class RewardBatches implements ExampleBatches {

  private final List<int[][]> train = new ArrayList<>();
  private final List<int[][]> heldOut = new ArrayList<>();
  private final int pad;
  private final long seed;

  public RewardBatches(
      List<Preference> pairs, ChatTemplate template, int pad, long seed, double heldOutFraction) {
    if (pairs.size() < 2) {
      throw new IllegalArgumentException(
          "data: a reward stage needs at least 2 pairs, got " + pairs.size());
    }
    this.pad = pad;
    this.seed = seed;
    for (int i = 0; i < pairs.size(); i++) {
      Preference p = pairs.get(i);
      int[][] rendered = {template.ids(p.chosen()), template.ids(p.rejected())};
      boolean hold = SftBatches.heldOut(seed, i, heldOutFraction);
      (hold ? heldOut : train).add(rendered);
    }
    if (heldOut.isEmpty()) heldOut.add(train.remove(0));
    if (train.isEmpty()) train.add(heldOut.get(heldOut.size() - 1));
  }

  /** Pairs with a rendering longer than {@code seqLen} tokens (their prompts lose their start). */
  @Override
  public long longerThan(int seqLen) {
    return java.util.stream.Stream.concat(train.stream(), heldOut.stream())
        .filter(p -> p[0].length > seqLen || p[1].length > seqLen)
        .count();
  }

  @Override
  public Description description() {
    return new Description(
        "reward model", "pairs", train.size(), heldOut.size(), "their prompts lose their start");
  }

  @Override
  public Sampler.Batch batch(long step, long dataIndex, int rows, int seqLen) {
    if (rows % 2 != 0) {
      throw new IllegalArgumentException(
          "hyperparameters.batchSize: a reward stage needs an even number of rows per (micro)batch"
              + " (chosen and rejected), got "
              + rows);
    }
    List<int[][]> pool = dataIndex >= EVAL_DATA_INDEX ? heldOut : train;
    List<int[][]> picked = new ArrayList<>();
    for (int i = 0; i < rows / 2; i++) {
      SplittableRandom rng = new SplittableRandom(seed * 31 + dataIndex * 1_000_003L + i);
      picked.add(pool.get(rng.nextInt(pool.size())));
    }
    return rowsOf(picked, dataIndex, seqLen);
  }

  /** Every held-out pair, {@code pairsPerBatch} at a time. */
  public List<Sampler.Batch> heldOutBatches(int pairsPerBatch, int seqLen) {
    List<Sampler.Batch> out = new ArrayList<>();
    for (int from = 0; from < heldOut.size(); from += pairsPerBatch) {
      out.add(
          rowsOf(
              heldOut.subList(from, Math.min(heldOut.size(), from + pairsPerBatch)),
              EVAL_DATA_INDEX,
              seqLen));
    }
    return out;
  }

  private Sampler.Batch rowsOf(List<int[][]> pairs, long dataIndex, int seqLen) {
    int rows = pairs.size() * 2;
    int span = seqLen + 1;
    long[] tokens = new long[rows * span];
    float[] weights = new float[rows * seqLen];
    for (int i = 0; i < pairs.size(); i++) {
      for (int k = 0; k < 2; k++) {
        int r = 2 * i + k;
        int[] ids = pairs.get(i)[k];
        int n = Math.min(ids.length, seqLen);
        // too long: the start of the prompt goes, so the reward is still read at the response's end
        int skip = ids.length - n;
        for (int j = 0; j < span; j++) tokens[r * span + j] = j < n ? ids[skip + j] : pad;
        weights[r * seqLen + n - 1] = 1f; // the reward is read at the last token
      }
    }
    return new Sampler.Batch(dataIndex, tokens, rows, seqLen, new int[rows], weights);
  }
}
