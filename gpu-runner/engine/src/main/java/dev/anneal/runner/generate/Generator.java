package dev.anneal.runner.generate;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.anneal.runner.model.Host;
import dev.anneal.runner.model.KvCache;
import dev.anneal.runner.model.Params;
import dev.anneal.runner.model.Transformer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * The hybrid engine's inference mode: batched autoregressive generation from the same {@link
 * Params} that train — no copy of the weights, no autograd — with a KV cache, so each new token
 * costs one position's forward pass instead of the whole sequence's. Prompts of different lengths
 * are left-padded; pads are masked as keys and take no rotary position, so a row generates the same
 * tokens alone or in a batch. Sampling: greedy (temperature 0) or temperature with nucleus (top-p)
 * filtering; a row stops at a stop token or after {@code maxNewTokens}.
 */
public final class Generator {

  /** How to pick tokens. */
  public record Sampling(
      double temperature, double topP, int maxNewTokens, Set<Integer> stopTokens, long seed) {
    public Sampling {
      if (temperature < 0) throw new IllegalArgumentException("temperature: must be >= 0");
      if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("topP: must be in (0, 1]");
      if (maxNewTokens < 1) throw new IllegalArgumentException("maxNewTokens: must be >= 1");
      stopTokens = stopTokens == null ? Set.of() : Set.copyOf(stopTokens);
    }

    public static Sampling greedy(int maxNewTokens, Set<Integer> stopTokens) {
      return new Sampling(0, 1, maxNewTokens, stopTokens, 0);
    }
  }

  /**
   * Per prompt, the generated tokens (the stop token included when one ended the row) and the
   * log-probability of each under the sampling distribution's model (before temperature), which PPO
   * needs as the behaviour policy's.
   */
  public record Output(List<int[]> tokens, List<float[]> logProbs, long generatedTokens) {}

  private final Transformer model;
  private final int padToken;
  private final int vocabLimit;

  public Generator(Transformer model, int padToken) {
    this(model, padToken, model.shape().vocabSize());
  }

  /**
   * @param vocabLimit tokens at or above it are never generated: a model's embedding may have more
   *     rows than its tokenizer has tokens (BPE stops merging when the text runs out), and an id
   *     the tokenizer does not know cannot be decoded
   */
  public Generator(Transformer model, int padToken, int vocabLimit) {
    this.model = model;
    this.padToken = padToken;
    this.vocabLimit = Math.min(vocabLimit, model.shape().vocabSize());
  }

  public Output generate(Params p, NDManager parent, List<int[]> prompts, Sampling s) {
    return run(p, parent, prompts, s, true);
  }

  /** The same generation recomputing the whole sequence for every token (the benchmark's peer). */
  public Output generateWithoutCache(Params p, NDManager parent, List<int[]> prompts, Sampling s) {
    return run(p, parent, prompts, s, false);
  }

  private Output run(
      Params p, NDManager parent, List<int[]> prompts, Sampling s, boolean useCache) {
    int b = prompts.size();
    int longest = prompts.stream().mapToInt(a -> a.length).max().orElseThrow();
    int total = longest + s.maxNewTokens();
    // the whole (left-padded) sequence per row, filled as tokens are generated
    int[][] seq = new int[b][total];
    int[] pads = new int[b];
    for (int r = 0; r < b; r++) {
      int[] pr = prompts.get(r);
      if (pr.length == 0) throw new IllegalArgumentException("prompts[" + r + "]: empty");
      pads[r] = longest - pr.length;
      Arrays.fill(seq[r], 0, pads[r], padToken);
      System.arraycopy(pr, 0, seq[r], pads[r], pr.length);
    }
    List<List<Integer>> out = new ArrayList<>();
    List<List<Float>> lps = new ArrayList<>();
    for (int r = 0; r < b; r++) {
      out.add(new ArrayList<>());
      lps.add(new ArrayList<>());
    }
    boolean[] done = new boolean[b];
    SplittableRandom rng = new SplittableRandom(s.seed());
    long generated = 0;
    try (NDManager m = parent.newSubManager()) {
      KvCache cache = useCache ? new KvCache(model.shape().nLayers(), m, total) : null;
      int len = longest; // filled length of seq
      int from = 0; // first position fed in this call
      for (int n = 0; n < s.maxNewTokens(); n++) {
        float[][] last;
        try (NDManager step = m.newSubManager()) {
          int start = useCache ? from : 0;
          int t = len - start;
          long[] ids = new long[b * t];
          long[][] positions = new long[b][t];
          for (int r = 0; r < b; r++) {
            for (int j = 0; j < t; j++) {
              int abs = start + j;
              ids[r * t + j] = seq[r][abs];
              positions[r][j] = Math.max(0, abs - pads[r]);
            }
          }
          NDArray tokens = Host.longs(step, ids, new Shape(b, t));
          NDArray mask = mask(step, pads, start, t, len);
          DataType dtype = p.get("model.embed_tokens.weight").getDataType();
          if (dtype != DataType.FLOAT32) mask = mask.toType(dtype, false);
          NDArray logits = model.logitsAt(p, tokens, positions, mask, cache);
          NDArray lastLogits =
              logits.get(new NDIndex(":, {}, :", t - 1)).toType(DataType.FLOAT32, false);
          float[] flat = lastLogits.toFloatArray();
          int v = (int) lastLogits.getShape().get(1);
          last = new float[b][];
          for (int r = 0; r < b; r++) {
            last[r] = Arrays.copyOfRange(flat, r * v, r * v + vocabLimit);
          }
        }
        for (int r = 0; r < b; r++) {
          int next;
          float lp;
          if (done[r]) {
            next = padToken;
            lp = 0;
          } else {
            float[] logp = logSoftmax(last[r]);
            next = s.temperature() == 0 ? argmax(logp) : sample(last[r], s, rng);
            lp = logp[next];
            out.get(r).add(next);
            lps.get(r).add(lp);
            generated++;
            if (s.stopTokens().contains(next)) done[r] = true;
          }
          seq[r][len] = next;
        }
        from = len;
        len++;
        boolean all = true;
        for (boolean d : done) all &= d;
        if (all) break;
      }
    }
    List<int[]> tokens = new ArrayList<>();
    List<float[]> logProbs = new ArrayList<>();
    for (int r = 0; r < b; r++) {
      tokens.add(out.get(r).stream().mapToInt(Integer::intValue).toArray());
      float[] f = new float[lps.get(r).size()];
      for (int i = 0; i < f.length; i++) f[i] = lps.get(r).get(i);
      logProbs.add(f);
    }
    return new Output(tokens, logProbs, generated);
  }

  /** {@code [B, 1, t, len]}: query at absolute index start+i sees key j <= start+i unless a pad. */
  private static NDArray mask(NDManager m, int[] pads, int start, int t, int len) {
    int b = pads.length;
    float[] values = new float[b * t * len];
    for (int r = 0; r < b; r++) {
      for (int i = 0; i < t; i++) {
        int q = start + i;
        for (int j = 0; j < len; j++) {
          boolean visible = j <= q && j >= pads[r];
          values[(r * t + i) * len + j] = visible ? 0f : -1e9f;
        }
      }
    }
    return Host.floats(m, values, new Shape(b, 1, t, len));
  }

  static float[] logSoftmax(float[] logits) {
    float max = Float.NEGATIVE_INFINITY;
    for (float x : logits) max = Math.max(max, x);
    double sum = 0;
    for (float x : logits) sum += Math.exp(x - max);
    float log = (float) (max + Math.log(sum));
    float[] out = new float[logits.length];
    for (int i = 0; i < logits.length; i++) out[i] = logits[i] - log;
    return out;
  }

  static int argmax(float[] x) {
    int best = 0;
    for (int i = 1; i < x.length; i++) if (x[i] > x[best]) best = i;
    return best;
  }

  /** Temperature, then the smallest set of tokens whose probability reaches topP. */
  static int sample(float[] logits, Sampling s, SplittableRandom rng) {
    int v = logits.length;
    float[] scaled = new float[v];
    for (int i = 0; i < v; i++) scaled[i] = (float) (logits[i] / s.temperature());
    float[] logp = logSoftmax(scaled);
    Integer[] order = new Integer[v];
    for (int i = 0; i < v; i++) order[i] = i;
    Arrays.sort(order, (a, c) -> Float.compare(logp[c], logp[a]));
    double kept = 0;
    int k = 0;
    while (k < v && kept < s.topP()) {
      kept += Math.exp(logp[order[k]]);
      k++;
    }
    double u = rng.nextDouble() * kept;
    double acc = 0;
    for (int i = 0; i < k; i++) {
      acc += Math.exp(logp[order[i]]);
      if (u < acc) return order[i];
    }
    return order[k - 1];
  }
}
