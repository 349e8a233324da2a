package dev.anneal.runner;

import ai.djl.ndarray.NDManager;
import dev.anneal.protocol.ExitCode;
import dev.anneal.protocol.ObjectStoreTarget;
import dev.anneal.protocol.RunSpec;
import dev.anneal.protocol.RunnerEvent;
import dev.anneal.protocol.StageKind;
import dev.anneal.runner.ckpt.BlobStore;
import dev.anneal.runner.ckpt.CheckpointException;
import dev.anneal.runner.ckpt.CheckpointReader;
import dev.anneal.runner.ckpt.DeviceSnapshot;
import dev.anneal.runner.ckpt.DirectoryStore;
import dev.anneal.runner.ckpt.S3Store;
import dev.anneal.runner.ckpt.SafeTensors;
import dev.anneal.runner.data.JsonlTexts;
import dev.anneal.runner.eval.ChatEval;
import dev.anneal.runner.events.EventLog;
import dev.anneal.runner.hf.HfFormat;
import dev.anneal.runner.model.ModelShape;
import dev.anneal.runner.model.Params;
import dev.anneal.runner.model.Transformer;
import dev.anneal.runner.tokenizer.BpeTokenizer;
import dev.anneal.runner.train.Objective;
import dev.anneal.runner.train.PpoTrainer;
import dev.anneal.runner.train.PretrainTrainer;
import dev.anneal.runner.train.RewardObjective;
import dev.anneal.runner.train.TrainingInputs;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs one stage attempt from its RunSpec: resolves inputs and the resume checkpoint, trains, and
 * turns the outcome into a protocol exit code, reporting failures as events.
 */
public final class StageRunner {

  private StageRunner() {}

  /** The store the spec names: {@code file:<dir>} for a local directory, else S3. */
  public static BlobStore store(ObjectStoreTarget t) {
    if (t.endpoint().startsWith("file:")) {
      String dir = t.endpoint().substring("file:".length());
      return new DirectoryStore(Path.of(dir.isEmpty() ? "." : dir));
    }
    String access = System.getenv(ObjectStoreTarget.ACCESS_KEY_ENV);
    String secret = System.getenv(ObjectStoreTarget.SECRET_KEY_ENV);
    if (access == null || secret == null) {
      throw new IllegalArgumentException(
          "store: "
              + ObjectStoreTarget.ACCESS_KEY_ENV
              + " and "
              + ObjectStoreTarget.SECRET_KEY_ENV
              + " must be set to reach "
              + t.endpoint());
    }
    return new S3Store(t.endpoint(), access, secret, t.bucket(), t.region());
  }

  /**
   * @param current receives the trainer's stop request once it exists, so a SIGTERM handler can
   *     stop it
   */
  public static int run(
      RunSpec spec, BlobStore store, EventLog events, AtomicReference<Runnable> current) {
    if (spec.stage() == StageKind.RLHF) {
      return runRlhf(spec, store, events, current);
    }
    boolean sft = spec.stage() == StageKind.SFT;
    boolean reward = spec.stage() == StageKind.REWARD;
    TrainingInputs.RewardInputs prefs = null;
    ModelShape shape;
    CheckpointReader.Loaded resume = null;
    CheckpointReader.Loaded init = null;
    TrainingInputs.Inputs inputs;
    TrainingInputs.SftInputs chat = null;
    try {
      shape = ModelShape.of(spec.model());
      if (spec.resumeFrom() != null) {
        resume = CheckpointReader.load(store, spec.resumeFrom().manifestKey());
      } else if (spec.initFrom() != null) {
        init = loadInit(store, spec.initFrom().manifestKey());
      }
      if (reward) {
        prefs = TrainingInputs.prepareReward(spec, shape, store, resume != null ? resume : init);
        inputs = new TrainingInputs.Inputs(prefs.tokenizer(), prefs.batches(), Map.of());
        events.log(
            "INFO",
            String.format(
                "reward model: %d training pairs, %d held out for evaluation",
                prefs.batches().trainingPairs(), prefs.batches().heldOutPairs()));
        long cut = prefs.batches().longerThan(spec.training().seqLen());
        if (cut > 0) {
          events.log(
              "WARN",
              String.format(
                  "reward model: %d pairs are longer than seqLen %d: their prompts lose their"
                      + " start (raise hyperparameters.seqLen to keep them whole)",
                  cut, spec.training().seqLen()));
        }
      } else if (sft) {
        chat = TrainingInputs.prepareSft(spec, shape, store, resume != null ? resume : init);
        inputs = new TrainingInputs.Inputs(chat.tokenizer(), chat.batches(), Map.of());
        events.log(
            "INFO",
            String.format(
                "sft: %d training dialogues, %d held out for evaluation",
                chat.batches().trainingDialogues(), chat.batches().heldOut().size()));
        long cut = chat.batches().longerThan(spec.training().seqLen());
        if (cut > 0) {
          events.log(
              "WARN",
              String.format(
                  "sft: %d dialogues are longer than seqLen %d + 1 tokens: their ends are cut and"
                      + " not learned (raise hyperparameters.seqLen)",
                  cut, spec.training().seqLen()));
        }
      } else {
        inputs = TrainingInputs.prepare(spec, shape, store, resume != null ? resume : init);
      }
    } catch (RuntimeException e) {
      return exitFor(events, e);
    }
    try (PretrainTrainer trainer =
        new PretrainTrainer(
            spec,
            shape,
            inputs.sampler(),
            inputs.tokenizer(),
            store,
            events,
            true,
            resume,
            init,
            reward ? new RewardObjective() : Objective.LANGUAGE_MODEL)) {
      current.set(trainer::requestStop);
      Map<String, Double> before = new LinkedHashMap<>();
      if (chat != null && resume == null) {
        // the starting model's score, so the summary shows what SFT changed
        ChatEval.Result e0 = exactMatch(trainer, shape, chat);
        before.put("exact_match_before", e0.exactMatch());
        events.log(
            "INFO",
            String.format(
                "before sft: exact match %.3f on %d held-out questions (first answer: \"%s\")",
                e0.exactMatch(),
                e0.questions(),
                e0.answers().isEmpty() ? "" : e0.answers().get(0)));
      }
      if (prefs != null && resume == null) {
        RewardObjective.Eval e0 = rewardEval(trainer, shape, prefs, spec);
        before.put("pairwise_accuracy_before", e0.pairwiseAccuracy());
      }
      PretrainTrainer.Result r = trainer.run();
      return switch (r.outcome()) {
        case FINISHED -> {
          Map<String, Double> summary = new LinkedHashMap<>();
          summary.put(
              "final_loss",
              r.losses().isEmpty() ? Double.NaN : r.losses().get(r.losses().size() - 1));
          summary.put("tokens_per_s", r.tokensPerSecond());
          if (r.evalLoss() != null) {
            summary.put("eval_loss", r.evalLoss());
            if (!reward) summary.put("perplexity", Math.exp(r.evalLoss()));
          }
          if (prefs != null) {
            RewardObjective.Eval e1 = rewardEval(trainer, shape, prefs, spec);
            summary.putAll(before);
            summary.put("pairwise_accuracy", e1.pairwiseAccuracy());
            summary.put("reward_margin", e1.meanMargin());
            events.log(
                "INFO",
                String.format(
                    "reward model: pairwise accuracy %.3f on %d held-out pairs (mean margin %.3f)",
                    e1.pairwiseAccuracy(), e1.pairs(), e1.meanMargin()));
          }
          summary.put("steps", (double) r.step());
          if (chat != null) {
            ChatEval.Result e1 = exactMatch(trainer, shape, chat);
            summary.putAll(before);
            summary.put("exact_match", e1.exactMatch());
            events.log(
                "INFO",
                String.format(
                    "after sft: exact match %.3f on %d held-out questions (first answers: %s)",
                    e1.exactMatch(),
                    e1.questions(),
                    e1.answers().subList(0, Math.min(3, e1.answers().size()))));
          }
          String hf = exportHuggingFace(store, shape, trainer, inputs.tokenizer(), r);
          events.log("INFO", "Hugging Face export (transformers loads it): " + store.describe(hf));
          yield finished(events, r.step(), r.lastCheckpoint().manifestKey(), summary);
        }
        case UNSTABLE -> ExitCode.INSTABILITY.code();
        case PREEMPTED -> ExitCode.PREEMPTED.code();
      };
    } catch (RuntimeException e) {
      return exitFor(events, e);
    }
  }

  /**
   * An RLHF stage: the actor and reference from {@code initFrom}, the critic and reward model from
   * {@code rewardFrom}, PPO until the step budget, then held-out figures before and after.
   */
  private static int runRlhf(
      RunSpec spec, BlobStore store, EventLog events, AtomicReference<Runnable> current) {
    ModelShape shape;
    CheckpointReader.Loaded init;
    CheckpointReader.Loaded reward;
    CheckpointReader.Loaded resume = null;
    TrainingInputs.RlInputs data;
    Map<String, SafeTensors.HostTensor> policy;
    Map<String, SafeTensors.HostTensor> rm;
    try {
      shape = ModelShape.of(spec.model());
      if (spec.initFrom() == null) {
        throw new IllegalArgumentException(
            "initFrom: an rlhf stage starts from a fine-tuned (sft) checkpoint");
      }
      init = loadInit(store, spec.initFrom().manifestKey());
      reward = CheckpointReader.load(store, spec.rewardFrom().manifestKey());
      if (spec.resumeFrom() != null) {
        resume = CheckpointReader.load(store, spec.resumeFrom().manifestKey());
      }
      data = TrainingInputs.prepareRlhf(spec, shape, store, init);
      byte[] rmTokenizer = reward.files().get("tokenizer.json");
      if (rmTokenizer != null
          && !BpeTokenizer.fromHuggingFaceJson(new String(rmTokenizer, StandardCharsets.UTF_8))
              .toHuggingFaceJson()
              .equals(data.tokenizer().toHuggingFaceJson())) {
        throw new IllegalArgumentException(
            "rewardFrom: the reward model "
                + spec.rewardFrom().manifestKey()
                + " has another tokenizer than the policy "
                + spec.initFrom().manifestKey()
                + "; both must come from the same pre-trained model");
      }
      policy =
          SafeTensors.read(
              init.file("model.safetensors"), init.manifestKey() + " model.safetensors");
      rm =
          SafeTensors.read(
              reward.file("model.safetensors"), reward.manifestKey() + " model.safetensors");
      events.log(
          "INFO",
          String.format(
              "rlhf: %d training prompts, %d held out; %d PTX datasets",
              data.prompts().size(), data.heldOut().size(), spec.datasets().size() - 1));
    } catch (RuntimeException e) {
      return exitFor(events, e);
    }
    try (PpoTrainer trainer =
        new PpoTrainer(
            spec,
            shape,
            data.tokenizer(),
            data.prompts(),
            data.heldOut(),
            data.ptx(),
            policy,
            rm,
            resume,
            store,
            events,
            true)) {
      current.set(trainer::requestStop);
      PpoTrainer.Result r = trainer.run();
      return switch (r.outcome()) {
        case FINISHED -> {
          PpoTrainer.Eval before = trainer.baseline();
          PpoTrainer.Eval after = trainer.evaluate(trainer.actor());
          Map<String, Double> summary = new LinkedHashMap<>();
          summary.put("mean_reward_before", before.meanReward());
          summary.put("mean_reward", after.meanReward());
          summary.put("kl", after.kl());
          summary.put("exact_match_before", before.exactMatch());
          summary.put("exact_match", after.exactMatch());
          summary.put("response_length", after.responseLength());
          summary.put("kl_coef", trainer.lastMetrics().getOrDefault("kl_coef", Double.NaN));
          summary.put("tokens_per_s", r.tokensPerSecond());
          summary.put("steps", (double) r.step());
          if (trainer.ema() != null) {
            PpoTrainer.Eval e = trainer.evaluate(trainer.ema());
            summary.put("ema_mean_reward", e.meanReward());
            summary.put("ema_exact_match", e.exactMatch());
          }
          events.log(
              "INFO",
              String.format(
                  "after rlhf on held-out prompts: mean reward %.3f (sft %.3f), KL %.3f nats,"
                      + " exact match %.3f (sft %.3f), %.1f tokens per response",
                  after.meanReward(),
                  before.meanReward(),
                  after.kl(),
                  after.exactMatch(),
                  before.exactMatch(),
                  after.responseLength()));
          String prefix = exportDir(r.lastCheckpoint().manifestKey(), "hf/");
          export(store, shape, trainer.actor(), data.tokenizer(), prefix);
          events.log(
              "INFO", "Hugging Face export (transformers loads it): " + store.describe(prefix));
          if (trainer.ema() != null) {
            String emaPrefix = exportDir(r.lastCheckpoint().manifestKey(), "hf-ema/");
            export(store, shape, trainer.ema(), data.tokenizer(), emaPrefix);
            events.log("INFO", "the actor's EMA, exported: " + store.describe(emaPrefix));
          }
          yield finished(events, r.step(), r.lastCheckpoint().manifestKey(), summary);
        }
        case UNSTABLE -> ExitCode.INSTABILITY.code();
        case PREEMPTED -> ExitCode.PREEMPTED.code();
      };
    } catch (RuntimeException e) {
      return exitFor(events, e);
    }
  }

  private static String exportDir(String manifestKey, String name) {
    return manifestKey.substring(0, manifestKey.lastIndexOf('/') + 1) + name;
  }

  private static void export(
      BlobStore store, ModelShape shape, Params p, BpeTokenizer tok, String prefix) {
    HfFormat.export(shape, DeviceSnapshot.host(p.all()), tok)
        .forEach((name, bytes) -> store.put(prefix + name, bytes));
  }

  private static RewardObjective.Eval rewardEval(
      PretrainTrainer trainer, ModelShape shape, TrainingInputs.RewardInputs prefs, RunSpec spec) {
    try (NDManager m = NDManager.newBaseManager()) {
      return RewardObjective.evaluate(
          new Transformer(shape), trainer.params(), m, prefs.batches(), spec.training().seqLen());
    }
  }

  /**
   * The starting weights: an Anneal checkpoint (its manifest key), or {@code hf:<prefix>} — a
   * Hugging Face LLaMA directory in the store (config.json, model.safetensors, tokenizer.json),
   * such as the {@code hf/} folder every finished stage writes.
   */
  static CheckpointReader.Loaded loadInit(BlobStore store, String key) {
    if (!key.startsWith("hf:")) {
      return CheckpointReader.load(store, key);
    }
    String prefix = key.substring(3).endsWith("/") ? key.substring(3) : key.substring(3) + "/";
    Map<String, byte[]> files = new LinkedHashMap<>();
    for (String f : List.of("config.json", "model.safetensors", "tokenizer.json")) {
      store.get(prefix + f).ifPresent(b -> files.put(f, b));
    }
    for (String f : List.of("config.json", "model.safetensors", "tokenizer.json")) {
      if (!files.containsKey(f)) {
        throw new TrainingInputs.MissingInputException(
            "initFrom: " + store.describe(prefix + f) + " does not exist");
      }
    }
    // refuses what is not a LLaMA directory; the weights are read once, by the trainer
    HfFormat.shape(files.get("config.json"), store.describe(prefix));
    return new CheckpointReader.Loaded(key, null, files);
  }

  /** Writes the final weights as a Hugging Face directory next to the final checkpoint. */
  private static String exportHuggingFace(
      BlobStore store,
      ModelShape shape,
      PretrainTrainer trainer,
      dev.anneal.runner.tokenizer.BpeTokenizer tok,
      PretrainTrainer.Result r) {
    String prefix = exportDir(r.lastCheckpoint().manifestKey(), "hf/");
    export(store, shape, trainer.params(), tok, prefix);
    return prefix;
  }

  /** Exact match on (up to 100 of) the held-out dialogues' last answers. */
  private static ChatEval.Result exactMatch(
      PretrainTrainer trainer, ModelShape shape, TrainingInputs.SftInputs chat) {
    try (NDManager m = NDManager.newBaseManager()) {
      return ChatEval.exactMatch(
          new Transformer(shape),
          trainer.params(),
          m,
          chat.tokenizer(),
          chat.template(),
          chat.batches().heldOut(),
          100,
          24);
    }
  }

  /**
   * The exit code of a failure, reported as a {@code failed} event: bad spec, missing input,
   * corrupt checkpoint, or a crash with where it happened. An injected crash sends nothing — the
   * platform sees only the exit code, as after a real one.
   */
  static int exitFor(EventLog events, RuntimeException e) {
    if (e instanceof PretrainTrainer.InjectedCrash) return ExitCode.CRASH.code();
    if (e instanceof CheckpointException) {
      return fail(events, ExitCode.CORRUPT_CHECKPOINT, e.getMessage());
    }
    if (e instanceof TrainingInputs.MissingInputException
        || e instanceof JsonlTexts.DataException) {
      return fail(events, ExitCode.INPUT_MISSING, e.getMessage());
    }
    if (e instanceof IllegalArgumentException) {
      return fail(events, ExitCode.INVALID_SPEC, e.getMessage());
    }
    return fail(events, ExitCode.CRASH, crashReason(e));
  }

  /** The exception and where in Anneal's code it was raised (the first frame of ours). */
  static String crashReason(RuntimeException e) {
    for (StackTraceElement f : e.getStackTrace()) {
      if (f.getClassName().startsWith("dev.anneal.")) {
        return e
            + " (at "
            + f.getClassName()
            + "."
            + f.getMethodName()
            + ":"
            + f.getLineNumber()
            + ")";
      }
    }
    return e.toString();
  }

  private static int finished(
      EventLog events, long step, String manifestKey, Map<String, Double> summary) {
    events.emit(s -> new RunnerEvent.Finished(s, Instant.now(), step, manifestKey, summary));
    return ExitCode.SUCCESS.code();
  }

  private static int fail(EventLog events, ExitCode code, String reason) {
    events.emit(s -> new RunnerEvent.Failed(s, Instant.now(), code.code(), reason));
    return code.code();
  }
}
