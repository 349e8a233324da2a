package dev.anneal.runner.hf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.anneal.protocol.ExportConfig;
import dev.anneal.runner.ckpt.ModelWeights;
import dev.anneal.runner.ckpt.SafeTensors;
import dev.anneal.runner.data.AnnealChatTemplate;
import dev.anneal.runner.model.ModelShape;
import dev.anneal.runner.tokenizer.BpeTokenizer;
import dev.anneal.runner.tokenizer.Tokenizer;
import dev.anneal.runner.tokenizer.Tokenizers;
import dev.anneal.runner.train.RewardObjective;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

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
      ModelShape shape, Map<String, SafeTensors.HostTensor> weights, Tokenizer tokenizer) {}

  private HfFormat() {}

  /** The directory's files, by name: float32, one {@code model.safetensors} up to 5 GB. */
  public static Map<String, byte[]> export(
      ModelShape shape, Map<String, SafeTensors.HostTensor> weights, Tokenizer tok) {
    return export(shape, weights, tok, ExportConfig.defaults());
  }

  /**
   * The directory's files, by name: the weights in the config's dtype, in shards with an index
   * above its shard size.
   */
  public static Map<String, byte[]> export(
      ModelShape shape,
      Map<String, SafeTensors.HostTensor> weights,
      Tokenizer tok,
      ExportConfig export) {
    Map<String, byte[]> files =
        new LinkedHashMap<>(ModelWeights.write(weights, export.bf16(), export.maxShardBytes()));
    ObjectNode config = HfConfig.config(shape, tok, weights.containsKey(RewardObjective.HEAD));
    config.put("torch_dtype", export.bf16() ? "bfloat16" : "float32");
    files.put("config.json", json(config));
    files.put("generation_config.json", json(generationConfig(tok)));
    files.put("tokenizer.json", tok.toHuggingFaceJson().getBytes(StandardCharsets.UTF_8));
    files.put(
        "tokenizer_config.json",
        tok.configJson()
            .map(c -> c.getBytes(StandardCharsets.UTF_8))
            .orElseGet(() -> json(tokenizerConfig(shape, tok))));
    return files;
  }

  /** The {@code config.json} of a shape, as an export writes it. */
  public static byte[] configJson(ModelShape shape, Tokenizer tok, boolean reward) {
    return json(HfConfig.config(shape, tok, reward));
  }

  /** The tensors of a shape, by Hugging Face name, with their shapes (biases and norms too). */
  public static Map<String, long[]> llamaTensors(ModelShape s) {
    return HfConfig.describe(s).tensors();
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

  private static ObjectNode generationConfig(Tokenizer tok) {
    ObjectNode g = JSON.createObjectNode();
    ArrayNode eos = g.putArray("eos_token_id");
    for (String t : new String[] {AnnealChatTemplate.END, "<|endoftext|>"}) {
      if (tok.specialTokens().contains(t)) eos.add(tok.id(t));
    }
    HfConfig.special(g, "pad_token_id", tok, "<|pad|>");
    g.put("do_sample", false);
    return g;
  }

  private static ObjectNode tokenizerConfig(ModelShape s, Tokenizer tok) {
    ObjectNode t = JSON.createObjectNode();
    t.put("tokenizer_class", "PreTrainedTokenizerFast");
    t.put("model_max_length", s.maxSeqLen());
    t.put("clean_up_tokenization_spaces", false);
    putToken(t, "eos_token", tok, AnnealChatTemplate.END);
    putToken(t, "pad_token", tok, "<|pad|>");
    t.putNull("bos_token");
    t.putNull("unk_token");
    t.put("chat_template", AnnealChatTemplate.JINJA);
    ObjectNode added = t.putObject("added_tokens_decoder");
    for (String sp : tok.specialTokens()) {
      BpeTokenizer.addedToken(added.putObject(Integer.toString(tok.id(sp))), sp);
    }
    return t;
  }

  private static void putToken(ObjectNode n, String field, Tokenizer tok, String token) {
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
    for (String f : new String[] {"config.json", "tokenizer.json"}) {
      if (!files.containsKey(f)) {
        throw new IllegalArgumentException(where + ": has no " + f);
      }
    }
    ModelShape shape = shape(files.get("config.json"), where);
    Map<String, SafeTensors.HostTensor> weights = ModelWeights.read(files, where);
    Tokenizer tok = Tokenizers.fromFiles(files);
    return new Model(shape, weights, tok);
  }

  /** The model's shape from its {@code config.json}; see {@link HfConfig}. */
  public static ModelShape shape(byte[] configJson, String where) {
    return HfConfig.shape(configJson, where);
  }
}
