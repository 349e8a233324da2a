package dev.anneal.runner.hf;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.anneal.protocol.HfModelConfig;
import dev.anneal.runner.data.AnnealChatTemplate;
import dev.anneal.runner.model.ModelShape;
import dev.anneal.runner.tokenizer.Tokenizer;

/**
 * A Hugging Face {@code config.json} of the LLaMA family as the engine's {@link ModelShape}: read
 * with {@link HfModelConfig}'s rules (shared with the platform's model import), and written back
 * for an export or a checkpoint so the same rules read it again.
 */
public final class HfConfig {

  private static final ObjectMapper JSON = new ObjectMapper();

  private HfConfig() {}

  /** The model's shape from its {@code config.json}; {@code where} names the directory. */
  public static ModelShape shape(byte[] configJson, String where) {
    HfModelConfig c = HfModelConfig.parse(configJson, where);
    return new ModelShape(
        c.hiddenSize(),
        c.layers(),
        c.heads(),
        c.kvHeads(),
        c.intermediateSize(),
        c.maxPositions(),
        c.vocabSize(),
        c.tiedEmbeddings(),
        c.prefixLm(),
        c.ropeTheta(),
        c.rmsNormEps(),
        new ModelShape.Arch(
            c.family(), c.headDim(), c.qkvBias(), c.outBias(), c.qkNorm(), c.ropeScaling()));
  }

  /** A shape as the config that describes it. */
  public static HfModelConfig describe(ModelShape s) {
    ModelShape.Arch a = s.arch();
    return new HfModelConfig(
        a.family(),
        s.dModel(),
        s.nLayers(),
        s.nHeads(),
        s.nKvHeads(),
        s.headDim(),
        s.ffnHidden(),
        s.maxSeqLen(),
        s.vocabSize(),
        s.tieEmbeddings(),
        s.prefixLm(),
        s.ropeTheta(),
        s.normEps(),
        a.qkvBias(),
        a.outBias(),
        a.qkNorm(),
        a.ropeScaling());
  }

  /** The {@code config.json} transformers reads the shape back from. */
  static ObjectNode config(ModelShape s, Tokenizer tok, boolean reward) {
    ModelShape.Arch a = s.arch();
    String prefix = HfModelConfig.FAMILIES.get(a.family());
    ObjectNode c = JSON.createObjectNode();
    c.putArray("architectures")
        .add(prefix + (reward ? "ForSequenceClassification" : "ForCausalLM"));
    c.put("model_type", a.family());
    c.put("hidden_size", s.dModel());
    c.put("intermediate_size", s.ffnHidden());
    c.put("num_hidden_layers", s.nLayers());
    c.put("num_attention_heads", s.nHeads());
    c.put("num_key_value_heads", s.nKvHeads());
    c.put("head_dim", s.headDim());
    c.put("vocab_size", s.vocabSize());
    c.put("max_position_embeddings", s.maxSeqLen());
    c.put("rms_norm_eps", s.normEps());
    c.put("rope_theta", s.ropeTheta());
    if (a.ropeScaling() != null) {
      ObjectNode r = c.putObject("rope_scaling");
      r.put("rope_type", "llama3");
      r.put("factor", a.ropeScaling().factor());
      r.put("low_freq_factor", a.ropeScaling().lowFreqFactor());
      r.put("high_freq_factor", a.ropeScaling().highFreqFactor());
      r.put("original_max_position_embeddings", a.ropeScaling().originalMaxPositions());
    } else {
      c.putNull("rope_scaling");
    }
    c.put("tie_word_embeddings", s.tieEmbeddings());
    c.put("hidden_act", "silu");
    switch (a.family()) {
      case "mistral" -> c.putNull("sliding_window");
      case "qwen2", "qwen3" -> c.put("use_sliding_window", false);
      default -> c.put("mlp_bias", false);
    }
    if (!a.family().equals("qwen2") && !a.family().equals("mistral")) {
      c.put("attention_bias", a.qkvBias());
    }
    c.put("torch_dtype", "float32");
    special(c, "eos_token_id", tok, AnnealChatTemplate.END);
    special(c, "pad_token_id", tok, "<|pad|>");
    if (reward) {
      c.put("num_labels", 1);
    }
    if (s.prefixLm()) {
      // transformers' LLaMA is causal only; the engine's prefix-LM attention does not carry over
      c.put("anneal_prefix_lm", true);
    }
    return c;
  }

  static void special(ObjectNode n, String field, Tokenizer tok, String token) {
    if (tok.specialTokens().contains(token)) n.put(field, tok.id(token));
    else n.putNull(field);
  }
}
