package dev.anneal.runner.tokenizer;

import java.util.List;
import java.util.Optional;

/**
 * What the engine needs of a tokenizer: ids for text (special tokens written in the text are
 * recognised whole; nothing is added around it), text for ids, the special tokens and their ids,
 * and the {@code tokenizer.json} that reloads it. Two kinds: the engine's own byte-level BPE
 * ({@link Tokenizer}, trained by {@link BpeTrainer}), and any Hugging Face {@code tokenizer.json}
 * run by Hugging Face's own tokenizers library ({@link HfTokenizer}).
 */
public interface Tokenizer {

  /** Ids run from 0 to {@code vocabSize() - 1}. */
  int vocabSize();

  /** The special tokens, in id order as the file lists them. */
  List<String> specialTokens();

  /** The id of a token of the vocabulary (a special one, usually); refuses an unknown token. */
  int id(String token);

  int[] encode(String text);

  /**
   * Each text's ids, as {@link #encode} gives them (Hugging Face's library encodes in parallel).
   */
  default List<int[]> encodeBatch(List<String> texts) {
    return texts.stream().map(this::encode).toList();
  }

  String decode(int[] ids);

  /** The {@code tokenizer.json} document that loads this tokenizer again. */
  String toHuggingFaceJson();

  /**
   * The {@code tokenizer_config.json} an imported tokenizer came with (its chat template, special
   * token roles), kept verbatim; empty for the engine's own, whose config is written from the
   * model.
   */
  default Optional<String> configJson() {
    return Optional.empty();
  }
}
