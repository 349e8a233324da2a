package dev.anneal.runner.train;

import dev.anneal.protocol.DatasetRef;
import dev.anneal.protocol.RunSpec;
import dev.anneal.protocol.TokenizerSpec;
import dev.anneal.runner.ckpt.BlobStore;
import dev.anneal.runner.ckpt.CheckpointReader;
import dev.anneal.runner.ckpt.Checksums;
import dev.anneal.runner.data.BatchSource;
import dev.anneal.runner.data.ChatData;
import dev.anneal.runner.data.ChatTemplate;
import dev.anneal.runner.data.Curriculum;
import dev.anneal.runner.data.JsonlTexts;
import dev.anneal.runner.data.PreferenceData;
import dev.anneal.runner.data.PromptData;
import dev.anneal.runner.data.RewardBatches;
import dev.anneal.runner.data.Sampler;
import dev.anneal.runner.data.SftBatches;
import dev.anneal.runner.data.SyntheticCorpus;
import dev.anneal.runner.model.ModelShape;
import dev.anneal.runner.tokenizer.BpeTrainer;
import dev.anneal.runner.tokenizer.Tokenizer;
import dev.anneal.runner.tokenizer.Tokenizers;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Resolves a spec's data: reads each dataset (an object key in the bucket, a {@code file:} path, or
 * {@code synthetic:<source>[?docs=N]}), checks its sha256, gets the tokenizer (from the resume
 * checkpoint, the spec, or trained on the data), and builds the sampler.
 */
public final class TrainingInputs {

  /** A dataset or tokenizer named by the spec does not exist or does not match its checksum. */
  public static final class MissingInputException extends RuntimeException {
    public MissingInputException(String message) {
      super(message);
    }
  }

  public record Inputs(
      Tokenizer tokenizer, BatchSource sampler, Map<String, Integer> tokensPerSource) {}

  /** SFT's data: the chat batches (with their held-out dialogues) and the template. */
  public record SftInputs(Tokenizer tokenizer, SftBatches batches, ChatTemplate template) {}

  /** Share of an SFT dataset held out for evaluation. */
  public static final double SFT_HELD_OUT = 0.1;

  /**
   * Reads the stage's chat datasets ({@code synthetic:chat[?docs=N]}, a {@code file:} path or an
   * object key, JSONL of messages or conversation trees); the tokenizer comes from the starting
   * checkpoint and must have the chat template's special tokens.
   */
  public static SftInputs prepareSft(
      RunSpec spec, ModelShape shape, BlobStore store, CheckpointReader.Loaded checkpoint) {
    Tokenizer tokenizer =
        startingTokenizer(spec, shape, store, checkpoint, "an sft stage", "a pre-trained");
    ChatTemplate template = ChatTemplate.of(tokenizer);
    List<List<ChatTemplate.Message>> dialogues = new ArrayList<>();
    for (DatasetRef d : spec.datasets()) {
      dialogues.addAll(readChat(d, store, spec.seed()));
    }
    String padName =
        tokenizer.specialTokens().contains("<|pad|>")
            ? "<|pad|>"
            : tokenizer.specialTokens().get(0);
    SftBatches batches =
        new SftBatches(
            dialogues,
            template,
            tokenizer.id(padName),
            spec.seed(),
            SFT_HELD_OUT,
            spec.training().packing());
    return new SftInputs(tokenizer, batches, template);
  }

  /** The reward stage's data: preference pairs in batches, and the template. */
  public record RewardInputs(Tokenizer tokenizer, RewardBatches batches, ChatTemplate template) {}

  /**
   * Reads the stage's preference datasets ({@code synthetic:preferences[?docs=N]}, a {@code file:}
   * path or an object key, JSONL {@code {"prompt","chosen","rejected"}}); the tokenizer comes from
   * the starting checkpoint.
   */
  public static RewardInputs prepareReward(
      RunSpec spec, ModelShape shape, BlobStore store, CheckpointReader.Loaded checkpoint) {
    Tokenizer tokenizer =
        startingTokenizer(spec, shape, store, checkpoint, "a reward stage", "a fine-tuned");
    ChatTemplate template = ChatTemplate.of(tokenizer);
    List<PreferenceData.Preference> pairs = new ArrayList<>();
    for (DatasetRef d : spec.datasets()) {
      String key = d.key();
      if (SyntheticCorpus.Key.is(key)) {
        SyntheticCorpus.Key k =
            synthetic(d, "preferences", "a reward stage needs preference pairs");
        pairs.addAll(SyntheticCorpus.preferences(spec.seed(), k.docs()));
      } else {
        pairs.addAll(
            PreferenceData.parse(
                "dataset '" + d.name() + "'", new String(bytes(d, store), StandardCharsets.UTF_8)));
      }
    }
    String padName =
        tokenizer.specialTokens().contains("<|pad|>")
            ? "<|pad|>"
            : tokenizer.specialTokens().get(0);
    return new RewardInputs(
        tokenizer,
        new RewardBatches(pairs, template, tokenizer.id(padName), spec.seed(), SFT_HELD_OUT),
        template);
  }

  /**
   * An RLHF stage's data: the prompts (train and held out), and the PTX mixture of the further
   * datasets (null without any).
   */
  public record RlInputs(
      Tokenizer tokenizer,
      List<PromptData.Prompt> prompts,
      List<PromptData.Prompt> heldOut,
      BatchSource ptx) {}

  /**
   * Reads an RLHF stage's datasets: the first is the prompt set ({@code
   * synthetic:prompts[?docs=N]}, a {@code file:} path or an object key, JSONL of prompts); any
   * further ones are text for the PTX loss, sampled like pre-training data. The tokenizer comes
   * from the starting checkpoint.
   */
  public static RlInputs prepareRlhf(
      RunSpec spec, ModelShape shape, BlobStore store, CheckpointReader.Loaded checkpoint) {
    if (checkpoint == null) {
      throw new IllegalArgumentException(
          "initFrom: an rlhf stage starts from a fine-tuned checkpoint (its weights and tokenizer)");
    }
    if (spec.datasets().isEmpty()) {
      throw new IllegalArgumentException("datasets: an rlhf stage needs a prompt dataset first");
    }
    Tokenizer tokenizer = tokenizer(spec, shape, store, checkpoint, Map.of());
    DatasetRef first = spec.datasets().get(0);
    List<PromptData.Prompt> all;
    if (SyntheticCorpus.Key.is(first.key())) {
      SyntheticCorpus.Key k =
          synthetic(first, "prompts", "an rlhf stage's first dataset holds its prompts");
      all = SyntheticCorpus.prompts(spec.seed(), k.docs());
    } else {
      all =
          PromptData.parse(
              "dataset '" + first.name() + "'",
              new String(bytes(first, store), StandardCharsets.UTF_8));
    }
    List<PromptData.Prompt> train = new ArrayList<>();
    List<PromptData.Prompt> held = new ArrayList<>();
    for (int i = 0; i < all.size(); i++) {
      (SftBatches.heldOut(spec.seed(), i, SFT_HELD_OUT) ? held : train).add(all.get(i));
    }
    if (train.isEmpty()) train.add(held.remove(held.size() - 1));
    BatchSource ptx = null;
    List<DatasetRef> rest = spec.datasets().subList(1, spec.datasets().size());
    if (!rest.isEmpty()) {
      Map<String, List<String>> texts = new LinkedHashMap<>();
      for (DatasetRef d : rest) texts.put(d.name(), read(d, store, spec.seed()));
      ptx = sampler(rest, texts, tokenizer, spec).sampler();
    }
    return new RlInputs(tokenizer, train, held, ptx);
  }

  private static List<List<ChatTemplate.Message>> readChat(
      DatasetRef d, BlobStore store, long seed) {
    String key = d.key();
    if (SyntheticCorpus.Key.is(key)) {
      SyntheticCorpus.Key k = synthetic(d, "chat", "an sft stage needs chat data");
      return SyntheticCorpus.chat(seed, k.docs());
    }
    return ChatData.parse(
        "dataset '" + d.name() + "'", new String(bytes(d, store), StandardCharsets.UTF_8));
  }

  private TrainingInputs() {}

  /** The tokenizer of the checkpoint a stage must start from ({@code which} kind of one). */
  private static Tokenizer startingTokenizer(
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
    return tokenizer(spec, shape, store, checkpoint, Map.of());
  }

  /** A synthetic dataset's key, which must name {@code source}: what the stage {@code needs}. */
  private static SyntheticCorpus.Key synthetic(DatasetRef d, String source, String needs) {
    SyntheticCorpus.Key k = SyntheticCorpus.Key.parse(d.key());
    if (!k.source().equals(source)) {
      throw new MissingInputException(
          "dataset '"
              + d.name()
              + "': "
              + needs
              + "; the synthetic source is synthetic:"
              + source
              + ", got "
              + d.key());
    }
    return k;
  }

  public static Inputs prepare(
      RunSpec spec, ModelShape shape, BlobStore store, CheckpointReader.Loaded checkpoint) {
    Corpus c = corpus(spec, shape, store, checkpoint);
    return sampler(spec.datasets(), c.texts(), c.tokenizer(), spec);
  }

  /**
   * A pre-training stage's texts, by dataset, and the tokenizer they are encoded with: the starting
   * checkpoint's, the spec's, or one trained on these texts.
   */
  public record Corpus(Tokenizer tokenizer, Map<String, List<String>> texts) {}

  /** Reads the stage's datasets and settles its tokenizer (errors name the dataset or field). */
  public static Corpus corpus(
      RunSpec spec, ModelShape shape, BlobStore store, CheckpointReader.Loaded checkpoint) {
    Map<String, List<String>> texts = new LinkedHashMap<>();
    for (DatasetRef d : spec.datasets()) {
      texts.put(d.name(), read(d, store, spec.seed()));
    }
    Tokenizer tokenizer = tokenizer(spec, shape, store, checkpoint, texts);
    if (tokenizer.vocabSize() > shape.vocabSize()) {
      throw new IllegalArgumentException(
          "model.vocabSize: the tokenizer has "
              + tokenizer.vocabSize()
              + " tokens but the model only "
              + shape.vocabSize());
    }
    return new Corpus(tokenizer, texts);
  }

  private static Inputs sampler(
      List<DatasetRef> datasets,
      Map<String, List<String>> texts,
      Tokenizer tokenizer,
      RunSpec spec) {
    int eos = tokenizer.id(tokenizer.specialTokens().get(0));
    List<Sampler.Source> sources = new ArrayList<>();
    Map<String, Double> weights = new LinkedHashMap<>();
    Map<String, Integer> sizes = new LinkedHashMap<>();
    for (DatasetRef d : datasets) {
      List<Integer> stream = new ArrayList<>();
      for (String text : texts.get(d.name())) {
        for (int id : tokenizer.encode(text)) stream.add(id);
        stream.add(eos);
      }
      sources.add(
          new Sampler.Source(d.name(), stream.stream().mapToInt(Integer::intValue).toArray()));
      weights.put(d.name(), d.weight());
      sizes.put(d.name(), stream.size());
    }
    Sampler sampler = new Sampler(sources, new Curriculum(weights, spec.curriculum()), spec.seed());
    return new Inputs(tokenizer, sampler, sizes);
  }

  private static List<String> read(DatasetRef d, BlobStore store, long seed) {
    String key = d.key();
    byte[] bytes;
    if (SyntheticCorpus.Key.is(key)) {
      SyntheticCorpus.Key k = SyntheticCorpus.Key.parse(key);
      return SyntheticCorpus.generate(k.source(), seed, k.docs()).stream()
          .map(SyntheticCorpus.Doc::text)
          .toList();
    }
    bytes = bytes(d, store);
    return JsonlTexts.parse(
        "dataset '" + d.name() + "'", new String(bytes, StandardCharsets.UTF_8));
  }

  private static byte[] bytes(DatasetRef d, BlobStore store) {
    String key = d.key();
    byte[] bytes;
    if (key.startsWith("file:")) {
      Path p = Path.of(key.substring("file:".length()));
      try {
        bytes = Files.readAllBytes(p);
      } catch (NoSuchFileException e) {
        throw new MissingInputException(
            "dataset '" + d.name() + "': file " + p + " does not exist");
      } catch (IOException e) {
        throw new MissingInputException(
            "dataset '" + d.name() + "': cannot read " + p + ": " + e.getMessage());
      }
    } else {
      bytes =
          store
              .get(key)
              .orElseThrow(
                  () ->
                      new MissingInputException(
                          "dataset '"
                              + d.name()
                              + "': "
                              + store.describe(key)
                              + " does not exist"));
    }
    if (d.sha256() != null) {
      String actual = Checksums.sha256(bytes);
      if (!actual.equals(d.sha256())) {
        throw new MissingInputException(
            "dataset '"
                + d.name()
                + "': sha256 is "
                + actual
                + " but the spec expects "
                + d.sha256()
                + " (the data changed since it was registered)");
      }
    }
    return bytes;
  }

  private static Tokenizer tokenizer(
      RunSpec spec,
      ModelShape shape,
      BlobStore store,
      CheckpointReader.Loaded checkpoint,
      Map<String, List<String>> texts) {
    Optional<Tokenizer> given = givenTokenizer(spec, store, checkpoint);
    if (given.isPresent()) return given.get();
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
  public static Optional<Tokenizer> givenTokenizer(
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
