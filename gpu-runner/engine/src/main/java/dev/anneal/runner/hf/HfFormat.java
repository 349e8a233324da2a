package dev.anneal.runner.hf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.anneal.runner.ckpt.SafeTensors;
import dev.anneal.runner.data.ChatTemplate;
import dev.anneal.runner.model.ModelShape;
import dev.anneal.runner.tokenizer.BpeTokenizer;
import dev.anneal.runner.train.RewardObjective;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * A model as a directory Hugging Face {@code transformers} loads: {@code model.safetensors}
 * (metadata {@code {"format": "pt"}}, HF tensor names — the engine uses them already — and layouts,
 * float32), {@code config.json} ({@code LlamaForCausalLM}, or {@code
 * LlamaForSequenceClassification} for a reward model with its {@code score.weight}), {@code
 * generation_config.json}, {@code tokenizer.json} and {@code tokenizer_config.json} with the chat
 * template. The same directory imports back: {@link #load} reads what {@link #export} wrote (and
 * other float32 LLaMA checkpoints of this layout).
 */
public final class HfFormat {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** A loaded model: its shape, weights by HF name, and tokenizer. */
  public record Model(
      ModelShape shape, Map<String, SafeTensors.HostTensor> weights, BpeTokenizer tokenizer) {}

  private HfFormat() {}

  /** The directory's files, by name. */
  public static Map<String, byte[]> export(
      ModelShape shape, Map<String, SafeTensors.HostTensor> weights, BpeTokenizer tok) {
    Map<String, byte[]> files = new LinkedHashMap<>();
    files.put(
        "model.safetensors", SafeTensors.write(new TreeMap<>(weights), Map.of("format", "pt")));
    files.put("config.json", json(config(shape, tok, weights.containsKey(RewardObjective.HEAD))));
    files.put("generation_config.json", json(generationConfig(tok)));
    files.put("tokenizer.json", tok.toHuggingFaceJson().getBytes(StandardCharsets.UTF_8));
    files.put("tokenizer_config.json", json(tokenizerConfig(shape, tok)));
    return files;
  }

  /** The LLaMA tensors of a shape, by Hugging Face name, with their shapes. */
  public static Map<String, long[]> llamaTensors(ModelShape s) {
    Map<String, long[]> t = new LinkedHashMap<>();
    int kv = s.nKvHeads() * s.headDim();
    t.put("model.embed_tokens.weight", new long[] {s.vocabSize(), s.dModel()});
    for (int i = 0; i < s.nLayers(); i++) {
      String l = "model.layers." + i + ".";
      t.put(l + "input_layernorm.weight", new long[] {s.dModel()});
      t.put(l + "self_attn.q_proj.weight", new long[] {s.dModel(), s.dModel()});
      t.put(l + "self_attn.k_proj.weight", new long[] {kv, s.dModel()});
      t.put(l + "self_attn.v_proj.weight", new long[] {kv, s.dModel()});
      t.put(l + "self_attn.o_proj.weight", new long[] {s.dModel(), s.dModel()});
      t.put(l + "post_attention_layernorm.weight", new long[] {s.dModel()});
      t.put(l + "mlp.gate_proj.weight", new long[] {s.ffnHidden(), s.dModel()});
      t.put(l + "mlp.up_proj.weight", new long[] {s.ffnHidden(), s.dModel()});
      t.put(l + "mlp.down_proj.weight", new long[] {s.dModel(), s.ffnHidden()});
    }
    t.put("model.norm.weight", new long[] {s.dModel()});
    if (!s.tieEmbeddings()) t.put("lm_head.weight", new long[] {s.vocabSize(), s.dModel()});
    return t;
  }

  /**
   * Why {@code weights} are not the LLaMA of {@code s} under Hugging Face names (the first tensor
   * missing or of another shape), or empty when they are.
   */
  public static Optional<String> notLlama(
      ModelShape s, Map<String, SafeTensors.HostTensor> weights) {
    for (Map.Entry<String, long[]> e : llamaTensors(s).entrySet()) {
      SafeTensors.HostTensor w = weights.get(e.getKey());
      if (w == null) return Optional.of("no " + e.getKey());
      if (!Arrays.equals(w.shape(), e.getValue())) {
        return Optional.of(
            e.getKey()
                + " is "
                + Arrays.toString(w.shape())
                + ", the model's is "
                + Arrays.toString(e.getValue()));
      }
    }
    return Optional.empty();
  }

  static ObjectNode config(ModelShape s, BpeTokenizer tok, boolean reward) {
    ObjectNode c = JSON.createObjectNode();
    c.putArray("architectures").add(reward ? "LlamaForSequenceClassification" : "LlamaForCausalLM");
    c.put("model_type", "llama");
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
    c.put("tie_word_embeddings", s.tieEmbeddings());
    c.put("hidden_act", "silu");
    c.put("attention_bias", false);
    c.put("mlp_bias", false);
    c.put("torch_dtype", "float32");
    special(c, "eos_token_id", tok, ChatTemplate.END);
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

  private static ObjectNode generationConfig(BpeTokenizer tok) {
    ObjectNode g = JSON.createObjectNode();
    ArrayNode eos = g.putArray("eos_token_id");
    for (String t : new String[] {ChatTemplate.END, "<|endoftext|>"}) {
      if (tok.specialTokens().contains(t)) eos.add(tok.id(t));
    }
    special(g, "pad_token_id", tok, "<|pad|>");
    g.put("do_sample", false);
    return g;
  }

  private static ObjectNode tokenizerConfig(ModelShape s, BpeTokenizer tok) {
    ObjectNode t = JSON.createObjectNode();
    t.put("tokenizer_class", "PreTrainedTokenizerFast");
    t.put("model_max_length", s.maxSeqLen());
    t.put("clean_up_tokenization_spaces", false);
    putToken(t, "eos_token", tok, ChatTemplate.END);
    putToken(t, "pad_token", tok, "<|pad|>");
    t.putNull("bos_token");
    t.putNull("unk_token");
    t.put("chat_template", ChatTemplate.JINJA);
    ObjectNode added = t.putObject("added_tokens_decoder");
    for (String sp : tok.specialTokens()) {
      BpeTokenizer.addedToken(added.putObject(Integer.toString(tok.id(sp))), sp);
    }
    return t;
  }

  private static void special(ObjectNode n, String field, BpeTokenizer tok, String token) {
    if (tok.specialTokens().contains(token)) n.put(field, tok.id(token));
    else n.putNull(field);
  }

  private static void putToken(ObjectNode n, String field, BpeTokenizer tok, String token) {
    if (tok.specialTokens().contains(token)) n.put(field, token);
    else n.putNull(field);
  }

  private static byte[] json(JsonNode n) {
    try {
      return JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(n);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Reads a directory's files back; errors name the file and the field. */
  public static Model load(Map<String, byte[]> files, String where) {
    for (String f : new String[] {"config.json", "model.safetensors", "tokenizer.json"}) {
      if (!files.containsKey(f)) {
        throw new IllegalArgumentException(where + ": has no " + f);
      }
    }
    ModelShape shape = shape(files.get("config.json"), where);
    Map<String, SafeTensors.HostTensor> weights =
        SafeTensors.read(files.get("model.safetensors"), where + "/model.safetensors");
    BpeTokenizer tok =
        BpeTokenizer.fromHuggingFaceJson(
            new String(files.get("tokenizer.json"), StandardCharsets.UTF_8));
    return new Model(shape, weights, tok);
  }

  /** The model's shape from its {@code config.json}; refuses what is not a LLaMA config. */
  /**
   * Fields that change the maths and are not implemented are refused, never ignored: a model loaded
   * without them would give other logits than the one it was trained as.
   */
  private static void refuseUnimplemented(JsonNode c, int heads, String where) {
    JsonNode scaling = c.path("rope_scaling");
    if (!scaling.isMissingNode() && !scaling.isNull()) {
      throw new IllegalArgumentException(
          where
              + ": rope_scaling "
              + scaling
              + " changes the rotary embedding and is not implemented (only plain RoPE with"
              + " rope_theta is)");
    }
    for (String bias : new String[] {"attention_bias", "mlp_bias"}) {
      if (c.path(bias).asBoolean(false)) {
        throw new IllegalArgumentException(
            where + ": " + bias + " true is not implemented (the engine's projections have none)");
      }
    }
    int hidden = c.path("hidden_size").asInt();
    JsonNode headDim = c.path("head_dim");
    if (headDim.isNumber() && heads > 0 && headDim.asInt() != hidden / heads) {
      throw new IllegalArgumentException(
          where
              + ": head_dim "
              + headDim.asInt()
              + " differs from hidden_size / num_attention_heads ("
              + hidden / heads
              + "), which is the only head size implemented");
    }
    String act = c.path("hidden_act").asText("silu");
    if (!act.equals("silu")) {
      throw new IllegalArgumentException(
          where + ": hidden_act '" + act + "' is not implemented (SwiGLU with silu is)");
    }
  }

  public static ModelShape shape(byte[] configJson, String where) {
    JsonNode c;
    try {
      c = JSON.readTree(configJson);
    } catch (IOException e) {
      throw new IllegalArgumentException(where + "/config.json: not JSON (" + e.getMessage() + ")");
    }
    if (!"llama".equals(c.path("model_type").asText())) {
      throw new IllegalArgumentException(
          where
              + "/config.json: model_type must be llama, got '"
              + c.path("model_type").asText()
              + "'");
    }
    int heads = required(c, "num_attention_heads", where);
    refuseUnimplemented(c, heads, where + "/config.json");
    return new ModelShape(
        required(c, "hidden_size", where),
        required(c, "num_hidden_layers", where),
        heads,
        c.path("num_key_value_heads").asInt(heads),
        required(c, "intermediate_size", where),
        c.path("max_position_embeddings").asInt(2048),
        required(c, "vocab_size", where),
        c.path("tie_word_embeddings").asBoolean(false),
        c.path("anneal_prefix_lm").asBoolean(false),
        c.path("rope_theta").asDouble(10000.0),
        c.path("rms_norm_eps").asDouble(1e-6));
  }

  private static int required(JsonNode c, String field, String where) {
    if (!c.path(field).isInt()) {
      throw new IllegalArgumentException(where + "/config.json: " + field + " must be an integer");
    }
    return c.get(field).asInt();
  }
}
