package dev.anneal.runner.stage;

import dev.anneal.protocol.ExitCode;
import dev.anneal.protocol.RunSpec;
import dev.anneal.runner.ckpt.BlobStore;
import dev.anneal.runner.ckpt.CheckpointReader;
import dev.anneal.runner.ckpt.ModelWeights;
import dev.anneal.runner.ckpt.SafeTensors;
import dev.anneal.runner.events.EventLog;
import dev.anneal.runner.hf.StageShape;
import dev.anneal.runner.model.ModelShape;
import dev.anneal.runner.rlhf.PolicyFigures;
import dev.anneal.runner.rlhf.PpoTrainer;
import dev.anneal.runner.tokenizer.Tokenizers;
import dev.anneal.runner.train.TrainingInputs;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

/**
 * An RLHF stage: the actor and reference from {@code initFrom}, the critic and reward model from
 * {@code rewardFrom}, PPO until the step budget, then held-out figures before and after, and the
 * actor (and its EMA) exported.
 */
final class RlhfRun implements StageRun {

  @Override
  public int run(
      RunSpec spec, BlobStore store, EventLog events, AtomicReference<Runnable> current) {
    if (spec.initFrom() == null) {
      throw new IllegalArgumentException(
          "initFrom: an rlhf stage starts from a fine-tuned (sft) checkpoint");
    }
    CheckpointReader.Loaded init = InitWeights.load(store, spec.initFrom().manifestKey());
    ModelShape shape = StageShape.of(spec, init);
    CheckpointReader.Loaded reward = CheckpointReader.load(store, spec.rewardFrom().manifestKey());
    CheckpointReader.Loaded resume = null;
    if (spec.resumeFrom() != null) {
      resume = CheckpointReader.load(store, spec.resumeFrom().manifestKey());
    }
    TrainingInputs.RlInputs data = TrainingInputs.prepareRlhf(spec, shape, store, init);
    byte[] rmTokenizer = reward.files().get("tokenizer.json");
    if (rmTokenizer != null
        && !Tokenizers.fromJson(new String(rmTokenizer, StandardCharsets.UTF_8))
            .toHuggingFaceJson()
            .equals(data.tokenizer().toHuggingFaceJson())) {
      throw new IllegalArgumentException(
          "rewardFrom: the reward model "
              + spec.rewardFrom().manifestKey()
              + " has another tokenizer than the policy "
              + spec.initFrom().manifestKey()
              + "; both must come from the same pre-trained model");
    }
    Map<String, SafeTensors.HostTensor> policy =
        ModelWeights.read(init.files(), init.manifestKey());
    Map<String, SafeTensors.HostTensor> rm =
        ModelWeights.read(reward.files(), reward.manifestKey());
    events.log(
        "INFO",
        String.format(
            "rlhf: %d training prompts, %d held out; %d PTX datasets",
            data.prompts().size(), data.heldOut().size(), spec.datasets().size() - 1));
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
        case FINISHED -> finished(spec, store, events, shape, data, trainer, r);
        case UNSTABLE -> ExitCode.INSTABILITY.code();
        case PREEMPTED -> ExitCode.PREEMPTED.code();
      };
    }
  }

  private static int finished(
      RunSpec spec,
      BlobStore store,
      EventLog events,
      ModelShape shape,
      TrainingInputs.RlInputs data,
      PpoTrainer trainer,
      PpoTrainer.Result r) {
    PolicyFigures before = trainer.baseline();
    PolicyFigures after = trainer.evaluate(trainer.actor());
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
      PolicyFigures e = trainer.evaluate(trainer.ema());
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
    String manifest = r.lastCheckpoint().manifestKey();
    String prefix =
        Exports.huggingFace(
            store,
            spec,
            shape,
            trainer.actor(),
            data.tokenizer(),
            r.step(),
            summary,
            Exports.beside(manifest, "hf/"));
    events.log("INFO", "Hugging Face export (transformers loads it): " + store.describe(prefix));
    if (trainer.ema() != null) {
      String emaPrefix =
          Exports.huggingFace(
              store,
              spec,
              shape,
              trainer.ema(),
              data.tokenizer(),
              r.step(),
              summary,
              Exports.beside(manifest, "hf-ema/"));
      events.log("INFO", "the actor's EMA, exported: " + store.describe(emaPrefix));
    }
    return Reports.finished(events, r.step(), manifest, summary);
  }
}
