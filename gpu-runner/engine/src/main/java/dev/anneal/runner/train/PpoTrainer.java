package dev.anneal.runner.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.core.JsonProcessingException;
import dev.anneal.protocol.CheckpointManifest;
import dev.anneal.protocol.FaultInjection;
import dev.anneal.protocol.ProtocolJson;
import dev.anneal.protocol.RlConfig;
import dev.anneal.protocol.RunSpec;
import dev.anneal.protocol.RunnerEvent.InstabilityKind;
import dev.anneal.protocol.StabilityConfig;
import dev.anneal.protocol.TrainingConfig;
import dev.anneal.runner.ckpt.BlobStore;
import dev.anneal.runner.ckpt.CheckpointException;
import dev.anneal.runner.ckpt.CheckpointReader;
import dev.anneal.runner.ckpt.CheckpointWriter;
import dev.anneal.runner.ckpt.DeviceSnapshot;
import dev.anneal.runner.ckpt.SafeTensors;
import dev.anneal.runner.ckpt.TrainerState;
import dev.anneal.runner.data.BatchSource;
import dev.anneal.runner.data.ChatTemplate;
import dev.anneal.runner.data.PromptData.Prompt;
import dev.anneal.runner.data.Sampler;
import dev.anneal.runner.eval.ChatEval;
import dev.anneal.runner.events.EventLog;
import dev.anneal.runner.generate.Generator;
import dev.anneal.runner.model.Host;
import dev.anneal.runner.model.ModelShape;
import dev.anneal.runner.model.Params;
import dev.anneal.runner.model.Transformer;
import dev.anneal.runner.stability.InstabilityDetector;
import dev.anneal.runner.tokenizer.BpeTokenizer;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * PPO-RLHF on the hybrid engine (InstructGPT's recipe, as DeepSpeed-Chat and OpenRLHF run it). Four
 * roles: the actor and a frozen reference start from the SFT weights, the critic and a frozen
 * reward model from the reward model's (its {@code score.weight} head becomes the critic's value
 * head).
 *
 * <p>Each step: the actor's own parameters generate one response per prompt in inference mode (KV
 * cache, no autograd, no copy of the weights); the reference, critic and reward model score the
 * rollouts; the reward is the reward model's clipped (optionally whitened) score at the last token
 * minus a per-token KL penalty {@code klCoef * (log pi - log ref)}; GAE gives advantages and
 * returns; {@code ppoEpochs} passes of the clipped policy loss (plus the optional PTX
 * language-model loss) and the clipped value loss update the same parameters that generated. An
 * adaptive controller moves {@code klCoef} towards a KL target; an optional EMA follows the actor.
 *
 * <p>RL health (KL blow-up, reward collapse, reward hacking, length collapse, non-finite or
 * exploding gradients) ends the attempt with an instability event, as a loss spike does, so the
 * platform rolls back. A checkpoint holds the whole RL state — actor, critic, both optimisers, EMA,
 * KL controller, reward statistics, health baselines; the prompt cursor and every sampling seed are
 * functions of the step — so a resumed run reproduces the uninterrupted one.
 */
public final class PpoTrainer implements AutoCloseable {

  /** How the run ended. */
  public record Result(
      PretrainTrainer.Outcome outcome,
      long step,
      InstabilityDetector.Trigger trigger,
      CheckpointWriter.Committed lastCheckpoint,
      double tokensPerSecond) {}

  /** What a checkpoint keeps of the RL state besides tensors ({@code rl-state.json}). */
  public record RlState(
      int formatVersion,
      double klCoef,
      long rewardCount,
      double rewardMean,
      double rewardM2,
      double firstLength,
      int shortInARow,
      double baselineReward,
      double baselineAccuracy,
      long criticSteps) {}

  /** Held-out figures of a policy: sampled responses' reward and KL, greedy exact match. */
  public record Eval(
      double meanReward,
      double kl,
      double exactMatch,
      double responseLength,
      List<String> samples) {}

  static final String RL_STATE = "rl-state.json";
  static final String CRITIC = "critic.safetensors";
  static final String EMA = "ema.safetensors";
  private static final int EVAL_PROMPTS = 64;

  private final RunSpec spec;
  private final TrainingConfig cfg;
  private final RlConfig rl;
  private final ModelShape shape;
  private final Transformer model;
  private final BpeTokenizer tokenizer;
  private final ChatTemplate template;
  private final List<Prompt> prompts;
  private final List<Prompt> heldOut;
  private final BatchSource ptx;
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
  private final InstabilityDetector detector;
  private final Generator generator;
  private final int pad;
  private final Set<Integer> stops;
  private final String tokenizerJson;
  private final AtomicBoolean stopRequested = new AtomicBoolean();

  private long step;
  private long generatedTokens;
  private double klCoef;
  private long rewardCount;
  private double rewardMean;
  private double rewardM2;
  private double firstLength = Double.NaN;
  private int shortInARow;
  private int skippedInARow;
  private double baselineReward = Double.NaN;
  private double baselineAccuracy = Double.NaN;
  private long criticSteps;
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
      BpeTokenizer tokenizer,
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
    this.model = new Transformer(shape);
    this.tokenizer = tokenizer;
    this.template = new ChatTemplate(tokenizer);
    this.prompts = List.copyOf(prompts);
    this.heldOut = List.copyOf(heldOut);
    this.ptx = ptx;
    this.events = events;
    this.tokenizerJson = tokenizer.toHuggingFaceJson();
    if (!cfg.precision().equals("fp32")) {
      throw new IllegalArgumentException(
          "training.precision: an rlhf stage trains in fp32 (got " + cfg.precision() + ")");
    }
    if (rl.maxNewTokens() >= cfg.seqLen()) {
      throw new IllegalArgumentException(
          "rl.maxNewTokens: "
              + rl.maxNewTokens()
              + " leaves no room for the prompt in hyperparameters.seqLen "
              + cfg.seqLen());
    }
    if (cfg.seqLen() > shape.maxSeqLen()) {
      throw new IllegalArgumentException(
          "hyperparameters.seqLen: "
              + cfg.seqLen()
              + " is longer than the model's context of "
              + shape.maxSeqLen());
    }
    if (rl.ptxCoef() > 0 && ptx == null) {
      throw new IllegalArgumentException(
          "rl.ptxCoef: PTX mixes in the language-model loss of the stage's further datasets,"
              + " but the stage has only its prompt dataset");
    }
    if (!reward.containsKey(RewardObjective.HEAD)) {
      throw new CheckpointException(
          "rewardFrom: the checkpoint has no " + RewardObjective.HEAD + " (not a reward model)");
    }
    this.root = Engine.getEngine("PyTorch").newBaseManager(PretrainTrainer.device(spec.device()));
    Map<String, Shape> expected = new LinkedHashMap<>();
    try (Params fresh = Params.init(shape, root, spec.seed(), DataType.FLOAT32)) {
      fresh.all().forEach((name, value) -> expected.put(name, value.getShape()));
    }
    check(policy, expected, "initFrom");
    check(reward, expected, "rewardFrom");
    this.reference = load(policy, expected, false);
    this.rewardModel = load(reward, expected, true);
    this.actor = load(policy, expected, false);
    this.critic = load(reward, expected, true);
    this.ema = rl.emaDecay() == null ? null : load(policy, expected, false);
    this.actorOpt = new AdamW(root, cfg.beta1(), cfg.beta2(), cfg.eps(), cfg.weightDecay());
    this.criticOpt = new AdamW(root, cfg.beta1(), cfg.beta2(), cfg.eps(), cfg.weightDecay());
    this.actorLr = LrSchedule.of(cfg.lr(), cfg.warmupFraction(), cfg.steps(), cfg.minLrRatio());
    double cLr = rl.criticLr() != null ? rl.criticLr() : cfg.lr();
    this.criticLr = LrSchedule.of(cLr, cfg.warmupFraction(), cfg.steps(), cfg.minLrRatio());
    // reward collapse is judged on the reward's shortfall by standard deviations only: a ratio
    // test on a shortfall near zero would fire on ordinary batch-to-batch noise
    StabilityConfig st = spec.stability();
    this.detector =
        new InstabilityDetector(
            new StabilityConfig(
                st.spikeZ(),
                Double.MAX_VALUE,
                st.spikeConsecutive(),
                st.spikeWindow(),
                st.gradNormLimit(),
                st.ignoreFirstSteps(),
                st.lrFactor(),
                st.skipWindows()));
    this.pad =
        tokenizer.specialTokens().contains("<|pad|>")
            ? tokenizer.id("<|pad|>")
            : tokenizer.id(tokenizer.specialTokens().get(0));
    this.generator = new Generator(model, pad, tokenizer.vocabSize());
    this.stops = Set.of(template.endToken(), tokenizer.id(tokenizer.specialTokens().get(0)));
    this.klCoef = rl.klCoef();
    this.writer = TrainingRuns.writer(spec, store, events, asyncCheckpoints);
    if (resume != null) {
      restore(resume);
    }
    actor.requireGradients();
    critic.requireGradients();
  }

  /** Refuses weights that are not the spec's model: a missing tensor or another shape. */
  private static void check(
      Map<String, SafeTensors.HostTensor> w, Map<String, Shape> expected, String what) {
    for (var e : expected.entrySet()) {
      SafeTensors.HostTensor t = w.get(e.getKey());
      if (t == null || !e.getValue().equals(new Shape(t.shape()))) {
        throw new CheckpointException(
            what
                + ": "
                + e.getKey()
                + (t == null
                    ? " is missing"
                    : " has shape "
                        + new Shape(t.shape())
                        + ", the spec's model needs "
                        + e.getValue())
                + " (a checkpoint of another model shape?)");
      }
    }
  }

  /** A device copy of checked weights (the model's, and the reward head if asked). */
  private Params load(
      Map<String, SafeTensors.HostTensor> w, Map<String, Shape> expected, boolean withHead) {
    Params p = Params.empty(root);
    for (String name : expected.keySet()) {
      SafeTensors.HostTensor t = w.get(name);
      p.put(name, Host.floats(root, t.data(), new Shape(t.shape())));
    }
    if (withHead) {
      SafeTensors.HostTensor h = w.get(RewardObjective.HEAD);
      p.put(RewardObjective.HEAD, Host.floats(root, h.data(), new Shape(h.shape())));
    }
    return p;
  }

  public void requestStop() {
    stopRequested.set(true);
  }

  public long step() {
    return step;
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
    FaultInjection inject = spec.inject();
    boolean injecting = TrainingRuns.injecting(spec, events);
    if (Double.isNaN(baselineReward)) {
      Eval e0 = evaluate(actor);
      baselineReward = e0.meanReward();
      baselineAccuracy = e0.exactMatch();
    }
    events.log(
        "INFO",
        String.format(
            "ppo from step %d to %d: %d prompts (%d held out), %d per step, %d new tokens at most,"
                + " %d epochs, kl coefficient %.4g%s%s",
            step,
            cfg.steps(),
            prompts.size(),
            heldOut.size(),
            cfg.batchSize(),
            rl.maxNewTokens(),
            rl.ppoEpochs(),
            klCoef,
            rl.klTarget() == null ? " (fixed)" : " (adaptive, target " + rl.klTarget() + ")",
            rl.ptxCoef() > 0 ? ", ptx " + rl.ptxCoef() : ""));
    long t0 = System.nanoTime();
    long tokensAtStart = generatedTokens;
    while (step < cfg.steps()) {
      if (stopRequested.get()) {
        events.log("WARN", "stop requested at step " + step + ": committing a checkpoint first");
        CheckpointWriter.Committed c = checkpointNow();
        return new Result(
            PretrainTrainer.Outcome.PREEMPTED, step, null, c, rate(t0, tokensAtStart));
      }
      TrainingRuns.crashIfInjected(inject, injecting, step, events);
      Optional<InstabilityDetector.Trigger> trigger = ppoStep(injecting ? inject : null);
      if (trigger.isPresent()) {
        InstabilityDetector.Trigger t = trigger.get();
        CheckpointWriter.Committed newest = TrainingRuns.reportInstability(writer, events, t);
        return new Result(
            PretrainTrainer.Outcome.UNSTABLE, step, t, newest, rate(t0, tokensAtStart));
      }
      if (step % spec.checkpoint().everySteps() == 0 && step < cfg.steps()) {
        writer.submit(capture());
      }
    }
    CheckpointWriter.Committed c = checkpointNow();
    return new Result(PretrainTrainer.Outcome.FINISHED, step, null, c, rate(t0, tokensAtStart));
  }

  /** The baseline figures of the starting (SFT) policy, measured when the stage began. */
  public Eval baseline() {
    return new Eval(baselineReward, 0, baselineAccuracy, Double.NaN, List.of());
  }

  private double rate(long t0, long tokensAtStart) {
    double seconds = (System.nanoTime() - t0) / 1e9;
    return seconds > 0 ? (generatedTokens - tokensAtStart) / seconds : 0;
  }

  private CheckpointWriter.Committed checkpointNow() {
    return TrainingRuns.checkpointNow(writer, step, this::capture);
  }

  /** Prompt indices of a data batch: a seeded permutation of the prompts per pass. */
  List<Prompt> promptsFor(long dataIndex) {
    int b = cfg.batchSize();
    int n = prompts.size();
    List<Prompt> out = new ArrayList<>(b);
    for (int i = 0; i < b; i++) {
      long k = dataIndex * b + i;
      long pass = k / n;
      int[] order = permutation(n, spec.seed() ^ (pass * 0x9E3779B97F4A7C15L));
      out.add(prompts.get(order[(int) (k % n)]));
    }
    return out;
  }

  private static int[] permutation(int n, long seed) {
    int[] p = new int[n];
    for (int i = 0; i < n; i++) p[i] = i;
    SplittableRandom r = new SplittableRandom(seed);
    for (int i = n - 1; i > 0; i--) {
      int j = r.nextInt(i + 1);
      int t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }

  /** A batch of prompt + response rows, right-padded, in the frame of next-token prediction. */
  record Rollout(
      int rows,
      int t,
      long[] inputs,
      long[] targets,
      float[] mask,
      int[] promptLength,
      int[] responseLength) {

    /** Index in the full sequence of row r's last real token. */
    int lastToken(int r) {
      return promptLength[r] + responseLength[r] - 1;
    }
  }

  private int[] promptIds(Prompt p) {
    int[] ids = template.prompt(p.messages());
    int room = cfg.seqLen() - rl.maxNewTokens();
    return ids.length <= room ? ids : Arrays.copyOfRange(ids, ids.length - room, ids.length);
  }

  private Rollout rollout(List<int[]> promptIds, List<int[]> responses) {
    return rollout(promptIds, responses, pad);
  }

  static Rollout rollout(List<int[]> promptIds, List<int[]> responses, int pad) {
    int b = promptIds.size();
    int[] pl = new int[b];
    int[] rlen = new int[b];
    int full = 0;
    for (int r = 0; r < b; r++) {
      pl[r] = promptIds.get(r).length;
      rlen[r] = responses.get(r).length;
      full = Math.max(full, pl[r] + rlen[r]);
    }
    int t = full - 1;
    long[] x = new long[b * t];
    long[] y = new long[b * t];
    float[] mask = new float[b * t];
    for (int r = 0; r < b; r++) {
      int[] seq = new int[full];
      Arrays.fill(seq, pad);
      System.arraycopy(promptIds.get(r), 0, seq, 0, pl[r]);
      System.arraycopy(responses.get(r), 0, seq, pl[r], rlen[r]);
      for (int j = 0; j < t; j++) {
        x[r * t + j] = seq[j];
        y[r * t + j] = seq[j + 1];
        // position j predicts token j + 1: an action when that token is the response's
        mask[r * t + j] = j + 1 >= pl[r] && j + 1 < pl[r] + rlen[r] ? 1f : 0f;
      }
    }
    return new Rollout(b, t, x, y, mask, pl, rlen);
  }

  /** Per-position log-probability of the next token {@code [B, t]}. */
  private NDArray logProbs(Params p, NDManager m, Rollout r) {
    Shape s = new Shape(r.rows(), r.t());
    NDArray logits =
        model.logits(
            p,
            Host.longs(m, r.inputs(), s),
            Transformer.mask(m, r.rows(), r.t(), null, DataType.FLOAT32));
    NDArray y = Host.longs(m, r.targets(), s);
    return logits.logSoftmax(-1).gather(y.expandDims(-1), -1).squeeze(-1);
  }

  /**
   * The old policy's scores of a rollout, without autograd: per-position log-probability of the
   * token taken and the entropy of the distribution it was drawn from ({@code [B * t]} each). A
   * policy whose entropy collapses has stopped exploring.
   */
  private float[][] logProbsAndEntropy(Params p, NDManager m, Rollout r) {
    Shape s = new Shape(r.rows(), r.t());
    NDArray logits =
        model.logits(
            p,
            Host.longs(m, r.inputs(), s),
            Transformer.mask(m, r.rows(), r.t(), null, DataType.FLOAT32));
    NDArray ls = logits.logSoftmax(-1);
    NDArray y = Host.longs(m, r.targets(), s);
    float[] lp = ls.gather(y.expandDims(-1), -1).squeeze(-1).toFloatArray();
    float[] entropy = ls.exp().mul(ls).sum(new int[] {-1}).neg().toFloatArray();
    return new float[][] {lp, entropy};
  }

  private static double maskedMean(float[] v, float[] mask) {
    double sum = 0;
    double n = 0;
    for (int i = 0; i < v.length; i++) {
      sum += v[i] * mask[i];
      n += mask[i];
    }
    return n == 0 ? 0 : sum / n;
  }

  /** The critic's value of every position's state {@code [B, t]}. */
  private NDArray values(Params p, NDManager m, Rollout r) {
    Shape s = new Shape(r.rows(), r.t());
    NDArray h =
        model.hidden(
            p,
            Host.longs(m, r.inputs(), s),
            Transformer.mask(m, r.rows(), r.t(), null, DataType.FLOAT32));
    return Linear.linear(h, p.get(RewardObjective.HEAD)).singletonOrThrow().squeeze(-1);
  }

  /** The reward model's score of each whole row, read at its last real token. */
  private float[] scores(NDManager m, Rollout r) {
    int full = r.t() + 1;
    long[] seq = new long[r.rows() * full];
    float[] onehot = new float[r.rows() * full];
    for (int i = 0; i < r.rows(); i++) {
      System.arraycopy(r.inputs(), i * r.t(), seq, i * full, r.t());
      seq[i * full + r.t()] = r.targets()[i * r.t() + r.t() - 1];
      onehot[i * full + r.lastToken(i)] = 1f;
    }
    Shape s = new Shape(r.rows(), full);
    return RewardObjective.rewards(
            model,
            rewardModel,
            Host.longs(m, seq, s),
            Transformer.mask(m, r.rows(), full, null, DataType.FLOAT32),
            Host.floats(m, onehot, s))
        .toFloatArray();
  }

  private Generator.Sampling sampling(long seed) {
    return new Generator.Sampling(rl.temperature(), rl.topP(), rl.maxNewTokens(), stops, seed);
  }

  /** One PPO step; a trigger if RL health stopped training (no update made). */
  private Optional<InstabilityDetector.Trigger> ppoStep(FaultInjection inject) {
    long s = step;
    long dataIndex = Sampler.dataBatchIndex(s, spec.stability().skipWindows());
    List<Prompt> batch = promptsFor(dataIndex);
    List<int[]> ids = batch.stream().map(this::promptIds).toList();
    Map<String, Double> m = new LinkedHashMap<>();
    try (NDManager sm = root.newSubManager()) {
      // 1. generate: the actor's parameters in inference mode
      long t0 = System.nanoTime();
      Generator.Output out =
          generator.generate(
              actor, sm, ids, sampling(spec.seed() * 0x2545F4914F6CDD1DL + dataIndex));
      long t1 = System.nanoTime();
      Rollout r = rollout(ids, out.tokens());
      // 2. score: reference, old policy, critic and reward model, without autograd
      float[][] actorScore = logProbsAndEntropy(actor, sm, r);
      float[] old = actorScore[0];
      double entropy = maskedMean(actorScore[1], r.mask());
      float[] ref = logProbs(reference, sm, r).toFloatArray();
      float[] oldValues = values(critic, sm, r).toFloatArray();
      float[] raw = scores(sm, r);
      long t2 = System.nanoTime();
      double meanScore = mean(raw);
      double[] kl = new double[r.rows()];
      double klMean = 0;
      for (int i = 0; i < r.rows(); i++) {
        for (int j = 0; j < r.t(); j++) {
          int k = i * r.t() + j;
          if (r.mask()[k] > 0) kl[i] += old[k] - ref[k];
        }
        klMean += kl[i] / r.rows();
      }
      double meanLength = Arrays.stream(r.responseLength()).average().orElse(0);
      if (Double.isNaN(firstLength)) firstLength = meanLength;
      Optional<InstabilityDetector.Trigger> health =
          health(s, dataIndex, meanScore, klMean, meanLength);
      if (health.isPresent()) return health;
      float[] shaped = shapeScores(raw);
      float[][] gae = advantages(r, old, ref, oldValues, shaped);
      // 3. train: PPO epochs over the rollouts, the same parameters that generated
      double lrA = actorLr.at(s) * spec.stability().lrFactor();
      if (inject != null
          && inject.spikeAtStep() != null
          && s >= inject.spikeAtStep()
          && s < inject.spikeAtStep() + inject.spikeSteps()) {
        lrA *= inject.spikeLrMultiplier();
        if (s == inject.spikeAtStep()) {
          events.log(
              "WARN",
              String.format(
                  "FAULT INJECTION: actor learning rate x%.0f for steps %d-%d",
                  inject.spikeLrMultiplier(), s, s + inject.spikeSteps() - 1));
        }
      }
      boolean poison = inject != null && inject.nanAtStep() != null && s == inject.nanAtStep();
      if (poison) events.log("WARN", "FAULT INJECTION: NaN policy loss at step " + s);
      double lrC = criticLr.at(s) * spec.stability().lrFactor();
      double policyLoss = 0;
      double valueLoss = 0;
      double ptxLoss = 0;
      double clipFrac = 0;
      double actorNorm = 0;
      double criticNorm = 0;
      for (int epoch = 0; epoch < rl.ppoEpochs(); epoch++) {
        try (NDManager em = sm.newSubManager()) {
          Shape shp = new Shape(r.rows(), r.t());
          NDArray mask = Host.floats(em, r.mask(), shp);
          NDArray count = mask.sum().maximum(1f);
          NDArray adv = Host.floats(em, gae[0], shp);
          NDArray oldLp = Host.floats(em, old, shp);
          // the critic's warm-up: the actor waits until the critic has learned the returns
          if (s >= rl.freezeActorSteps()) {
            NDArray loss;
            NDArray ratio;
            try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
              ratio = logProbs(actor, em, r).sub(oldLp).exp();
              NDArray unclipped = adv.mul(ratio).neg();
              float lo = (float) (1 - rl.clipRange());
              float hi = (float) (1 + rl.clipRange());
              NDArray clipped = adv.mul(ratio.clip(lo, hi)).neg();
              loss = unclipped.maximum(clipped).mul(mask).sum().div(count);
              policyLoss = loss.getFloat();
              if (rl.ptxCoef() > 0) {
                NDArray lm = ptxLoss(em, dataIndex);
                ptxLoss = lm.getFloat();
                loss = loss.add(lm.mul(Host.scalar(lm, rl.ptxCoef())));
              }
              if (poison) loss = loss.mul(Host.scalar(loss, Double.NaN));
              gc.backward(loss);
            }
            clipFrac =
                ratio
                    .sub(1f)
                    .abs()
                    .gt(rl.clipRange().floatValue())
                    .toType(DataType.FLOAT32, false)
                    .mul(mask)
                    .sum()
                    .div(count)
                    .getFloat();
            actorNorm = update(actor, actorOpt, em, lrA, true);
            boolean finiteLoss = Double.isFinite(loss.getFloat());
            if (finiteLoss && !Double.isFinite(actorNorm)) {
              // a finite loss with a non-finite gradient: skipped, as the pre-training loop does
              // (docs/engine.md); a run of them is an explosion
              skippedInARow++;
              events.log(
                  "WARN",
                  String.format(
                      "non-finite actor gradient at step %d with finite policy loss %.4g: update"
                          + " skipped (%d in a row)",
                      s, loss.getFloat(), skippedInARow));
            } else if (finiteLoss && healthy(actorNorm)) {
              skippedInARow = 0;
            }
            if (!finiteLoss
                || (Double.isFinite(actorNorm) && !healthy(actorNorm))
                || skippedInARow >= spec.stability().spikeConsecutive()) {
              return Optional.of(
                  trigger(
                      Double.isFinite(loss.getFloat())
                          ? InstabilityKind.GRADIENT_EXPLOSION
                          : InstabilityKind.NON_FINITE_LOSS,
                      s,
                      Double.isFinite(loss.getFloat()) ? actorNorm : loss.getFloat(),
                      spec.stability().gradNormLimit(),
                      dataIndex,
                      "policy loss "
                          + loss.getFloat()
                          + ", actor gradient norm "
                          + actorNorm
                          + " at step "
                          + s
                          + " (update not applied)"));
            }
          }
          NDArray ret = Host.floats(em, gae[1], shp);
          NDArray oldV = Host.floats(em, oldValues, shp);
          NDArray vLoss;
          try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
            NDArray v = values(critic, em, r);
            float vc = rl.valueClip().floatValue();
            NDArray vClipped = oldV.add(v.sub(oldV).clip(-vc, vc));
            vLoss =
                v.sub(ret)
                    .square()
                    .maximum(vClipped.sub(ret).square())
                    .mul(mask)
                    .sum()
                    .div(count)
                    .div(Host.scalar(count, 2));
            gc.backward(vLoss);
          }
          valueLoss = vLoss.getFloat();
          criticNorm = update(critic, criticOpt, em, lrC, false);
          // the critic starts far from the returns (the reward model was trained at the last token
          // only), so large early norms are expected: only a non-finite one counts, and with a
          // finite value loss it is skipped like the actor's
          if (!Double.isFinite(valueLoss)
              || (!Double.isFinite(criticNorm)
                  && ++skippedInARow >= spec.stability().spikeConsecutive())) {
            return Optional.of(
                trigger(
                    InstabilityKind.GRADIENT_EXPLOSION,
                    s,
                    criticNorm,
                    spec.stability().gradNormLimit(),
                    dataIndex,
                    "value loss "
                        + valueLoss
                        + ", critic gradient norm "
                        + criticNorm
                        + " at step "
                        + s
                        + " (not applied)"));
          }
          if (!Double.isFinite(criticNorm)) {
            events.log(
                "WARN",
                String.format(
                    "non-finite critic gradient at step %d with finite value loss %.4g: update"
                        + " skipped (%d in a row)",
                    s, valueLoss, skippedInARow));
            continue;
          }
          criticSteps++;
        }
      }
      if (ema != null) {
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
      if (rl.klTarget() != null) {
        klCoef = nextKlCoef(klCoef, klMean, rl.klTarget(), rl.klHorizon(), r.rows());
      }
      long t3 = System.nanoTime();
      generatedTokens += out.generatedTokens();
      m.put("reward", meanScore);
      m.put("kl", klMean);
      m.put("kl_coef", klCoef);
      m.put("response_length", meanLength);
      m.put("entropy", entropy);
      m.put("policy_loss", policyLoss);
      m.put("value_loss", valueLoss);
      if (rl.ptxCoef() > 0) m.put("ptx_loss", ptxLoss);
      m.put("clip_fraction", clipFrac);
      m.put("advantage_std", stdOf(gae[0], r.mask()));
      m.put("grad_norm", actorNorm);
      m.put("critic_grad_norm", criticNorm);
      m.put("lr", lrA);
      m.put("generate_ms", (t1 - t0) / 1e6);
      m.put("score_ms", (t2 - t1) / 1e6);
      m.put("train_ms", (t3 - t2) / 1e6);
      m.put("step_ms", (t3 - t0) / 1e6);
      m.put("tokens_per_s", out.generatedTokens() / ((t1 - t0) / 1e9));
      m.put("data_batch", (double) dataIndex);
      // the loss a chart plots for every stage: here the policy loss
      m.put("loss", policyLoss);
    }
    events.metrics(step, m);
    last.clear();
    last.putAll(m);
    step++;
    if (rl.evalEvery() > 0 && step % rl.evalEvery() == 0 && step < cfg.steps()) {
      Eval e = evaluate(actor);
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
      if (e.meanReward() > baselineReward && e.exactMatch() < baselineAccuracy - rl.hackingDrop()) {
        return Optional.of(
            trigger(
                InstabilityKind.REWARD_HACKING,
                step - 1,
                e.exactMatch(),
                baselineAccuracy - rl.hackingDrop(),
                Sampler.dataBatchIndex(
                    Math.max(0, step - rl.evalEvery()), spec.stability().skipWindows()),
                String.format(
                    "reward hacking: held-out reward rose to %.3f (from %.3f) while exact match"
                        + " fell to %.3f (from %.3f) by step %d",
                    e.meanReward(), baselineReward, e.exactMatch(), baselineAccuracy, step - 1)));
      }
    }
    return Optional.empty();
  }

  private InstabilityDetector.Trigger trigger(
      InstabilityKind kind, long s, double value, double threshold, long batch, String message) {
    return new InstabilityDetector.Trigger(
        kind,
        s,
        value,
        threshold,
        batch,
        Sampler.dataBatchIndex(s, spec.stability().skipWindows()),
        message);
  }

  /** KL blow-up, length collapse and reward collapse, judged on this step's rollouts. */
  private Optional<InstabilityDetector.Trigger> health(
      long s, long dataIndex, double meanScore, double klMean, double meanLength) {
    if (!Double.isFinite(klMean) || klMean > rl.klLimit()) {
      return Optional.of(
          trigger(
              InstabilityKind.KL_BLOWUP,
              s,
              klMean,
              rl.klLimit(),
              dataIndex,
              String.format(
                  "KL to the reference %.4g nats per response above the limit %.4g at step %d",
                  klMean, rl.klLimit(), s)));
    }
    if (meanLength < rl.minLengthRatio() * firstLength) {
      shortInARow++;
      if (shortInARow >= spec.stability().spikeConsecutive()) {
        return Optional.of(
            trigger(
                InstabilityKind.LENGTH_COLLAPSE,
                s,
                meanLength,
                rl.minLengthRatio() * firstLength,
                dataIndex - shortInARow + 1,
                String.format(
                    "responses collapsed to %.2f tokens (%.2f at the start) for %d steps ending"
                        + " at step %d",
                    meanLength, firstLength, shortInARow, s)));
      }
    } else {
      shortInARow = 0;
    }
    // reward collapse: the shortfall from the best possible (clipped) score, plus one so that a
    // ratio means something near the top, spiking as a loss does
    double top = rl.rewardClip() + 1;
    double shortfall = top - Math.max(-rl.rewardClip(), Math.min(rl.rewardClip(), meanScore));
    Optional<InstabilityDetector.Trigger> t = detector.observe(s, dataIndex, shortfall, 0);
    return t.map(
        x ->
            x.kind() == InstabilityKind.LOSS_SPIKE
                ? new InstabilityDetector.Trigger(
                    InstabilityKind.REWARD_COLLAPSE,
                    x.step(),
                    top - x.value(),
                    top - x.threshold(),
                    x.firstBatch(),
                    x.lastBatch(),
                    String.format(
                        "reward collapse: mean reward %.4g below %.4g for %d steps ending at step"
                            + " %d",
                        top - x.value(),
                        top - x.threshold(),
                        spec.stability().spikeConsecutive(),
                        x.step()))
                : x);
  }

  /** Clipped (and, if asked, whitened by running statistics) reward-model scores. */
  private float[] shapeScores(float[] raw) {
    float[] out = new float[raw.length];
    for (float x : raw) {
      rewardCount++;
      double delta = x - rewardMean;
      rewardMean += delta / rewardCount;
      rewardM2 += delta * (x - rewardMean);
    }
    double std = rewardCount > 1 ? Math.sqrt(rewardM2 / (rewardCount - 1)) : 1;
    for (int i = 0; i < raw.length; i++) {
      double v = rl.normalizeRewards() ? (raw[i] - rewardMean) / (std + 1e-8) : raw[i];
      out[i] = (float) Math.max(-rl.rewardClip(), Math.min(rl.rewardClip(), v));
    }
    return out;
  }

  /**
   * Per-token rewards (KL penalty, the score at the last token) through GAE: {advantages
   * (whitened), returns}, each {@code [B * t]}.
   */
  private float[][] advantages(
      Rollout r, float[] old, float[] ref, float[] values, float[] scores) {
    float[] adv = new float[old.length];
    float[] ret = new float[old.length];
    for (int i = 0; i < r.rows(); i++) {
      int first = r.promptLength()[i] - 1;
      int n = r.responseLength()[i];
      double[] rewards = new double[n];
      double[] v = new double[n];
      for (int j = 0; j < n; j++) {
        int k = i * r.t() + first + j;
        rewards[j] = -klCoef * (old[k] - ref[k]);
        v[j] = values[k];
      }
      rewards[n - 1] += scores[i];
      double[][] g = gae(rewards, v, rl.gamma(), rl.lambda());
      for (int j = 0; j < n; j++) {
        adv[i * r.t() + first + j] = (float) g[0][j];
        ret[i * r.t() + first + j] = (float) g[1][j];
      }
    }
    double mean = 0;
    double n = 0;
    for (int k = 0; k < adv.length; k++) {
      if (r.mask()[k] > 0) {
        mean += adv[k];
        n++;
      }
    }
    mean /= Math.max(1, n);
    double var = 0;
    for (int k = 0; k < adv.length; k++) {
      if (r.mask()[k] > 0) var += (adv[k] - mean) * (adv[k] - mean);
    }
    double std = Math.sqrt(var / Math.max(1, n - 1));
    for (int k = 0; k < adv.length; k++) {
      adv[k] = r.mask()[k] > 0 ? (float) ((adv[k] - mean) / (std + 1e-8)) : 0f;
    }
    return new float[][] {adv, ret};
  }

  /**
   * Generalised advantage estimation over one response: {advantages, returns} from per-token
   * rewards and the critic's values (the value after the last token is 0).
   */
  static double[][] gae(double[] rewards, double[] values, double gamma, double lambda) {
    int n = rewards.length;
    double[] adv = new double[n];
    double[] ret = new double[n];
    double running = 0;
    for (int j = n - 1; j >= 0; j--) {
      double next = j + 1 < n ? values[j + 1] : 0;
      double delta = rewards[j] + gamma * next - values[j];
      running = delta + gamma * lambda * running;
      adv[j] = running;
      ret[j] = running + values[j];
    }
    return new double[][] {adv, ret};
  }

  /**
   * The adaptive KL controller of Ziegler et al. (2019): the coefficient moves by the proportional
   * error {@code clip(kl / target - 1, ±0.2)} scaled by {@code samples / horizon}.
   */
  static double nextKlCoef(double coef, double kl, double target, long horizon, int samples) {
    double error = Math.max(-0.2, Math.min(0.2, kl / target - 1));
    return coef * (1 + error * samples / horizon);
  }

  private NDArray ptxLoss(NDManager m, long dataIndex) {
    int seqLen = cfg.seqLen();
    int rows = cfg.batchSize();
    Sampler.Batch b = ptx.batch(step, dataIndex, rows, seqLen);
    long[] x = new long[rows * seqLen];
    long[] y = new long[rows * seqLen];
    float[] w = new float[rows * seqLen];
    for (int r = 0; r < rows; r++) {
      for (int i = 0; i < seqLen; i++) {
        x[r * seqLen + i] = b.tokens()[r * (seqLen + 1) + i];
        y[r * seqLen + i] = b.tokens()[r * (seqLen + 1) + i + 1];
        w[r * seqLen + i] = b.weights() == null ? 1f : b.weights()[r * seqLen + i];
      }
    }
    Shape s = new Shape(rows, seqLen);
    return Transformer.crossEntropy(
        model.logits(
            actor, Host.longs(m, x, s), Transformer.mask(m, rows, seqLen, null, DataType.FLOAT32)),
        Host.longs(m, y, s),
        Host.floats(m, w, s));
  }

  private boolean healthy(double gradNorm) {
    return Double.isFinite(gradNorm) && gradNorm <= spec.stability().gradNormLimit();
  }

  /**
   * Clips by global norm and steps; returns the norm. A non-finite norm, or one above the stability
   * limit, updates nothing.
   */
  private double update(Params p, AdamW opt, NDManager m, double lr, boolean limited) {
    Map<String, NDArray> grads = new LinkedHashMap<>();
    NDArray sum = null;
    for (var e : p.all().entrySet()) {
      NDArray g = e.getValue().getGradient();
      g.attach(m);
      grads.put(e.getKey(), g);
      NDArray sq = g.square().sum();
      sum = sum == null ? sq : sum.add(sq);
    }
    double norm = Math.sqrt(sum.getFloat());
    if (limited ? healthy(norm) : Double.isFinite(norm)) {
      double clip = Math.min(1.0, cfg.gradClip() / (norm + 1e-6));
      opt.step(p.all(), grads, lr, clip);
    }
    for (NDArray g : grads.values()) g.set(new NDIndex(":"), 0);
    return norm;
  }

  private static double mean(float[] v) {
    double s = 0;
    for (float x : v) s += x;
    return v.length == 0 ? Double.NaN : s / v.length;
  }

  private static double stdOf(float[] v, float[] mask) {
    double s = 0;
    double s2 = 0;
    int n = 0;
    for (int i = 0; i < v.length; i++) {
      if (mask[i] > 0) {
        s += v[i];
        s2 += v[i] * v[i];
        n++;
      }
    }
    if (n == 0) return 0;
    double mu = s / n;
    return Math.sqrt(Math.max(0, s2 / n - mu * mu));
  }

  /**
   * A policy's held-out figures: one sampled response per held-out prompt (a fixed seed, so two
   * policies are compared on the same draws) scored by the reward model, with its KL to the
   * reference; and greedy exact match on the prompts that have reference answers.
   */
  public Eval evaluate(Params policy) {
    List<Prompt> eval = heldOut.subList(0, Math.min(EVAL_PROMPTS, heldOut.size()));
    if (eval.isEmpty()) {
      return new Eval(Double.NaN, Double.NaN, Double.NaN, Double.NaN, List.of());
    }
    try (NDManager m = root.newSubManager()) {
      List<int[]> ids = eval.stream().map(this::promptIds).toList();
      Generator.Output out = generator.generate(policy, m, ids, sampling(spec.seed() ^ 0xE7A1L));
      Rollout r = rollout(ids, out.tokens());
      float[] lp = logProbs(policy, m, r).toFloatArray();
      float[] ref = logProbs(reference, m, r).toFloatArray();
      double kl = 0;
      for (int k = 0; k < lp.length; k++) if (r.mask()[k] > 0) kl += lp[k] - ref[k];
      float[] sc = scores(m, r);
      double reward = mean(sc);
      List<String> samples = new ArrayList<>();
      for (int i = 0; i < Math.min(3, eval.size()); i++) {
        samples.add(
            String.format(
                "%s -> %s (%.2f)",
                eval.get(i).messages().get(eval.get(i).messages().size() - 1).content(),
                tokenizer.decode(out.tokens().get(i)).replace(ChatTemplate.END, ""),
                sc[i]));
      }
      List<List<ChatTemplate.Message>> answered =
          eval.stream().filter(p -> p.answer() != null).map(Prompt::withAnswer).toList();
      double exact = Double.NaN;
      if (!answered.isEmpty()) {
        ChatEval.Result greedy =
            ChatEval.exactMatch(
                model,
                policy,
                m,
                tokenizer,
                template,
                answered,
                answered.size(),
                rl.maxNewTokens());
        exact = greedy.exactMatch();
        // the first wrong greedy answers: what the policy gets wrong, next to what it samples
        for (int i = 0, shown = 0; i < greedy.answers().size() && shown < 3; i++) {
          List<ChatTemplate.Message> d = answered.get(i);
          String expected = d.get(d.size() - 1).content().strip();
          if (!greedy.answers().get(i).equals(expected)) {
            samples.add(
                String.format(
                    "wrong: %s -> %s (expected %s)",
                    d.get(d.size() - 2).content(), greedy.answers().get(i), expected));
            shown++;
          }
        }
      }
      return new Eval(
          reward,
          kl / r.rows(),
          exact,
          Arrays.stream(r.responseLength()).average().orElse(Double.NaN),
          samples);
    }
  }

  /** Native clones of the whole RL state; the checkpoint thread does the rest. */
  public DeviceSnapshot capture() {
    NDManager m = root.newSubManager();
    Map<String, NDArray> weights = clones(actor.all(), m, "");
    Map<String, NDArray> opt = new LinkedHashMap<>();
    opt.putAll(clones(actorOpt.state(), m, "actor/"));
    opt.putAll(clones(criticOpt.state(), m, "critic/"));
    Map<String, Map<String, NDArray>> extra = new LinkedHashMap<>();
    extra.put(CRITIC, clones(critic.all(), m, ""));
    if (ema != null) extra.put(EMA, clones(ema.all(), m, ""));
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
            detector.state(),
            shape.toString());
    RlState rs =
        new RlState(
            1,
            klCoef,
            rewardCount,
            rewardMean,
            rewardM2,
            firstLength,
            shortInARow,
            baselineReward,
            baselineAccuracy,
            criticSteps);
    byte[] rsJson;
    try {
      rsJson = ProtocolJson.mapper().writeValueAsBytes(rs);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
    Map<String, Double> health = new LinkedHashMap<>();
    last.forEach(
        (k, v) -> {
          if (Double.isFinite(v)) health.put(k, v);
        });
    CheckpointManifest.Health h =
        new CheckpointManifest.Health(
            last.containsKey("loss") && Double.isFinite(last.get("loss")) ? last.get("loss") : null,
            null,
            last.containsKey("grad_norm") && Double.isFinite(last.get("grad_norm"))
                ? last.get("grad_norm")
                : null,
            null,
            false,
            health);
    return new DeviceSnapshot(
        step, m, weights, opt, state, tokenizerJson, h, extra, Map.of(RL_STATE, rsJson));
  }

  private static Map<String, NDArray> clones(Map<String, NDArray> a, NDManager m, String prefix) {
    Map<String, NDArray> out = new LinkedHashMap<>();
    a.forEach((k, v) -> out.put(prefix + k, DeviceSnapshot.cloneOf(v, m)));
    return out;
  }

  private void restore(CheckpointReader.Loaded ckpt) {
    String at = ckpt.manifestKey();
    if (!ckpt.files().containsKey(RL_STATE)) {
      throw new CheckpointException(
          "resumeFrom: " + at + " is not an rlhf checkpoint (it has no " + RL_STATE + ")");
    }
    copyInto(
        actor, SafeTensors.read(ckpt.file("model.safetensors"), at + " model.safetensors"), at);
    copyInto(critic, SafeTensors.read(ckpt.file(CRITIC), at + " " + CRITIC), at);
    if (ema != null) {
      if (!ckpt.files().containsKey(EMA)) {
        throw new CheckpointException(
            "resumeFrom: " + at + " has no EMA weights but rl.emaDecay is set");
      }
      copyInto(ema, SafeTensors.read(ckpt.file(EMA), at + " " + EMA), at);
    }
    TrainerState state = ckpt.state();
    RlState rs;
    try {
      rs = ProtocolJson.mapper().readValue(ckpt.file(RL_STATE), RlState.class);
    } catch (IOException e) {
      throw new CheckpointException(RL_STATE + " of " + at + " is unreadable: " + e.getMessage());
    }
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
    detector.restore(state.detector());
    klCoef = rs.klCoef();
    rewardCount = rs.rewardCount();
    rewardMean = rs.rewardMean();
    rewardM2 = rs.rewardM2();
    firstLength = rs.firstLength();
    shortInARow = rs.shortInARow();
    baselineReward = rs.baselineReward();
    baselineAccuracy = rs.baselineAccuracy();
    criticSteps = rs.criticSteps();
    events.log("INFO", "resumed the whole RL state from " + at + " at step " + step);
  }

  private void copyInto(Params p, Map<String, SafeTensors.HostTensor> w, String at) {
    if (!w.keySet().equals(p.all().keySet())) {
      throw new CheckpointException(at + " holds weights for another model shape");
    }
    for (var e : w.entrySet()) {
      Shape shape = p.get(e.getKey()).getShape();
      if (!shape.equals(new Shape(e.getValue().shape()))) {
        throw new CheckpointException(at + ": " + e.getKey() + " has another shape");
      }
      p.put(e.getKey(), Host.floats(root, e.getValue().data(), shape));
    }
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
