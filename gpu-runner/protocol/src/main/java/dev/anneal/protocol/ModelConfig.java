package dev.anneal.protocol;

/**
 * Shape of a LLaMA-style decoder. {@code preset} names a known size ({@code tiny}, {@code small});
 * explicit fields override it in the engine.
 */
public record ModelConfig(
    String preset,
    Integer dModel,
    Integer nLayers,
    Integer nHeads,
    Integer nKvHeads,
    Double ffnMult,
    Integer maxSeqLen,
    Integer vocabSize,
    Boolean tieEmbeddings,
    String attention) {

  public ModelConfig {
    preset = Checks.orDefault(preset, "tiny");
    attention = Checks.orDefault(attention, "causal");
    tieEmbeddings = Checks.orDefault(tieEmbeddings, Boolean.TRUE);
    if (!attention.equals("causal") && !attention.equals("prefix")) {
      throw new IllegalArgumentException(
          "attention: must be 'causal' or 'prefix', got '" + attention + "'");
    }
    if (dModel != null) Checks.positive("dModel", dModel);
    if (nLayers != null) Checks.positive("nLayers", nLayers);
    if (nHeads != null) Checks.positive("nHeads", nHeads);
    if (nKvHeads != null) Checks.positive("nKvHeads", nKvHeads);
    if (ffnMult != null) Checks.positive("ffnMult", ffnMult);
    if (maxSeqLen != null) Checks.positive("maxSeqLen", maxSeqLen);
    if (vocabSize != null) Checks.positive("vocabSize", vocabSize);
    if (dModel != null && nHeads != null && dModel % nHeads != 0) {
      throw new IllegalArgumentException(
          "nHeads: must divide dModel (" + dModel + "), got " + nHeads);
    }
    if (nHeads != null && nKvHeads != null && nHeads % nKvHeads != 0) {
      throw new IllegalArgumentException(
          "nKvHeads: must divide nHeads (" + nHeads + "), got " + nKvHeads);
    }
  }

  public static ModelConfig preset(String name) {
    return new ModelConfig(name, null, null, null, null, null, null, null, null, null);
  }
}
