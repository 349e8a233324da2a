package dev.anneal.runner.exec;

import com.fasterxml.jackson.databind.JsonNode;
import dev.anneal.protocol.DatasetRef;
import dev.anneal.protocol.ExitCode;
import dev.anneal.protocol.RunSpec;
import dev.anneal.protocol.StageKind;
import dev.anneal.runner.ckpt.BlobStore;
import dev.anneal.runner.ckpt.CheckpointException;
import dev.anneal.runner.ckpt.CheckpointReader;
import dev.anneal.runner.ckpt.Checksums;
import dev.anneal.runner.data.TokenShards;
import dev.anneal.runner.hf.HfFormat;
import dev.anneal.runner.model.ModelShape;
import dev.anneal.runner.tokenizer.Tokenizer;
import dev.anneal.runner.tokenizer.Tokenizers;
import dev.anneal.runner.train.StageTokenizers;
import dev.anneal.runner.train.TextTokens;
import dev.anneal.runner.train.TrainingInputs;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * What an engine program reads, made ready in the work directory before its ranks start: the token
 * set (encoded here from the RunSpec's dataset, when the wrapper is not given one), the run's
 * tokenizer (the starting checkpoint's, the spec's, or one trained on the data, exactly as the
 * built-in engine settles it, so a later built-in stage continues with it), and the weights of the
 * checkpoint a stage starts from.
 */
final class EngineInputs {

  /** Inputs that cannot be made ready: the protocol's exit code and what is wrong. */
  static final class Refused extends Exception {
    final ExitCode code;

    Refused(ExitCode code, String message) {
      super(message);
      this.code = code;
    }
  }

  /**
   * @param env the contract's variables for them
   * @param tokenizer the run's tokenizer (null: the wrapper was given a token set and no checkpoint
   *     names one)
   * @param note what was done for the token set, for the attempt's log
   */
  record Ready(Map<String, String> env, Tokenizer tokenizer, String note) {}

  private EngineInputs() {}

  /**
   * @param given a token set the wrapper was given (null: encode the spec's dataset)
   * @param resumed the checkpoint a resumed attempt continues (null: a first attempt)
   */
  static Ready prepare(
      RunSpec spec, BlobStore store, Path work, Path given, CheckpointReader.Loaded resumed)
      throws IOException, Refused {
    Map<String, String> env = new HashMap<>();
    CheckpointReader.Loaded init = null;
    if (spec.initFrom() != null && resumed == null) {
      if (spec.initFrom().manifestKey().startsWith("hf:")) {
        throw new Refused(
            ExitCode.INVALID_SPEC,
            "initFrom: "
                + spec.initFrom().manifestKey()
                + " is a Hugging Face directory; the torch engine starts from Anneal checkpoints,"
                + " so a stage from an imported model runs on the built-in engine");
      }
      try {
        init = CheckpointReader.load(store, spec.initFrom().manifestKey());
      } catch (CheckpointException e) {
        throw new Refused(ExitCode.CORRUPT_CHECKPOINT, "initFrom: " + e.getMessage());
      }
      if (init.files().containsKey("config.json")) {
        throw new Refused(
            ExitCode.INVALID_SPEC,
            "initFrom: "
                + spec.initFrom().manifestKey()
                + " is a "
                + HfFormat.shape(init.file("config.json"), init.manifestKey()).arch().family()
                + " model from an import; the torch engine trains the spec's own LLaMA shape, so"
                + " this stage runs on the built-in engine");
      }
      Path dir = Files.createDirectories(work.resolve("init"));
      Files.write(dir.resolve("model.safetensors"), init.file("model.safetensors"));
      env.put("ANNEAL_INIT_FROM", dir.toString());
    }
    CheckpointReader.Loaded from = resumed != null ? resumed : init;
    Tokenizer tokenizer;
    String note;
    if (given != null) {
      note = "token set: " + given + " (given)";
      env.put("ANNEAL_TOKENS", given.toString());
      tokenizer =
          from != null && from.files().containsKey("tokenizer.json")
              ? Tokenizers.fromFiles(from.files())
              : null;
    } else {
      Encoded e = encode(spec, store, work.resolve("tokens"), from);
      tokenizer = e.tokenizer();
      note = e.note();
      env.put("ANNEAL_TOKENS", work.resolve("tokens").toString());
    }
    if (tokenizer != null) {
      Path file = work.resolve("tokenizer.json");
      Files.writeString(file, tokenizer.toHuggingFaceJson());
      env.put("ANNEAL_TOKENIZER", file.toString());
    }
    return new Ready(env, tokenizer, note);
  }

  private record Encoded(Tokenizer tokenizer, String note) {}

  /**
   * The spec's one dataset as a token set in {@code dir}: the store's copy when one exists for this
   * dataset and tokenizer, else encoded here and published for the next attempt or node.
   */
  private static Encoded encode(
      RunSpec spec, BlobStore store, Path dir, CheckpointReader.Loaded from)
      throws IOException, Refused {
    if (spec.datasets().size() != 1 || !spec.curriculum().isEmpty()) {
      throw new Refused(
          ExitCode.INVALID_SPEC,
          "datasets: an engine under exec trains on one token set, so the stage names one dataset"
              + " and no curriculum; got "
              + spec.datasets().size()
              + " dataset(s)"
              + (spec.curriculum().isEmpty() ? "" : " and a curriculum")
              + " (mixtures are the built-in engine's)");
    }
    DatasetRef dataset = spec.datasets().get(0);
    boolean sft = spec.stage() == StageKind.SFT;
    // an SFT set (rendered dialogues and their masks) is another set than the text's of the data
    Optional<String> identity =
        TokenSetCache.identity(dataset, spec.seed()).map(id -> sft ? "sft\n" + id : id);
    Tokenizer tok;
    Map<String, String> meta = new LinkedHashMap<>();
    meta.put("dataset", dataset.name());
    JsonNode m;
    try {
      Optional<Tokenizer> known = StageTokenizers.given(spec, store, from);
      if (known.isPresent() && identity.isPresent()) {
        String prefix =
            TokenSetCache.prefix(spec.team(), identity.get(), known.get().toHuggingFaceJson());
        if (TokenSetCache.fetch(store, prefix, dir)) {
          return new Encoded(known.get(), "token set: reused " + store.describe(prefix));
        }
      }
      ModelShape shape = ModelShape.of(spec.model());
      if (sft) {
        TrainingInputs.SftInputs in = TrainingInputs.prepareSft(spec, shape, store, from);
        tok = in.tokenizer();
        meta.put("tokenizerSha256", sha(tok));
        m =
            TokenShards.writeExamples(
                dir,
                in.batches().training(),
                tok.vocabSize(),
                tok.id(tok.specialTokens().get(0)),
                in.batches().pad(),
                1L << 24,
                meta);
      } else {
        tok = TrainingInputs.pretrainTokenizer(spec, shape, store, from);
        meta.put("tokenizerSha256", sha(tok));
        m = TextTokens.write(dataset, store, spec.seed(), tok, dir, meta);
      }
    } catch (TrainingInputs.MissingInputException | TokenShards.TokenSetException e) {
      throw new Refused(ExitCode.INPUT_MISSING, e.getMessage());
    } catch (IllegalArgumentException e) {
      throw new Refused(ExitCode.INVALID_SPEC, e.getMessage());
    }
    long total = 0;
    for (JsonNode shard : m.path("shards")) total += shard.path("tokens").asLong();
    String what =
        total
            + " tokens"
            + (sft ? " of " + m.path("examples").path("count").asLong() + " dialogues" : "");
    if (identity.isEmpty()) {
      return new Encoded(
          tok, "token set: encoded " + what + " (" + dataset.key() + " may change: not kept)");
    }
    String prefix = TokenSetCache.prefix(spec.team(), identity.get(), tok.toHuggingFaceJson());
    TokenSetCache.publish(store, prefix, dir);
    return new Encoded(tok, "token set: encoded " + what + ", kept as " + store.describe(prefix));
  }

  private static String sha(Tokenizer tok) {
    return Checksums.sha256(tok.toHuggingFaceJson().getBytes(StandardCharsets.UTF_8));
  }
}
