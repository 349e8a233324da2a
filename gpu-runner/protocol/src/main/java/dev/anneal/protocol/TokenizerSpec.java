package dev.anneal.protocol;

import java.util.List;

/**
 * The tokenizer: an existing Hugging Face {@code tokenizer.json} ({@code key}, in the bucket or a
 * local path), or, without one, a byte-level BPE trained on the stage's data.
 */
public record TokenizerSpec(
    String key, Integer vocabSize, Boolean nfkc, List<String> specialTokens) {
  public static final List<String> DEFAULT_SPECIALS =
      List.of("<|endoftext|>", "<|pad|>", "<|system|>", "<|user|>", "<|assistant|>", "<|end|>");

  public TokenizerSpec {
    nfkc = Checks.orDefault(nfkc, Boolean.FALSE);
    specialTokens = specialTokens == null ? DEFAULT_SPECIALS : List.copyOf(specialTokens);
    if (vocabSize != null) Checks.positive("vocabSize", vocabSize);
    if (specialTokens.isEmpty()) {
      throw new IllegalArgumentException(
          "specialTokens: needs at least the end-of-text token, which separates documents");
    }
  }

  public static TokenizerSpec defaults() {
    return new TokenizerSpec(null, null, null, null);
  }
}
