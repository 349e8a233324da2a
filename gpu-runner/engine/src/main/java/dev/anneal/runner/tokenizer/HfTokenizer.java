package dev.anneal.runner.tokenizer;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Any Hugging Face {@code tokenizer.json} (Llama 3's, Qwen's, Mistral's, …), encoded and decoded by
 * Hugging Face's own tokenizers library through DJL's binding, so normalisers, pre-tokenizers, byte
 * fallback and added tokens behave exactly as in transformers. Text is encoded without the
 * post-processor's additions ({@code add_special_tokens=False}): a BOS, where a model wants one,
 * comes from its chat template or the data, never twice. Special tokens written in the text are
 * recognised whole, as the library does; decoding keeps them.
 */
public final class HfTokenizer implements Tokenizer {

  private final String json;
  private final String configJson;
  private final HuggingFaceTokenizer hf;
  private final Map<String, Integer> ids = new HashMap<>();
  private final List<String> specials;
  private final int vocabSize;

  HfTokenizer(String json, JsonNode root, String configJson) {
    this.json = json;
    this.configJson = configJson;
    JsonNode vocab = root.path("model").path("vocab");
    if (vocab.isObject()) {
      vocab.fields().forEachRemaining(e -> ids.put(e.getKey(), e.getValue().asInt()));
    } else if (vocab.isArray()) {
      // Unigram: [[piece, score], …], the id is the position
      for (int i = 0; i < vocab.size(); i++) ids.put(vocab.get(i).path(0).asText(), i);
    } else {
      throw new IllegalArgumentException("tokenizer.json: model has no vocab");
    }
    TreeMap<Integer, String> special = new TreeMap<>();
    for (JsonNode t : root.path("added_tokens")) {
      ids.put(t.path("content").asText(), t.path("id").asInt());
      if (t.path("special").asBoolean())
        special.put(t.path("id").asInt(), t.path("content").asText());
    }
    this.specials = List.copyOf(special.values());
    this.vocabSize = ids.values().stream().mapToInt(Integer::intValue).max().orElse(-1) + 1;
    try {
      this.hf =
          HuggingFaceTokenizer.newInstance(
              new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)),
              Map.of("addSpecialTokens", "false", "truncation", "false", "padding", "false"));
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException(
          "tokenizer.json: Hugging Face's tokenizers library refused it: " + e.getMessage(), e);
    }
  }

  /**
   * Any {@code tokenizer.json} through Hugging Face's library, even one the engine's own BPE could
   * run (the benchmark compares the two on the same file).
   */
  public static HfTokenizer of(String json, String configJson) {
    try {
      return new HfTokenizer(
          json, new com.fasterxml.jackson.databind.ObjectMapper().readTree(json), configJson);
    } catch (IOException e) {
      throw new IllegalArgumentException("tokenizer.json: malformed JSON: " + e.getMessage(), e);
    }
  }

  @Override
  public int vocabSize() {
    return vocabSize;
  }

  @Override
  public List<String> specialTokens() {
    return specials;
  }

  @Override
  public int id(String token) {
    Integer id = ids.get(token);
    if (id == null) {
      throw new IllegalArgumentException("token '" + token + "' is not in the vocabulary");
    }
    return id;
  }

  @Override
  public int[] encode(String text) {
    long[] got = hf.encode(text, false, false).getIds();
    int[] out = new int[got.length];
    for (int i = 0; i < got.length; i++) out[i] = (int) got[i];
    return out;
  }

  /** Many texts at once, in the library's own parallel batch encoding. */
  @Override
  public List<int[]> encodeBatch(List<String> texts) {
    Encoding[] enc = hf.batchEncode(texts, false, false);
    List<int[]> out = new ArrayList<>(enc.length);
    for (Encoding e : enc) {
      long[] got = e.getIds();
      int[] ids = new int[got.length];
      for (int i = 0; i < got.length; i++) ids[i] = (int) got[i];
      out.add(ids);
    }
    return out;
  }

  @Override
  public String decode(int[] ids) {
    long[] l = new long[ids.length];
    for (int i = 0; i < ids.length; i++) l[i] = ids[i];
    return hf.decode(l, false);
  }

  @Override
  public String toHuggingFaceJson() {
    return json;
  }

  @Override
  public Optional<String> configJson() {
    return Optional.ofNullable(configJson);
  }
}
