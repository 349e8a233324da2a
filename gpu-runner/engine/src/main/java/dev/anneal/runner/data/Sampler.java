package dev.anneal.runner.data;

import dev.anneal.protocol.StabilityConfig;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Draws training windows from a weighted mixture of token streams. The batch for a given data batch
 * index is a pure function of (seed, batch index, step's mixture weights): any batch can be
 * recomputed, which exact resume and rollback rely on. Skip windows map training steps onto later
 * data: step s reads data batch {@link #dataBatchIndex}.
 */
public final class Sampler implements BatchSource {

  /** A token stream: documents joined by an end-of-text token, in memory or memory-mapped. */
  public interface Tokens {
    long length();

    int get(long i);

    static Tokens of(int[] ids) {
      return new Tokens() {
        @Override
        public long length() {
          return ids.length;
        }

        @Override
        public int get(long i) {
          return ids[(int) i];
        }
      };
    }

    /** A token set's shards, read where they are mapped (nothing copied to the heap). */
    static Tokens of(TokenShards shards) {
      return new Tokens() {
        @Override
        public long length() {
          return shards.tokens();
        }

        @Override
        public int get(long i) {
          return shards.get(i);
        }
      };
    }
  }

  /** One source: its token stream and its name. */
  public record Source(String name, Tokens tokens) {
    public Source {
      if (tokens.length() < 2) {
        throw new IllegalArgumentException("source " + name + " has fewer than two tokens");
      }
    }

    public Source(String name, int[] tokens) {
      this(name, Tokens.of(tokens));
    }
  }

  /** Rows of {@code seqLen + 1} tokens (inputs and shifted targets) and each row's source. */
  /**
   * {@code rows} sequences of {@code seqLen + 1} tokens (inputs and shifted targets). {@code
   * weights}, when not null, says per target ({@code rows * seqLen}) whether it counts in the loss
   * (SFT: assistant tokens only); null means every target counts (pre-training). {@code segments},
   * when not null, gives every input position ({@code rows * seqLen}) the id of the sample it
   * belongs to in a packed row: a position attends only to earlier positions of its own sample.
   */
  public record Batch(
      long dataIndex,
      long[] tokens,
      int rows,
      int seqLen,
      int[] sourceOfRow,
      float[] weights,
      int[] segments) {
    public Batch(long dataIndex, long[] tokens, int rows, int seqLen, int[] sourceOfRow) {
      this(dataIndex, tokens, rows, seqLen, sourceOfRow, null, null);
    }

    public Batch(
        long dataIndex, long[] tokens, int rows, int seqLen, int[] sourceOfRow, float[] weights) {
      this(dataIndex, tokens, rows, seqLen, sourceOfRow, weights, null);
    }
  }

  private final List<Source> sources;
  private final Curriculum curriculum;
  private final long seed;

  public Sampler(List<Source> sources, Curriculum curriculum, long seed) {
    this.sources = List.copyOf(sources);
    this.curriculum = curriculum;
    this.seed = seed;
  }

  public List<Source> sources() {
    return sources;
  }

  /**
   * The data batch index a training step reads: step s normally reads batch s; batches inside a
   * skip window are passed over, so the steps from the window on read later data.
   */
  public static long dataBatchIndex(long step, List<StabilityConfig.BatchWindow> windows) {
    List<StabilityConfig.BatchWindow> sorted =
        windows.stream()
            .sorted(java.util.Comparator.comparingLong(StabilityConfig.BatchWindow::fromBatch))
            .toList();
    long index = step;
    long mergedTo = Long.MIN_VALUE;
    for (StabilityConfig.BatchWindow w : sorted) {
      long from = Math.max(w.fromBatch(), mergedTo);
      if (w.toBatch() <= from) continue; // inside a window already counted
      if (from > index) break;
      index += w.toBatch() - from;
      mergedTo = w.toBatch();
    }
    return index;
  }

  @Override
  public Batch batch(long step, long dataIndex, int rows, int seqLen) {
    Map<String, Double> weights = curriculum.weightsAt(step);
    double[] cumulative = new double[sources.size()];
    double total = 0;
    for (int i = 0; i < sources.size(); i++) {
      total += weights.getOrDefault(sources.get(i).name(), 0.0);
      cumulative[i] = total;
    }
    if (!(total > 0)) {
      throw new IllegalStateException("mixture weights at step " + step + " sum to zero");
    }
    long[] out = new long[rows * (seqLen + 1)];
    int[] sourceOfRow = new int[rows];
    for (int r = 0; r < rows; r++) {
      SplittableRandom rng = new SplittableRandom(mix(seed, dataIndex, r));
      double u = rng.nextDouble() * total;
      int s = 0;
      while (s < sources.size() - 1 && u >= cumulative[s]) s++;
      Tokens stream = sources.get(s).tokens();
      long n = stream.length();
      sourceOfRow[r] = s;
      int span = seqLen + 1;
      long starts = n - span + 1;
      // nextInt below 2^31 tokens, so a stream's windows are the same in memory or mapped
      long start =
          n <= span
              ? 0
              : starts <= Integer.MAX_VALUE ? rng.nextInt((int) starts) : rng.nextLong(starts);
      for (int i = 0; i < span; i++) {
        out[r * span + i] = stream.get((start + i) % n);
      }
    }
    return new Batch(dataIndex, out, rows, seqLen, sourceOfRow);
  }

  private static long mix(long seed, long index, int row) {
    long z = seed * 0x9E3779B97F4A7C15L + index * 0xBF58476D1CE4E5B9L + row * 0x94D049BB133111EBL;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
