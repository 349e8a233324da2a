package dev.anneal.runner.train;

import dev.anneal.protocol.DatasetRef;
import dev.anneal.protocol.RunSpec;
import dev.anneal.runner.ckpt.BlobStore;
import dev.anneal.runner.ckpt.CheckpointReader;
import dev.anneal.runner.data.BatchSource;
import dev.anneal.runner.data.ChatTemplate;
import dev.anneal.runner.data.Curriculum;
import dev.anneal.runner.data.PreferenceData;
import dev.anneal.runner.data.PromptData;
import dev.anneal.runner.data.RewardBatches;
import dev.anneal.runner.data.Sampler;
import dev.anneal.runner.data.SftBatches;
import dev.anneal.runner.data.SyntheticCorpus;
import dev.anneal.runner.model.ModelShape;
import dev.anneal.runner.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Resolves a spec's data for its stage: the datasets read ({@link Datasets}: an object key in the
 * bucket, a {@code file:} path, or {@code synthetic:<source>[?docs=N]}, sha256 checked), the
 * tokenizer settled ({@link StageTokenizers}: the starting checkpoint's, the spec's, or trained on
 * the data), and the batches built: the pre-training sampler, SFT's chat batches, the reward
 * model's pairs, RLHF's prompts.
 */
public final class TrainingInputs {

  /** A dataset or tokenizer named by the spec does not exist or does not match its checksum. */
  public static final class MissingInputException extends RuntimeException {
    public MissingInputException(String message) {
      super(message);
    }
  }

  public record Inputs(
      Tokenizer tokenizer, BatchSource sampler, Map<String, Long> tokensPerSource) {}

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
        StageTokenizers.starting(spec, shape, store, checkpoint, "an sft stage", "a pre-trained");
    ChatTemplate template = ChatTemplate.of(tokenizer);
    List<List<ChatTemplate.Message>> dialogues = new ArrayList<>();
    for (DatasetRef d : spec.datasets()) {
      dialogues.addAll(Datasets.chat(d, store, spec.seed()));
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
        StageTokenizers.starting(spec, shape, store, checkpoint, "a reward stage", "a fine-tuned");
    ChatTemplate template = ChatTemplate.of(tokenizer);
    List<PreferenceData.Preference> pairs = new ArrayList<>();
    for (DatasetRef d : spec.datasets()) {
      String key = d.key();
      if (SyntheticCorpus.Key.is(key)) {
        SyntheticCorpus.Key k =
            Datasets.synthetic(d, "preferences", "a reward stage needs preference pairs");
        pairs.addAll(SyntheticCorpus.preferences(spec.seed(), k.docs()));
      } else {
        pairs.addAll(Datasets.preferences(d, store));
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
    Tokenizer tokenizer = StageTokenizers.settle(spec, shape, store, checkpoint);
    DatasetRef first = spec.datasets().get(0);
    List<PromptData.Prompt> all;
    if (SyntheticCorpus.Key.is(first.key())) {
      SyntheticCorpus.Key k =
          Datasets.synthetic(first, "prompts", "an rlhf stage's first dataset holds its prompts");
      all = SyntheticCorpus.prompts(spec.seed(), k.docs());
    } else {
      all = Datasets.prompts(first, store);
    }
    List<PromptData.Prompt> train = new ArrayList<>();
    List<PromptData.Prompt> held = new ArrayList<>();
    for (int i = 0; i < all.size(); i++) {
      (SftBatches.heldOut(spec.seed(), i, SFT_HELD_OUT) ? held : train).add(all.get(i));
    }
    if (train.isEmpty()) train.add(held.remove(held.size() - 1));
    BatchSource ptx = null;
    List<DatasetRef> rest = spec.datasets().subList(1, spec.datasets().size());
    if (!rest.isEmpty()) ptx = sampler(rest, store, tokenizer, spec).sampler();
    return new RlInputs(tokenizer, train, held, ptx);
  }

  private TrainingInputs() {}

  /**
   * Characters of each dataset a tokenizer trained on the stage's data learns from: the dataset's
   * first ones (BPE's merges settle long before; the whole dataset is then encoded with them).
   */
  public static final long TOKENIZER_SAMPLE_CHARS = 8L << 20;

  /**
   * A pre-training stage's tokenizer and sampler: each dataset streamed into a memory-mapped token
   * set ({@link TextTokens}), so memory does not grow with the data.
   */
  public static Inputs prepare(
      RunSpec spec, ModelShape shape, BlobStore store, CheckpointReader.Loaded checkpoint) {
    return sampler(spec.datasets(), store, pretrainTokenizer(spec, shape, store, checkpoint), spec);
  }

  /**
   * A pre-training stage's tokenizer: its starting checkpoint's, the spec's, or one trained on the
   * first {@link #TOKENIZER_SAMPLE_CHARS} characters of each dataset; it must fit the model.
   */
  public static Tokenizer pretrainTokenizer(
      RunSpec spec, ModelShape shape, BlobStore store, CheckpointReader.Loaded checkpoint) {
    Optional<Tokenizer> given = StageTokenizers.given(spec, store, checkpoint);
    Tokenizer tokenizer;
    if (given.isPresent()) {
      tokenizer = given.get();
    } else {
      Map<String, List<String>> texts = new LinkedHashMap<>();
      for (DatasetRef d : spec.datasets()) {
        texts.put(d.name(), Datasets.sample(d, store, spec.seed(), TOKENIZER_SAMPLE_CHARS));
      }
      tokenizer = StageTokenizers.trained(spec, shape, texts);
    }
    if (tokenizer.vocabSize() > shape.vocabSize()) {
      throw new IllegalArgumentException(
          "model.vocabSize: the tokenizer has "
              + tokenizer.vocabSize()
              + " tokens but the model only "
              + shape.vocabSize());
    }
    return tokenizer;
  }

  private static Inputs sampler(
      List<DatasetRef> datasets, BlobStore store, Tokenizer tokenizer, RunSpec spec) {
    List<Sampler.Source> sources = new ArrayList<>();
    Map<String, Double> weights = new LinkedHashMap<>();
    Map<String, Long> sizes = new LinkedHashMap<>();
    for (DatasetRef d : datasets) {
      Sampler.Source source = TextTokens.source(d, store, spec.seed(), tokenizer);
      sources.add(source);
      weights.put(d.name(), d.weight());
      sizes.put(d.name(), source.tokens().length());
    }
    Sampler sampler = new Sampler(sources, new Curriculum(weights, spec.curriculum()), spec.seed());
    return new Inputs(tokenizer, sampler, sizes);
  }
}
