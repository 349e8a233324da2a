package dev.anneal.runner.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;

/** Loads a {@code tokenizer.json}: the engine's own BPE where it is one, else Hugging Face's. */
public final class Tokenizers {
  private static final ObjectMapper JSON = new ObjectMapper();

  private Tokenizers() {}

  /**
   * The tokenizer of a directory's or a checkpoint's files: {@code tokenizer.json}, with {@code
   * tokenizer_config.json} when there is one.
   */
  public static Tokenizer fromFiles(java.util.Map<String, byte[]> files) {
    byte[] config = files.get("tokenizer_config.json");
    return fromJson(
        new String(files.get("tokenizer.json"), java.nio.charset.StandardCharsets.UTF_8),
        config == null ? null : new String(config, java.nio.charset.StandardCharsets.UTF_8));
  }

  public static Tokenizer fromJson(String tokenizerJson) {
    return fromJson(tokenizerJson, null);
  }

  /**
   * @param configJson the {@code tokenizer_config.json} beside it, or null; kept with an imported
   *     tokenizer (the engine's own has its config written from the model)
   */
  public static Tokenizer fromJson(String tokenizerJson, String configJson) {
    JsonNode root;
    try {
      root = JSON.readTree(tokenizerJson);
    } catch (IOException e) {
      throw new IllegalArgumentException("tokenizer.json: malformed JSON: " + e.getMessage(), e);
    }
    if (root == null || !root.isObject()) {
      throw new IllegalArgumentException("tokenizer.json: not a JSON object");
    }
    return ours(root)
        ? BpeTokenizer.fromHuggingFaceJson(tokenizerJson)
        : new HfTokenizer(tokenizerJson, root, configJson);
  }

  /**
   * Whether a file is the engine's own byte-level BPE (as {@link BpeTokenizer} writes it: a bare
   * ByteLevel pre-tokenizer without a prefix space, no post-processor, no normaliser but NFKC);
   * anything else — Llama 3's and Qwen's split-then-ByteLevel sequences, SentencePiece's Metaspace,
   * a BOS-adding template — runs through Hugging Face's library, which implements them all.
   */
  static boolean ours(JsonNode root) {
    JsonNode pre = root.path("pre_tokenizer");
    JsonNode norm = root.path("normalizer");
    return "BPE".equals(root.path("model").path("type").asText())
        && "ByteLevel".equals(pre.path("type").asText())
        && !pre.path("add_prefix_space").asBoolean(false)
        && (root.path("post_processor").isNull() || root.path("post_processor").isMissingNode())
        && (norm.isNull() || norm.isMissingNode() || "NFKC".equals(norm.path("type").asText()));
  }
}
