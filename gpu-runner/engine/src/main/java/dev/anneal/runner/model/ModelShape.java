package dev.anneal.runner.model;

import dev.anneal.protocol.ModelConfig;

/**
 * A fully resolved LLaMA-style decoder shape. Presets give the sizes; explicit fields in the spec
 * override them.
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
    double normEps) {

  public ModelShape {
    if (dModel % nHeads != 0) {
      throw new IllegalArgumentException("nHeads must divide dModel");
    }
    if (nHeads % nKvHeads != 0) {
      throw new IllegalArgumentException("nKvHeads must divide nHeads");
    }
    if ((dModel / nHeads) % 2 != 0) {
      throw new IllegalArgumentException("the head size must be even for rotary embeddings");
    }
  }

  public int headDim() {
    return dModel / nHeads;
  }

  /** Resolves a spec's model section against its preset. */
  public static ModelShape of(ModelConfig c) {
    int d;
    int layers;
    int heads;
    int kv;
    int seq;
    int vocab;
    switch (c.preset()) {
      case "tiny" -> {
        d = 128;
        layers = 4;
        heads = 4;
        kv = 2;
        seq = 256;
        vocab = 1024;
      }
      case "small" -> {
        d = 256;
        layers = 12;
        heads = 8;
        kv = 4;
        seq = 512;
        vocab = 4096;
      }
      case "micro" -> {
        d = 32;
        layers = 2;
        heads = 4;
        kv = 2;
        seq = 64;
        vocab = 300;
      }
      default ->
          throw new IllegalArgumentException(
              "model.preset: unknown preset '" + c.preset() + "' (tiny, small, micro)");
    }
    if (c.dModel() != null) d = c.dModel();
    if (c.nLayers() != null) layers = c.nLayers();
    if (c.nHeads() != null) heads = c.nHeads();
    if (c.nKvHeads() != null) kv = c.nKvHeads();
    else if (c.nHeads() != null) kv = c.nHeads();
    if (c.maxSeqLen() != null) seq = c.maxSeqLen();
    if (c.vocabSize() != null) vocab = c.vocabSize();
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
    long attn = 2L * dModel * dModel + 2L * dModel * (long) nKvHeads * headDim();
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
    return 6.0 * (nonEmbedding + lmHead) + 12.0 * nLayers * dModel * seqLen;
  }
}
