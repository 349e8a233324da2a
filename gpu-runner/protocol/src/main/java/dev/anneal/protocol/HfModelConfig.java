package dev.anneal.protocol;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A Hugging Face {@code config.json} of the LLaMA family, read and checked: the one reading the
 * platform's model import and the runner's engine both use. Each family follows what transformers'
 * modeling code for it does: Mistral has no biases; Qwen2 always biases its query, key and value
 * projections; Llama and Qwen3 bias all four attention projections when {@code attention_bias} is
 * true; Qwen3 normalises each head's queries and keys (and its {@code head_dim} defaults to 128). A
 * field that changes the maths and is not implemented is refused with its name, never ignored: a
 * model loaded without it would give other logits than the one that was trained.
 *
 * @param family the {@code model_type}: llama, mistral, qwen2 or qwen3
 * @param qkvBias biases on the query, key and value projections
 * @param outBias a bias on the attention's output projection
 * @param qkNorm an RMSNorm over each head's queries and keys before the rotation
 * @param ropeScaling Llama 3's rotary scaling, or null
 */
public record HfModelConfig(
    String family,
    int hiddenSize,
    int layers,
    int heads,
    int kvHeads,
    int headDim,
    int intermediateSize,
    int maxPositions,
    int vocabSize,
    boolean tiedEmbeddings,
    boolean prefixLm,
    double ropeTheta,
    double rmsNormEps,
    boolean qkvBias,
    boolean outBias,
    boolean qkNorm,
    RopeScaling ropeScaling) {

  /**
   * Llama 3's rotary scaling ({@code rope_scaling} with {@code rope_type: llama3}): wavelengths
   * longer than {@code originalMaxPositions / lowFreqFactor} are stretched by {@code factor},
   * shorter than {@code originalMaxPositions / highFreqFactor} kept, those between interpolated.
   */
  public record RopeScaling(
      double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositions) {
    public RopeScaling {
      if (!(factor >= 1) || !(lowFreqFactor > 0) || !(highFreqFactor > lowFreqFactor)) {
        throw new IllegalArgumentException(
            "rope_scaling: needs factor >= 1 and 0 < low_freq_factor < high_freq_factor, got "
                + factor
                + ", "
                + lowFreqFactor
                + ", "
                + highFreqFactor);
      }
      if (originalMaxPositions <= 0) {
        throw new IllegalArgumentException(
            "rope_scaling: original_max_position_embeddings must be positive");
      }
    }
  }

  private static final ObjectMapper JSON = new ObjectMapper();

  /** The supported {@code model_type}s and their transformers class prefixes, in this order. */
  public static final Map<String, String> FAMILIES = new LinkedHashMap<>();

  static {
    FAMILIES.put("llama", "Llama");
    FAMILIES.put("mistral", "Mistral");
    FAMILIES.put("qwen2", "Qwen2");
    FAMILIES.put("qwen3", "Qwen3");
  }

  /** Reads and checks a {@code config.json}; {@code where} names its directory in errors. */
  public static HfModelConfig parse(byte[] configJson, String where) {
    String file = where + "/config.json";
    JsonNode c;
    try {
      c = JSON.readTree(configJson);
    } catch (IOException e) {
      throw new IllegalArgumentException(file + ": not JSON (" + e.getMessage() + ")");
    }
    if (c == null || !c.isObject()) {
      throw new IllegalArgumentException(file + ": not a JSON object");
    }
    String family = c.path("model_type").asText("");
    if (!FAMILIES.containsKey(family)) {
      throw new IllegalArgumentException(
          file
              + ": model_type '"
              + family
              + "' is not supported ("
              + String.join(", ", FAMILIES.keySet())
              + ")");
    }
    architectures(c, family, file);
    int hidden = required(c, "hidden_size", file);
    int heads = required(c, "num_attention_heads", file);
    int kvHeads =
        c.path("num_key_value_heads").isInt() ? c.get("num_key_value_heads").asInt() : heads;
    int maxPositions = c.path("max_position_embeddings").asInt(2048);
    refuseUnimplemented(c, family, maxPositions, file);
    int headDim = headDim(c, family, hidden, heads, file);
    boolean attentionBias = c.path("attention_bias").asBoolean(false);
    boolean qkvBias =
        switch (family) {
          case "qwen2" -> true;
          case "mistral" -> false;
          default -> attentionBias;
        };
    boolean outBias = !family.equals("qwen2") && !family.equals("mistral") && attentionBias;
    JsonNode rope = rope(c);
    RopeScaling scaling = scaling(rope, file);
    if (heads % kvHeads != 0) {
      throw new IllegalArgumentException(
          file
              + ": num_key_value_heads "
              + kvHeads
              + " does not divide num_attention_heads "
              + heads);
    }
    int layers = required(c, "num_hidden_layers", file);
    int ffn = required(c, "intermediate_size", file);
    int vocab = required(c, "vocab_size", file);
    for (int v : new int[] {hidden, layers, heads, kvHeads, ffn, vocab, maxPositions}) {
      if (v <= 0) {
        throw new IllegalArgumentException(file + ": sizes must be positive");
      }
    }
    if (headDim % 2 != 0 || headDim <= 0) {
      throw new IllegalArgumentException(
          file + ": head_dim must be positive and even for rotary embeddings, got " + headDim);
    }
    return new HfModelConfig(
        family,
        hidden,
        layers,
        heads,
        kvHeads,
        headDim,
        ffn,
        maxPositions,
        vocab,
        c.path("tie_word_embeddings").asBoolean(false),
        c.path("anneal_prefix_lm").asBoolean(false),
        rope.path("rope_theta").isNumber()
            ? rope.get("rope_theta").asDouble()
            : c.path("rope_theta").asDouble(10000.0),
        c.path("rms_norm_eps").asDouble(1e-6),
        qkvBias,
        outBias,
        family.equals("qwen3"),
        scaling);
  }

  /** {@code architectures}, when given, must be a causal LM or a reward model of the family. */
  private static void architectures(JsonNode c, String family, String file) {
    JsonNode archs = c.path("architectures");
    if (!archs.isArray()) return;
    String prefix = FAMILIES.get(family);
    List<String> ok = List.of(prefix + "ForCausalLM", prefix + "ForSequenceClassification");
    for (JsonNode a : archs) {
      if (!ok.contains(a.asText())) {
        throw new IllegalArgumentException(
            file + ": architectures '" + a.asText() + "' is not supported (" + ok + ")");
      }
    }
  }

  private static int headDim(JsonNode c, String family, int hidden, int heads, String file) {
    JsonNode hd = c.path("head_dim");
    if (hd.isInt()) return hd.asInt();
    if (!hd.isMissingNode() && !hd.isNull()) {
      throw new IllegalArgumentException(file + ": head_dim must be an integer, got " + hd);
    }
    if (family.equals("qwen3")) return 128; // Qwen3Config's default
    if (hidden % heads != 0) {
      throw new IllegalArgumentException(
          file
              + ": num_attention_heads "
              + heads
              + " does not divide hidden_size "
              + hidden
              + " and no head_dim is given");
    }
    return hidden / heads;
  }

  /** {@code rope_scaling}, or transformers 5's {@code rope_parameters}; missing when neither. */
  private static JsonNode rope(JsonNode c) {
    JsonNode p = c.path("rope_parameters");
    return p.isObject() ? p : c.path("rope_scaling");
  }

  private static RopeScaling scaling(JsonNode rope, String file) {
    if (rope.isMissingNode() || rope.isNull()) return null;
    String type = rope.path("rope_type").asText(rope.path("type").asText("default"));
    switch (type) {
      case "default":
        return null;
      case "llama3":
        try {
          return new RopeScaling(
              number(rope, "factor", file),
              number(rope, "low_freq_factor", file),
              number(rope, "high_freq_factor", file),
              (int) number(rope, "original_max_position_embeddings", file));
        } catch (IllegalArgumentException e) {
          if (e.getMessage().startsWith(file)) throw e;
          throw new IllegalArgumentException(file + ": " + e.getMessage());
        }
      default:
        throw new IllegalArgumentException(
            file
                + ": rope_scaling type '"
                + type
                + "' changes the rotary embedding and is not implemented (default and llama3 are)");
    }
  }

  private static double number(JsonNode n, String field, String file) {
    if (!n.path(field).isNumber()) {
      throw new IllegalArgumentException(file + ": rope_scaling." + field + " must be a number");
    }
    return n.get(field).asDouble();
  }

  private static void refuseUnimplemented(
      JsonNode c, String family, int maxPositions, String file) {
    if (c.path("mlp_bias").asBoolean(false)) {
      throw new IllegalArgumentException(
          file + ": mlp_bias true is not implemented (the engine's MLP projections have none)");
    }
    String act = c.path("hidden_act").asText("silu");
    if (!act.equals("silu")) {
      throw new IllegalArgumentException(
          file + ": hidden_act '" + act + "' is not implemented (SwiGLU with silu is)");
    }
    JsonNode window = c.path("sliding_window");
    boolean windowed =
        switch (family) {
          // Qwen's configs carry a window that applies only with use_sliding_window
          case "qwen2", "qwen3" -> c.path("use_sliding_window").asBoolean(false);
          default -> window.isNumber();
        };
    if (windowed && (!window.isNumber() || window.asInt() < maxPositions)) {
      throw new IllegalArgumentException(
          file
              + ": sliding_window "
              + window
              + " (below max_position_embeddings "
              + maxPositions
              + ") is not implemented (attention is full)");
    }
    JsonNode partial = c.path("partial_rotary_factor");
    if (partial.isNumber() && partial.asDouble() != 1.0) {
      throw new IllegalArgumentException(
          file + ": partial_rotary_factor " + partial + " is not implemented (1.0 is)");
    }
  }

  private static int required(JsonNode c, String field, String file) {
    if (!c.path(field).isInt()) {
      throw new IllegalArgumentException(file + ": " + field + " must be an integer");
    }
    return c.get(field).asInt();
  }

  /** The width of all query heads together. */
  public int qDim() {
    return heads * headDim;
  }

  /**
   * The tensors a checkpoint of this config holds, by Hugging Face name, with their shapes: what
   * transformers' modeling code for the family builds (biases and query/key norms included; no
   * {@code lm_head} when the embedding is tied). A reward model adds its {@code score.weight}.
   */
  public Map<String, long[]> tensors() {
    Map<String, long[]> t = new LinkedHashMap<>();
    int kv = kvHeads * headDim;
    t.put("model.embed_tokens.weight", new long[] {vocabSize, hiddenSize});
    for (int i = 0; i < layers; i++) {
      String l = "model.layers." + i + ".";
      t.put(l + "input_layernorm.weight", new long[] {hiddenSize});
      t.put(l + "self_attn.q_proj.weight", new long[] {qDim(), hiddenSize});
      t.put(l + "self_attn.k_proj.weight", new long[] {kv, hiddenSize});
      t.put(l + "self_attn.v_proj.weight", new long[] {kv, hiddenSize});
      t.put(l + "self_attn.o_proj.weight", new long[] {hiddenSize, qDim()});
      if (qkvBias) {
        t.put(l + "self_attn.q_proj.bias", new long[] {qDim()});
        t.put(l + "self_attn.k_proj.bias", new long[] {kv});
        t.put(l + "self_attn.v_proj.bias", new long[] {kv});
      }
      if (outBias) t.put(l + "self_attn.o_proj.bias", new long[] {hiddenSize});
      if (qkNorm) {
        t.put(l + "self_attn.q_norm.weight", new long[] {headDim});
        t.put(l + "self_attn.k_norm.weight", new long[] {headDim});
      }
      t.put(l + "post_attention_layernorm.weight", new long[] {hiddenSize});
      t.put(l + "mlp.gate_proj.weight", new long[] {intermediateSize, hiddenSize});
      t.put(l + "mlp.up_proj.weight", new long[] {intermediateSize, hiddenSize});
      t.put(l + "mlp.down_proj.weight", new long[] {hiddenSize, intermediateSize});
    }
    t.put("model.norm.weight", new long[] {hiddenSize});
    if (!tiedEmbeddings) t.put("lm_head.weight", new long[] {vocabSize, hiddenSize});
    return t;
  }
}
