package dev.anneal.runner.train;

import dev.anneal.protocol.RunSpec;
import dev.anneal.protocol.TokenizerSpec;
import dev.anneal.runner.ckpt.BlobStore;
import dev.anneal.runner.ckpt.CheckpointReader;
import dev.anneal.runner.model.ModelShape;
import dev.anneal.runner.tokenizer.BpeTrainer;
import dev.anneal.runner.tokenizer.Tokenizer;
import dev.anneal.runner.tokenizer.Tokenizers;
import dev.anneal.runner.train.TrainingInputs.MissingInputException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A stage's tokenizer settled: its starting checkpoint's, else the spec's {@code tokenizer.key},
 * else one trained on the stage's texts.
 */
public final class StageTokenizers {

  private StageTokenizers() {}

  /** The tokenizer of the checkpoint a stage must start from ({@code which} kind of one). */
  static Tokenizer starting(
      RunSpec spec,
      ModelShape shape,
      BlobStore store,
      CheckpointReader.Loaded checkpoint,
      String stage,
      String which) {
    if (checkpoint == null) {
      throw new IllegalArgumentException(
          "initFrom: "
              + stage
              + " starts from "
              + which
              + " checkpoint (its weights and tokenizer)");
    }
    return settle(spec, shape, store, checkpoint);
  }

  /**
   * The tokenizer of a stage that reads no pre-training texts: the given one, else (never in
   * practice: such stages start from a checkpoint) one trained on nothing.
   */
  static Tokenizer settle(
      RunSpec spec, ModelShape shape, BlobStore store, CheckpointReader.Loaded checkpoint) {
    return given(spec, store, checkpoint).orElseGet(() -> trained(spec, shape, Map.of()));
  }

  /** A tokenizer trained on {@code texts} with the spec's settings. */
  static Tokenizer trained(RunSpec spec, ModelShape shape, Map<String, List<String>> texts) {
    TokenizerSpec t = spec.tokenizer();
    int vocab = t.vocabSize() != null ? t.vocabSize() : shape.vocabSize();
    List<String> all = new ArrayList<>();
    texts.values().forEach(all::addAll);
    return BpeTrainer.train(all, vocab, t.nfkc(), t.specialTokens());
  }

  /**
   * The tokenizer a stage is given rather than trains: its starting checkpoint's, else the spec's
   * {@code tokenizer.key}; empty when it trains one on its data.
   */
  public static Optional<Tokenizer> given(
      RunSpec spec, BlobStore store, CheckpointReader.Loaded checkpoint) {
    if (checkpoint != null && checkpoint.files().containsKey("tokenizer.json")) {
      return Optional.of(Tokenizers.fromFiles(checkpoint.files()));
    }
    TokenizerSpec t = spec.tokenizer();
    if (t.key() != null) {
      byte[] json;
      if (t.key().startsWith("file:")) {
        try {
          json = Files.readAllBytes(Path.of(t.key().substring(5)));
        } catch (IOException e) {
          throw new MissingInputException(
              "tokenizer: cannot read " + t.key() + ": " + e.getMessage());
        }
      } else {
        json =
            store
                .get(t.key())
                .orElseThrow(
                    () ->
                        new MissingInputException(
                            "tokenizer: " + store.describe(t.key()) + " does not exist"));
      }
      return Optional.of(Tokenizers.fromJson(new String(json, StandardCharsets.UTF_8)));
    }
    return Optional.empty();
  }
}
