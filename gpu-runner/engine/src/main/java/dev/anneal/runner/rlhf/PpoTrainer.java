package dev.anneal.runner.rlhf;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.anneal.protocol.RlConfig;
import dev.anneal.protocol.RunSpec;
import dev.anneal.protocol.TrainingConfig;
import dev.anneal.runner.ckpt.BlobStore;
import dev.anneal.runner.ckpt.CheckpointException;
import dev.anneal.runner.ckpt.CheckpointReader;
import dev.anneal.runner.ckpt.CheckpointWriter;
import dev.anneal.runner.ckpt.DeviceSnapshot;
import dev.anneal.runner.ckpt.SafeTensors;
import dev.anneal.runner.ckpt.TrainerState;
import dev.anneal.runner.data.BatchSource;
import dev.anneal.runner.data.PromptData.Prompt;
import dev.anneal.runner.data.Sampler;
import dev.anneal.runner.events.EventLog;
import dev.anneal.runner.generate.Generator;
import dev.anneal.runner.model.Host;
import dev.anneal.runner.model.ModelShape;
import dev.anneal.runner.model.Params;
import dev.anneal.runner.model.Transformer;
import dev.anneal.runner.stability.InstabilityDetector;
import dev.anneal.runner.tokenizer.Tokenizer;
import dev.anneal.runner.train.AdamW;
import dev.anneal.runner.train.Devices;
import dev.anneal.runner.train.FaultInjector;
import dev.anneal.runner.train.LrSchedule;
import dev.anneal.runner.train.Outcome;
import dev.anneal.runner.train.RewardObjective;
import dev.anneal.runner.train.TrainingRuns;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * PPO-RLHF on the hybrid engine (InstructGPT's recipe, as DeepSpeed-Chat and OpenRLHF run it),
 * assembled from its parts. Four roles: the actor and a frozen reference start from the SFT
 * weights, the critic and a frozen reward model from the reward model's (its {@code score.weight}
 * head becomes the critic's value head).
 *
 * <p>Each step: {@link Rollouts} draws the step's prompts and the actor's own parameters generate
 * one response per prompt; {@link RolloutScoring} has the reference, critic and reward model score
 * them; {@link RlHealth} judges the rollouts; {@link RewardStats} shapes the scores, and {@link
 * Advantages} turns them, minus the per-token KL penalty of the {@link KlController}, into
 * advantages and returns; {@link PpoUpdate} trains the same parameters that generated. An optional
 * EMA follows the actor; {@link PolicyEval} measures held-out figures. A checkpoint ({@link
 * RlCheckpoint}) holds the whole RL state, so a resumed run reproduces the uninterrupted one.
 */
public final class PpoTrainer implements AutoCloseable {

  /** How the run ended. */
  public record Result(
      Outcome outcome,
      long step,
      InstabilityDetector.Trigger trigger,
      CheckpointWriter.Committed lastCheckpoint,
      double tokensPerSecond) {}

  private final RunSpec spec;
  private final TrainingConfig cfg;
  private final RlConfig rl;
  private final ModelShape shape;
  private final EventLog events;
  private final CheckpointWriter writer;
  private final NDManager root;
  private final Params actor;
  private final Params reference;
  private final Params critic;
  private final Params rewardModel;
  private final Params ema;
  private final AdamW actorOpt;
  private final AdamW criticOpt;
  private final LrSchedule actorLr;
  private final LrSchedule criticLr;
  private final Rollouts rollouts;
  private final RolloutScoring scoring;
  private final RlHealth health;
  private final RewardStats rewards;
  private final KlController kl;
  private final PpoUpdate update;
  private final PolicyEval eval;
  private final String tokenizerJson;
  private final AtomicBoolean stopRequested = new AtomicBoolean();

  private long step;
  private long generatedTokens;
  private final Map<String, Double> last = new LinkedHashMap<>();

  /**
   * @param policy the SFT weights (actor and reference)
   * @param reward the reward model's weights, with {@link RewardObjective#HEAD}
   * @param resume a checkpoint of this stage to continue exactly, or null
   * @param ptx batches of pre-training text for the PTX loss, or null
   */
  public PpoTrainer(
      RunSpec spec,
      ModelShape shape,
      Tokenizer tokenizer,
      List<Prompt> prompts,
      List<Prompt> heldOut,
      BatchSource ptx,
      Map<String, SafeTensors.HostTensor> policy,
      Map<String, SafeTensors.HostTensor> reward,
      CheckpointReader.Loaded resume,
      BlobStore store,
      EventLog events,
      boolean asyncCheckpoints) {
    this.spec = spec;
    this.cfg = spec.training();
    this.rl = spec.rl();
    this.shape = shape;
    this.events = events;
    this.tokenizerJson = tokenizer.toHuggingFaceJson();
    if (!cfg.precision().equals("fp32")) {
      throw new IllegalArgumentException(
          "training.precision: an rlhf stage trains in fp32 (got " + cfg.precision() + ")");
    }
    if (rl.maxNewTokens() >= cfg.seqLen()) {
      throw new IllegalArgumentException(
          String.format(
              "rl.maxNewTokens: %d leaves no room for the prompt in hyperparameters.seqLen %d",
              rl.maxNewTokens(), cfg.seqLen()));
    }
    if (cfg.seqLen() > shape.maxSeqLen()) {
      throw new IllegalArgumentException(
          String.format(
              "hyperparameters.seqLen: %d is longer than the model's context of %d",
              cfg.seqLen(), shape.maxSeqLen()));
    }
    if (rl.ptxCoef() > 0 && ptx == null) {
      throw new IllegalArgumentException(
          "rl.ptxCoef: PTX mixes in the language-model loss of the stage's further datasets,"
              + " but the stage has only its prompt dataset");
    }
    Transformer model = new Transformer(shape);
    this.root = Engine.getEngine("PyTorch").newBaseManager(Devices.of(spec.device()));
    RoleWeights roles = new RoleWeights(shape, root, spec.seed(), policy, reward);
    this.reference = roles.policy();
    this.rewardModel = roles.rewardModel();
    this.actor = roles.policy();
    this.critic = roles.rewardModel();
    this.ema = rl.emaDecay() == null ? null : roles.policy();
    this.actorOpt = new AdamW(root, cfg.beta1(), cfg.beta2(), cfg.eps(), cfg.weightDecay());
    this.criticOpt = new AdamW(root, cfg.beta1(), cfg.beta2(), cfg.eps(), cfg.weightDecay());
    this.actorLr = LrSchedule.of(cfg.lr(), cfg.warmupFraction(), cfg.steps(), cfg.minLrRatio());
    double cLr = rl.criticLr() != null ? rl.criticLr() : cfg.lr();
    this.criticLr = LrSchedule.of(cLr, cfg.warmupFraction(), cfg.steps(), cfg.minLrRatio());
    this.rollouts =
        Rollouts.of(model, tokenizer, prompts, rl, cfg.batchSize(), cfg.seqLen(), spec.seed());
    this.scoring = new RolloutScoring(model);
    this.health = new RlHealth(rl, spec.stability());
    this.rewards = new RewardStats(rl.normalizeRewards(), rl.rewardClip());
    this.kl = new KlController(rl.klCoef(), rl.klTarget(), rl.klHorizon());
    this.update =
        new PpoUpdate(
            spec,
            scoring,
            ptx,
            health,
            events,
            new PpoUpdate.Roles(actor, critic, actorOpt, criticOpt));
    this.eval =
        new PolicyEval(
            model,
            tokenizer,
            heldOut,
            rollouts,
            scoring,
            reference,
            rewardModel,
            rl.maxNewTokens(),
            spec.seed());
    this.writer = TrainingRuns.writer(spec, store, events, asyncCheckpoints);
    if (resume != null) {
      restore(resume);
    }
    actor.requireGradients();
    critic.requireGradients();
  }

  public void requestStop() {
    stopRequested.set(true);
  }

  /** The actor (the policy being trained). */
  public Params actor() {
    return actor;
  }

  /** The EMA of the actor, or null without {@code rl.emaDecay}. */
  public Params ema() {
    return ema;
  }

  /** The newest step's figures (reward, KL, lengths, losses, phase timings). */
  public Map<String, Double> lastMetrics() {
    return last;
  }

  public Result run() {
    FaultInjector faults = FaultInjector.arm(spec, events);
    if (!health.hasBaseline()) {
      PolicyFigures e0 = evaluate(actor);
      health.baseline(e0.meanReward(), e0.exactMatch());
    }
    events.log(
        "INFO",
        String.format(
            "ppo from step %d to %d: %d prompts (%d held out), %d per step, %d new tokens at most,"
                + " %d epochs, kl coefficient %.4g%s%s",
            step,
            cfg.steps(),
            rollouts.promptCount(),
            eval.heldOutCount(),
            cfg.batchSize(),
            rl.maxNewTokens(),
            rl.ppoEpochs(),
            kl.coef(),
            rl.klTarget() == null ? " (fixed)" : " (adaptive, target " + rl.klTarget() + ")",
            rl.ptxCoef() > 0 ? ", ptx " + rl.ptxCoef() : ""));
    long t0 = System.nanoTime();
    long tokensAtStart = generatedTokens;
    while (step < cfg.steps()) {
      if (stopRequested.get()) {
        events.log("WARN", "stop requested at step " + step + ": committing a checkpoint first");
        CheckpointWriter.Committed c = checkpointNow();
        return new Result(Outcome.PREEMPTED, step, null, c, rate(t0, tokensAtStart));
      }
      faults.crashIfDue(step);
      Optional<InstabilityDetector.Trigger> trigger = ppoStep(faults);
      if (trigger.isPresent()) {
        InstabilityDetector.Trigger t = trigger.get();
        CheckpointWriter.Committed newest = TrainingRuns.reportInstability(writer, events, t);
        return new Result(Outcome.UNSTABLE, step, t, newest, rate(t0, tokensAtStart));
      }
      if (step % spec.checkpoint().everySteps() == 0 && step < cfg.steps()) {
        writer.submit(capture());
      }
    }
    CheckpointWriter.Committed c = checkpointNow();
    return new Result(Outcome.FINISHED, step, null, c, rate(t0, tokensAtStart));
  }

  /** The baseline figures of the starting (SFT) policy, measured when the stage began. */
  public PolicyFigures baseline() {
    return new PolicyFigures(
        health.state().baselineReward(),
        0,
        health.state().baselineAccuracy(),
        Double.NaN,
        List.of());
  }

  /** A policy's held-out figures ({@link PolicyEval}). */
  public PolicyFigures evaluate(Params policy) {
    return eval.evaluate(policy, root);
  }

  private double rate(long t0, long tokensAtStart) {
    double seconds = (System.nanoTime() - t0) / 1e9;
    return seconds > 0 ? (generatedTokens - tokensAtStart) / seconds : 0;
  }

  private CheckpointWriter.Committed checkpointNow() {
    return TrainingRuns.checkpointNow(writer, step, this::capture);
  }

  /** One PPO step; a trigger if RL health stopped training (no update made). */
  private Optional<InstabilityDetector.Trigger> ppoStep(FaultInjector faults) {
    long s = step;
    long dataIndex = Sampler.dataBatchIndex(s, spec.stability().skipWindows());
    List<int[]> ids = rollouts.promptsFor(dataIndex).stream().map(rollouts::promptIds).toList();
    Map<String, Double> m = new LinkedHashMap<>();
    try (NDManager sm = root.newSubManager()) {
      // 1. generate: the actor's parameters in inference mode
      long t0 = System.nanoTime();
      Generator.Output out =
          rollouts.generate(actor, sm, ids, spec.seed() * 0x2545F4914F6CDD1DL + dataIndex);
      long t1 = System.nanoTime();
      Rollout r = rollouts.rollout(ids, out);
      // 2. score: reference, old policy, critic and reward model, without autograd
      RolloutScoring.PolicyScores actorScore = scoring.policy(actor, sm, r);
      float[] old = actorScore.logProbs();
      double entropy = Advantages.maskedMean(actorScore.entropy(), r.mask());
      float[] ref = scoring.logProbs(reference, sm, r).toFloatArray();
      float[] oldValues = scoring.values(critic, sm, r).toFloatArray();
      float[] raw = scoring.rewards(rewardModel, sm, r);
      long t2 = System.nanoTime();
      double meanScore = Advantages.mean(raw);
      double[] rowKl = new double[r.rows()];
      double klMean = 0;
      for (int i = 0; i < r.rows(); i++) {
        for (int j = 0; j < r.t(); j++) {
          int k = i * r.t() + j;
          if (r.mask()[k] > 0) rowKl[i] += old[k] - ref[k];
        }
        klMean += rowKl[i] / r.rows();
      }
      double meanLength = r.meanResponseLength();
      Optional<InstabilityDetector.Trigger> unhealthy =
          health.observe(s, dataIndex, meanScore, klMean, meanLength);
      if (unhealthy.isPresent()) return unhealthy;
      Advantages.Estimate gae =
          Advantages.of(
              r, old, ref, oldValues, rewards.shape(raw), kl.coef(), rl.gamma(), rl.lambda());
      // 3. train: PPO epochs over the rollouts, the same parameters that generated
      double lrA =
          faults.learningRate(
              s, actorLr.at(s) * spec.stability().lrFactor(), "actor learning rate");
      boolean poison = faults.poisons(s, "policy loss");
      double lrC = criticLr.at(s) * spec.stability().lrFactor();
      PpoUpdate.Applied applied =
          update.apply(sm, s, dataIndex, r, old, oldValues, gae, lrA, lrC, poison);
      if (applied.trigger() != null) return Optional.of(applied.trigger());
      PpoUpdate.Figures f = applied.figures();
      if (ema != null) followWithEma(sm);
      kl.observe(klMean, r.rows());
      long t3 = System.nanoTime();
      generatedTokens += out.generatedTokens();
      m.put("reward", meanScore);
      m.put("kl", klMean);
      m.put("kl_coef", kl.coef());
      m.put("response_length", meanLength);
      m.put("entropy", entropy);
      m.put("policy_loss", f.policyLoss());
      m.put("value_loss", f.valueLoss());
      if (rl.ptxCoef() > 0) m.put("ptx_loss", f.ptxLoss());
      m.put("clip_fraction", f.clipFraction());
      m.put("advantage_std", Advantages.maskedStd(gae.advantages(), r.mask()));
      m.put("grad_norm", f.actorNorm());
      m.put("critic_grad_norm", f.criticNorm());
      m.put("lr", lrA);
      m.put("generate_ms", (t1 - t0) / 1e6);
      m.put("score_ms", (t2 - t1) / 1e6);
      m.put("train_ms", (t3 - t2) / 1e6);
      m.put("step_ms", (t3 - t0) / 1e6);
      m.put("tokens_per_s", out.generatedTokens() / ((t1 - t0) / 1e9));
      m.put("data_batch", (double) dataIndex);
      // the loss a chart plots for every stage: here the policy loss
      m.put("loss", f.policyLoss());
    }
    events.metrics(step, m);
    last.clear();
    last.putAll(m);
    step++;
    if (rl.evalEvery() > 0 && step % rl.evalEvery() == 0 && step < cfg.steps()) {
      PolicyFigures e = evaluate(actor);
      events.metrics(
          step - 1,
          Map.of(
              "eval_reward", e.meanReward(),
              "eval_kl", e.kl(),
              "eval_exact_match", e.exactMatch()));
      events.log(
          "INFO",
          String.format(
              "step %d held-out: reward %.3f, KL %.3f, exact match %.3f; samples %s",
              step - 1, e.meanReward(), e.kl(), e.exactMatch(), e.samples()));
      return health.hacking(step - 1, e);
    }
    return Optional.empty();
  }

  /** The EMA takes {@code 1 - emaDecay} of the actor's new weights. */
  private void followWithEma(NDManager sm) {
    double d = rl.emaDecay();
    try (NDManager tmp = sm.newSubManager()) {
      for (var e : ema.all().entrySet()) {
        NDArray a = actor.get(e.getKey()).stopGradient();
        a.attach(tmp);
        NDArray scaled = a.mul((float) (1 - d));
        scaled.attach(tmp);
        e.getValue().muli((float) d).addi(scaled);
      }
    }
  }

  /** Native clones of the whole RL state; the checkpoint thread does the rest. */
  public DeviceSnapshot capture() {
    NDManager m = root.newSubManager();
    Map<String, NDArray> weights = RlCheckpoint.clones(actor.all(), m, "");
    Map<String, NDArray> opt = new LinkedHashMap<>();
    opt.putAll(RlCheckpoint.clones(actorOpt.state(), m, "actor/"));
    opt.putAll(RlCheckpoint.clones(criticOpt.state(), m, "critic/"));
    Map<String, Map<String, NDArray>> extra = new LinkedHashMap<>();
    extra.put(RlCheckpoint.CRITIC, RlCheckpoint.clones(critic.all(), m, ""));
    if (ema != null) extra.put(RlCheckpoint.EMA, RlCheckpoint.clones(ema.all(), m, ""));
    TrainerState state =
        new TrainerState(
            1,
            step,
            generatedTokens,
            Sampler.dataBatchIndex(step, spec.stability().skipWindows()),
            actorOpt.steps(),
            "adamw",
            1.0,
            0,
            spec.seed(),
            health.detector().state(),
            shape.toString());
    RewardStats.State r = rewards.state();
    RlHealth.State h = health.state();
    RlCheckpoint.RlState rs =
        new RlCheckpoint.RlState(
            1,
            kl.coef(),
            r.count(),
            r.mean(),
            r.m2(),
            h.firstLength(),
            h.shortInARow(),
            h.baselineReward(),
            h.baselineAccuracy(),
            update.criticSteps());
    return new DeviceSnapshot(
        step,
        m,
        weights,
        opt,
        state,
        tokenizerJson,
        RlCheckpoint.health(last),
        extra,
        Map.of(RlCheckpoint.RL_STATE, RlCheckpoint.json(rs)));
  }

  private void restore(CheckpointReader.Loaded ckpt) {
    String at = ckpt.manifestKey();
    RlCheckpoint.RlState rs = RlCheckpoint.read(ckpt);
    RlCheckpoint.copyInto(actor, ckpt, "model.safetensors", root);
    RlCheckpoint.copyInto(critic, ckpt, RlCheckpoint.CRITIC, root);
    if (ema != null) {
      if (!ckpt.files().containsKey(RlCheckpoint.EMA)) {
        throw new CheckpointException(
            "resumeFrom: " + at + " has no EMA weights but rl.emaDecay is set");
      }
      RlCheckpoint.copyInto(ema, ckpt, RlCheckpoint.EMA, root);
    }
    TrainerState state = ckpt.state();
    Map<String, NDArray> a = new LinkedHashMap<>();
    Map<String, NDArray> c = new LinkedHashMap<>();
    try (NDManager tmp = root.newSubManager()) {
      SafeTensors.read(ckpt.file("optimizer.safetensors"), at + " optimizer.safetensors")
          .forEach(
              (k, v) -> {
                NDArray x = Host.floats(tmp, v.data(), new Shape(v.shape()));
                if (k.startsWith("actor/")) a.put(k.substring(6), x);
                else if (k.startsWith("critic/")) c.put(k.substring(7), x);
                else throw new CheckpointException(at + ": unexpected optimizer tensor " + k);
              });
      actorOpt.load(a, state.optimizerSteps());
      criticOpt.load(c, rs.criticSteps());
    }
    step = state.step();
    generatedTokens = state.tokensSeen();
    health.detector().restore(state.detector());
    kl.restore(rs.klCoef());
    rewards.restore(new RewardStats.State(rs.rewardCount(), rs.rewardMean(), rs.rewardM2()));
    health.restore(
        new RlHealth.State(
            rs.firstLength(), rs.shortInARow(), rs.baselineReward(), rs.baselineAccuracy()));
    update.restoreCriticSteps(rs.criticSteps());
    events.log("INFO", "resumed the whole RL state from " + at + " at step " + step);
  }

  @Override
  public void close() {
    try {
      writer.close();
    } finally {
      actorOpt.close();
      criticOpt.close();
      root.close();
    }
  }
}
