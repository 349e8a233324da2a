package dev.anneal.runner.model;

import static java.util.Objects.requireNonNullElse;

import dev.anneal.protocol.HfModelConfig;
import dev.anneal.protocol.ModelConfig;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A fully resolved LLaMA-style decoder shape. Presets give the sizes; explicit fields in the spec
 * override them. {@link Arch} holds what the LLaMA family's members (Mistral, Qwen2, Qwen3) change
 * in it: the head size, projection biases, per-head query/key norms, Llama 3's rotary scaling.
 */
public record ModelShape(
    int dModel,
    int nLayers,
    int nHeads,
    int nKvHeads,
    int ffnHidden,
    int maxSeqLen,
    int vocabSize,
    boolean tieEmbeddings,
    boolean prefixLm,
    double ropeTheta,
    double normEps,
    Arch arch) {

  /**
   * The family member: {@code family} is the Hugging Face {@code model_type} (llama, mistral,
   * qwen2, qwen3), {@code headDim} the size of one head (Qwen3's is not {@code dModel / nHeads}),
   * {@code qkvBias} biases on the query, key and value projections (Qwen2; Llama's {@code
   * attention_bias}), {@code outBias} one on the output projection (Llama's {@code
   * attention_bias}), {@code qkNorm} an RMSNorm over each head's queries and keys before the
   * rotation (Qwen3), {@code ropeScaling} Llama 3's, or null.
   */
  public record Arch(
      String family,
      int headDim,
      boolean qkvBias,
      boolean outBias,
      boolean qkNorm,
      HfModelConfig.RopeScaling ropeScaling) {
    public Arch {
      if (headDim <= 0 || headDim % 2 != 0) {
        throw new IllegalArgumentException(
            "head_dim must be positive and even for rotary embeddings, got " + headDim);
      }
    }

    /** Plain LLaMA: no biases, no query/key norms, unscaled rotary embeddings. */
    public static Arch llama(int headDim) {
      return new Arch("llama", headDim, false, false, false, null);
    }

    /** Whether this is the plain LLaMA the engine trains from scratch. */
    public boolean plain() {
      return !qkvBias && !outBias && !qkNorm && ropeScaling == null;
    }
  }

  public ModelShape {
    if (nHeads % nKvHeads != 0) {
      throw new IllegalArgumentException("nKvHeads must divide nHeads");
    }
  }

  /** A plain LLaMA shape, its head size {@code dModel / nHeads}. */
  public ModelShape(
      int dModel,
      int nLayers,
      int nHeads,
      int nKvHeads,
      int ffnHidden,
      int maxSeqLen,
      int vocabSize,
      boolean tieEmbeddings,
      boolean prefixLm,
      double ropeTheta,
      double normEps) {
    this(
        dModel,
        nLayers,
        nHeads,
        nKvHeads,
        ffnHidden,
        maxSeqLen,
        vocabSize,
        tieEmbeddings,
        prefixLm,
        ropeTheta,
        normEps,
        Arch.llama(plainHeadDim(dModel, nHeads)));
  }

  private static int plainHeadDim(int dModel, int nHeads) {
    if (dModel % nHeads != 0) {
      throw new IllegalArgumentException("nHeads must divide dModel");
    }
    if ((dModel / nHeads) % 2 != 0) {
      throw new IllegalArgumentException("the head size must be even for rotary embeddings");
    }
    return dModel / nHeads;
  }

  public int headDim() {
    return arch.headDim();
  }

  /** The width of all query heads together ({@code nHeads * headDim}). */
  public int qDim() {
    return nHeads * arch.headDim();
  }

  /** The sizes a preset gives; a spec's explicit fields override them. */
  private record Preset(int d, int layers, int heads, int kv, int seq, int vocab) {}

  /** The presets, in the order the error message names them. */
  private static final Map<String, Preset> PRESETS = new LinkedHashMap<>();

  static {
    PRESETS.put("tiny", new Preset(128, 4, 4, 2, 256, 1024));
    PRESETS.put("small", new Preset(256, 12, 8, 4, 512, 4096));
    PRESETS.put("micro", new Preset(32, 2, 4, 2, 64, 300));
  }

  /** Resolves a spec's model section against its preset. */
  public static ModelShape of(ModelConfig c) {
    Preset p = PRESETS.get(c.preset());
    if (p == null) {
      throw new IllegalArgumentException(
          "model.preset: unknown preset '"
              + c.preset()
              + "' ("
              + String.join(", ", PRESETS.keySet())
              + ")");
    }
    int d = requireNonNullElse(c.dModel(), p.d());
    int heads = requireNonNullElse(c.nHeads(), p.heads());
    // an explicit head count without a KV-head count means plain multi-head attention
    int kv = requireNonNullElse(c.nKvHeads(), c.nHeads() != null ? heads : p.kv());
    int layers = requireNonNullElse(c.nLayers(), p.layers());
    int seq = requireNonNullElse(c.maxSeqLen(), p.seq());
    int vocab = requireNonNullElse(c.vocabSize(), p.vocab());
    double mult = c.ffnMult() != null ? c.ffnMult() : 8.0 / 3.0;
    int hidden = (int) Math.round(mult * d / 32.0) * 32;
    return new ModelShape(
        d,
        layers,
        heads,
        kv,
        Math.max(32, hidden),
        seq,
        vocab,
        c.tieEmbeddings(),
        "prefix".equals(c.attention()),
        10000.0,
        1e-5);
  }

  /** Parameter count, the embedding included once when tied. */
  public long parameterCount() {
    long kv = (long) nKvHeads * headDim();
    long attn = 2L * dModel * qDim() + 2L * dModel * kv;
    if (arch.qkvBias()) attn += qDim() + 2 * kv;
    if (arch.outBias()) attn += dModel;
    if (arch.qkNorm()) attn += 2L * headDim();
    long mlp = 3L * dModel * ffnHidden;
    long perLayer = attn + mlp + 2L * dModel;
    long embed = (long) vocabSize * dModel;
    return nLayers * perLayer + embed + dModel + (tieEmbeddings ? 0 : embed);
  }

  /**
   * Forward-and-backward FLOPs per token (the PaLM appendix's count): 6 per weight plus the
   * attention score and value products, 12 * layers * d * seq.
   */
  public double trainingFlopsPerToken(int seqLen) {
    long nonEmbedding = parameterCount() - (long) vocabSize * dModel * (tieEmbeddings ? 1 : 2);
    long lmHead = (long) vocabSize * dModel;
    return 6.0 * (nonEmbedding + lmHead) + 12.0 * nLayers * qDim() * seqLen;
  }
}
