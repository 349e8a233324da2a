package dev.anneal.runner.data;

import dev.anneal.runner.data.ChatTemplate.Message;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * SFT batches: dialogues rendered through the chat template, one a row, cut to the sequence length
 * or padded, with loss weights on the assistant's tokens only (pads and everyone else's tokens
 * weigh 0). A fixed, seeded share of the dialogues is held out: evaluation batches ({@link
 * #EVAL_DATA_INDEX} on) and the exact-match questions come from it, training batches never do.
 * Batches are a pure function of (seed, data index), as for pre-training.
 */
public final class SftBatches implements ExampleBatches {

  private final List<ChatTemplate.Rendered> train = new ArrayList<>();
  private final List<ChatTemplate.Rendered> eval = new ArrayList<>();
  private final List<List<Message>> heldOut = new ArrayList<>();
  private final int pad;
  private final long seed;
  private final boolean packing;

  /**
   * @param heldOutFraction share of dialogues kept for evaluation (at least one, and at least one
   *     left to train on)
   */
  public SftBatches(
      List<List<Message>> dialogues,
      ChatTemplate template,
      int pad,
      long seed,
      double heldOutFraction) {
    this(dialogues, template, pad, seed, heldOutFraction, false);
  }

  /**
   * @param packing fill each row with several dialogues, each attending only to itself (a dialogue
   *     longer than a row is cut, as without packing)
   */
  public SftBatches(
      List<List<Message>> dialogues,
      ChatTemplate template,
      int pad,
      long seed,
      double heldOutFraction,
      boolean packing) {
    this.packing = packing;
    if (dialogues.size() < 2) {
      throw new IllegalArgumentException(
          "data: SFT needs at least 2 dialogues, got " + dialogues.size());
    }
    this.pad = pad;
    this.seed = seed;
    for (int i = 0; i < dialogues.size(); i++) {
      List<Message> d = dialogues.get(i);
      if (heldOut(seed, i, heldOutFraction)) {
        heldOut.add(d);
        eval.addAll(template.examples(d));
      } else {
        train.addAll(template.examples(d));
      }
    }
    if (heldOut.isEmpty()) {
      heldOut.add(dialogues.get(0));
      eval.add(train.remove(0));
    }
    if (train.isEmpty()) {
      train.add(eval.get(eval.size() - 1));
    }
  }

  /** Whether item {@code i} is held out: a seeded draw, about {@code fraction} of the items. */
  public static boolean heldOut(long seed, int i, double fraction) {
    int every = (int) Math.max(2, Math.round(1 / Math.max(fraction, 1e-6)));
    return Math.floorMod(new SplittableRandom(seed ^ (i * 0x9E3779B97F4A7C15L)).nextInt(), every)
        == 0;
  }

  /** Dialogues whose rendering does not fit {@code seqLen + 1} tokens (their ends are cut). */
  @Override
  public long longerThan(int seqLen) {
    return java.util.stream.Stream.concat(train.stream(), eval.stream())
        .filter(d -> d.ids().length > seqLen + 1)
        .count();
  }

  @Override
  public Description description() {
    return new Description(
        "sft",
        "dialogues",
        train.size(),
        heldOut.size(),
        "their ends (past seqLen + 1 tokens) are cut and not learned");
  }

  /** The dialogues trained on, rendered: ids and which of them are learned (assistant turns). */
  public List<ChatTemplate.Rendered> training() {
    return List.copyOf(train);
  }

  /** The id rows are padded with. */
  public int pad() {
    return pad;
  }

  /** The held-out dialogues (the exact-match questions are their last assistant turns). */
  public List<List<Message>> heldOut() {
    return heldOut;
  }

  @Override
  public Sampler.Batch batch(long step, long dataIndex, int rows, int seqLen) {
    List<ChatTemplate.Rendered> pool = dataIndex >= EVAL_DATA_INDEX ? eval : train;
    if (packing) return packed(pool, dataIndex, rows, seqLen);
    int span = seqLen + 1;
    long[] tokens = new long[rows * span];
    float[] weights = new float[rows * seqLen];
    int[] sourceOfRow = new int[rows];
    for (int r = 0; r < rows; r++) {
      SplittableRandom rng = new SplittableRandom(seed * 31 + dataIndex * 1_000_003L + r);
      ChatTemplate.Rendered d = pool.get(rng.nextInt(pool.size()));
      int n = Math.min(d.ids().length, span);
      for (int i = 0; i < span; i++) tokens[r * span + i] = i < n ? d.ids()[i] : pad;
      for (int i = 0; i < seqLen; i++) {
        // target i is token i + 1
        weights[r * seqLen + i] = i + 1 < n && d.target()[i + 1] ? 1f : 0f;
      }
    }
    return new Sampler.Batch(dataIndex, tokens, rows, seqLen, sourceOfRow, weights);
  }

  /**
   * Rows filled with whole dialogues drawn in a seeded order until the next does not fit (the first
   * of a row is cut if longer than the row); each dialogue is its own segment, so it attends only
   * to itself, and a dialogue's last token does not predict the next one's first.
   */
  private Sampler.Batch packed(
      List<ChatTemplate.Rendered> pool, long dataIndex, int rows, int seqLen) {
    int span = seqLen + 1;
    long[] tokens = new long[rows * span];
    float[] weights = new float[rows * seqLen];
    int[] segments = new int[rows * seqLen];
    for (int r = 0; r < rows; r++) {
      SplittableRandom rng = new SplittableRandom(seed * 31 + dataIndex * 1_000_003L + r);
      int filled = 0;
      int seg = 0;
      while (filled < span) {
        ChatTemplate.Rendered d = pool.get(rng.nextInt(pool.size()));
        if (filled > 0 && filled + d.ids().length > span) break;
        int n = Math.min(d.ids().length, span - filled);
        for (int k = 0; k < n; k++) {
          tokens[r * span + filled + k] = d.ids()[k];
          if (filled + k < seqLen) {
            segments[r * seqLen + filled + k] = seg;
            weights[r * seqLen + filled + k] = k + 1 < n && d.target()[k + 1] ? 1f : 0f;
          }
        }
        filled += n;
        seg++;
      }
      for (int i = filled; i < span; i++) {
        tokens[r * span + i] = pad;
        if (i < seqLen) segments[r * seqLen + i] = seg;
      }
    }
    return new Sampler.Batch(dataIndex, tokens, rows, seqLen, new int[rows], weights, segments);
  }
}
