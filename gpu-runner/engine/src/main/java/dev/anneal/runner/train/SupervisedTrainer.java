package dev.anneal.runner.train;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.anneal.protocol.CheckpointManifest;
import dev.anneal.protocol.RunSpec;
import dev.anneal.protocol.RunnerEvent;
import dev.anneal.protocol.TrainingConfig;
import dev.anneal.runner.ckpt.BlobStore;
import dev.anneal.runner.ckpt.CheckpointException;
import dev.anneal.runner.ckpt.CheckpointReader;
import dev.anneal.runner.ckpt.CheckpointWriter;
import dev.anneal.runner.ckpt.DeviceSnapshot;
import dev.anneal.runner.ckpt.ModelWeights;
import dev.anneal.runner.ckpt.SafeTensors;
import dev.anneal.runner.ckpt.TrainerState;
import dev.anneal.runner.data.BatchSource;
import dev.anneal.runner.data.Sampler;
import dev.anneal.runner.events.EventLog;
import dev.anneal.runner.hf.HfFormat;
import dev.anneal.runner.hf.StageShape;
import dev.anneal.runner.model.Host;
import dev.anneal.runner.model.ModelShape;
import dev.anneal.runner.model.Params;
import dev.anneal.runner.model.Transformer;
import dev.anneal.runner.stability.InstabilityDetector;
import dev.anneal.runner.tokenizer.Tokenizer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The supervised trainer: the transformer on one {@link Objective} over batches — next-token
 * cross-entropy for pre-training and SFT, the pairwise preference loss for a reward model — with
 * the survey's recipe: AdamW (or Adafactor), global-norm clipping, warm-up and cosine decay, an
 * optional batch-size ramp, gradient accumulation, fp32 or mixed precision ({@link
 * MixedPrecision}), checkpoints every N steps, and the instability detector judging every step. One
 * sub-manager per step holds every intermediate array, so memory stays flat.
 */
public final class SupervisedTrainer implements AutoCloseable {

  /** How the run ended, with every step's loss (from the first step this run made). */
  public record Result(
      Outcome outcome,
      long step,
      List<Double> losses,
      InstabilityDetector.Trigger trigger,
      CheckpointWriter.Committed lastCheckpoint,
      double tokensPerSecond,
      Double evalLoss) {}

  /** Batches the final evaluation draws (data indices far beyond any training run's). */
  static final int EVAL_BATCHES = 8;

  static final long EVAL_DATA_INDEX = BatchSource.EVAL_DATA_INDEX;

  private final RunSpec spec;
  private final TrainingConfig cfg;
  private final ModelShape shape;
  private final Transformer model;
  private final BatchSource sampler;
  private final Objective objective;
  private final java.util.Set<String> extraParams = new java.util.HashSet<>();
  private final Tokenizer tokenizer;
  private final EventLog events;
  private final CheckpointWriter writer;
  private final NDManager root;
  private final Params master;
  private final Optimizer optimizer;
  private final InstabilityDetector detector;
  private final LrSchedule schedule;
  private final BatchRamp ramp;
  private final MixedPrecision precision;
  private final NonFiniteGuard guard;
  private final BatchTensors batchTensors;
  private final AtomicBoolean stopRequested = new AtomicBoolean();
  private final String shapeText;
  private final String tokenizerJson;
  private final Map<String, byte[]> carriedFiles;

  private long step;
  private long tokensSeen;
  private double lastLoss = Double.NaN;
  private double lastGradNorm = Double.NaN;
  private double lastForwardBackwardMs = Double.NaN;

  public SupervisedTrainer(
      RunSpec spec,
      ModelShape shape,
      BatchSource sampler,
      Tokenizer tokenizer,
      BlobStore store,
      EventLog events,
      boolean asyncCheckpoints,
      CheckpointReader.Loaded resume,
      CheckpointReader.Loaded init,
      Objective objective) {
    this.objective = objective;
    this.spec = spec;
    this.cfg = spec.training();
    this.shape = shape;
    this.model = new Transformer(shape);
    this.sampler = sampler;
    this.tokenizer = tokenizer;
    this.events = events;
    this.shapeText = shape.toString();
    this.tokenizerJson = tokenizer.toHuggingFaceJson();
    // a shape the spec cannot rebuild (an imported model's) travels with every checkpoint
    // and an imported tokenizer's config (its chat template and special tokens' roles)
    Map<String, byte[]> carried = new LinkedHashMap<>();
    if (StageShape.carried(spec, shape)) {
      carried.put("config.json", HfFormat.configJson(shape, tokenizer, false));
    }
    tokenizer
        .configJson()
        .ifPresent(c -> carried.put("tokenizer_config.json", c.getBytes(StandardCharsets.UTF_8)));
    this.carriedFiles = Map.copyOf(carried);
    Device device = Devices.of(spec.device());
    this.precision = MixedPrecision.of(cfg.precision(), device);
    this.guard = new NonFiniteGuard(spec.stability().spikeConsecutive());
    this.batchTensors = new BatchTensors(shape.prefixLm(), spec.seed(), precision);
    this.root = Engine.getEngine("PyTorch").newBaseManager(device);
    this.master = Params.init(shape, root, spec.seed(), DataType.FLOAT32);
    objective
        .extraParams(shape, root, spec.seed())
        .forEach(
            (name, value) -> {
              master.put(name, value);
              extraParams.add(name);
            });
    this.optimizer =
        "adafactor".equals(cfg.optimizer())
            ? new Adafactor(root, cfg.weightDecay())
            : new AdamW(root, cfg.beta1(), cfg.beta2(), cfg.eps(), cfg.weightDecay());
    this.detector = new InstabilityDetector(spec.stability());
    this.schedule = LrSchedule.of(cfg.lr(), cfg.warmupFraction(), cfg.steps(), cfg.minLrRatio());
    this.ramp = BatchRamp.of(cfg);
    this.writer = TrainingRuns.writer(spec, store, events, asyncCheckpoints);
    if (resume != null) {
      restore(resume, true);
    } else if (init != null) {
      restore(init, false);
    }
    if (!precision.low()) {
      master.requireGradients();
    }
  }

  public void requestStop() {
    stopRequested.set(true);
  }

  public Params params() {
    return master;
  }

  public Result run() {
    long target = cfg.steps();
    List<Double> losses = new ArrayList<>();
    FaultInjector faults = FaultInjector.arm(spec, events);
    events.log(
        "INFO",
        String.format(
            "training %s (%,d parameters) from step %d to %d, %s, %s",
            spec.model().preset(),
            shape.parameterCount(),
            step,
            target,
            cfg.optimizer(),
            cfg.precision()));
    long t0 = System.nanoTime();
    long tokensAtStart = tokensSeen;
    while (step < target) {
      if (stopRequested.get()) {
        events.log("WARN", "stop requested at step " + step + ": committing a checkpoint first");
        CheckpointWriter.Committed c = checkpointNow();
        return new Result(Outcome.PREEMPTED, step, losses, null, c, rate(t0, tokensAtStart), null);
      }
      faults.crashIfDue(step);
      Optional<InstabilityDetector.Trigger> trigger = trainStep(losses, faults);
      if (trigger.isPresent()) {
        InstabilityDetector.Trigger t = trigger.get();
        CheckpointWriter.Committed last = TrainingRuns.reportInstability(writer, events, t);
        return new Result(Outcome.UNSTABLE, step, losses, t, last, rate(t0, tokensAtStart), null);
      }
      if (step % spec.checkpoint().everySteps() == 0 && step < target) {
        writer.submit(capture());
      }
    }
    CheckpointWriter.Committed last = checkpointNow();
    double tokensPerSecond = rate(t0, tokensAtStart);
    double eval = evalLoss(EVAL_BATCHES);
    events.log(
        "INFO",
        String.format(
            "eval loss %.4f (perplexity %.2f) on %d batches the run never trained on",
            eval, Math.exp(eval), EVAL_BATCHES));
    return new Result(Outcome.FINISHED, step, losses, null, last, tokensPerSecond, eval);
  }

  /**
   * Mean loss of the final weights, without gradients, on {@code batches} batches drawn from the
   * final mixture at data indices no training step reads. They are fresh draws from the same
   * corpora, not a disjoint held-out split (held-out evaluation sets come with the evaluation
   * harness).
   */
  public double evalLoss(int batches) {
    int rows = ramp.rowsAt(tokensSeen);
    int seqLen = cfg.seqLen();
    double sum = 0;
    for (int b = 0; b < batches; b++) {
      Sampler.Batch batch = sampler.batch(step, EVAL_DATA_INDEX + b, rows, seqLen);
      try (NDManager sm = root.newSubManager()) {
        Params work = precision.working(master, sm);
        NDArray[] in = batchTensors.of(sm, batch, 0, rows, seqLen);
        NDArray l = objective.loss(model, work, in);
        sum += l.toType(DataType.FLOAT32, false).getFloat();
      }
    }
    return sum / batches;
  }

  private double rate(long t0, long tokensAtStart) {
    double seconds = (System.nanoTime() - t0) / 1e9;
    return seconds > 0 ? (tokensSeen - tokensAtStart) / seconds : 0;
  }

  private CheckpointWriter.Committed checkpointNow() {
    return TrainingRuns.checkpointNow(writer, step, this::capture);
  }

  /** One optimizer step; returns a trigger if the detector stopped training (no update made). */
  private Optional<InstabilityDetector.Trigger> trainStep(
      List<Double> losses, FaultInjector faults) {
    long s = step;
    int rows = ramp.rowsAt(tokensSeen);
    int seqLen = cfg.seqLen();
    long dataIndex = Sampler.dataBatchIndex(s, spec.stability().skipWindows());
    Sampler.Batch batch = sampler.batch(s, dataIndex, rows, seqLen);
    double lr =
        faults.learningRate(s, schedule.at(s) * spec.stability().lrFactor(), "learning rate");
    boolean poison = faults.poisons(s, "loss");
    long t0 = System.nanoTime();
    double loss = 0;
    double gradNorm;
    try (NDManager sm = root.newSubManager()) {
      Params work = precision.working(master, sm);
      int micro = cfg.gradAccum();
      int microRows = rows / micro;
      try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
        for (int k = 0; k < micro; k++) {
          NDArray[] in = batchTensors.of(sm, batch, k * microRows, microRows, seqLen);
          NDArray l = objective.loss(model, work, in);
          if (poison) l = l.mul(Host.scalar(l, Double.NaN));
          loss += l.toType(DataType.FLOAT32, false).getFloat() / micro;
          gc.backward(l.mul(Host.scalar(l, precision.lossScale() / micro)));
        }
      }
      lastForwardBackwardMs = (System.nanoTime() - t0) / 1e6;
      Map<String, NDArray> grads = new LinkedHashMap<>();
      NDArray sumSquares = null;
      for (var e : work.all().entrySet()) {
        NDArray g = precision.masterGradient(e.getValue().getGradient(), sm);
        grads.put(e.getKey(), g);
        NDArray sq = g.square().sum();
        sumSquares = sumSquares == null ? sq : sumSquares.add(sq);
      }
      gradNorm = Math.sqrt(sumSquares.getFloat()) / precision.lossScale();
      if (Double.isFinite(loss) && !Double.isFinite(gradNorm)) {
        if (precision.scaled()) {
          // an fp16 overflow, not an instability: skip the update and halve the scale
          Optional<InstabilityDetector.Trigger> collapse = precision.overflow(s, dataIndex, events);
          if (collapse.isPresent()) return collapse;
        } else {
          // A finite loss with a non-finite gradient: skip this update, as a loss scaler would;
          // a run of them is a gradient explosion. (Such steps followed every checkpoint until
          // scalars in the graph came from Host.scalar; docs/engine.md.)
          boolean exploded = guard.skip();
          List<String> bad = new ArrayList<>();
          grads.forEach(
              (name, g) -> {
                if (!Double.isFinite(g.square().sum().getFloat())) bad.add(name);
              });
          events.log(
              "WARN",
              String.format(
                  "non-finite gradient at step %d with finite loss %.4g:"
                      + " update skipped (%d in a row, %d in this attempt); non-finite in %s",
                  s,
                  loss,
                  guard.inARow(),
                  guard.total(),
                  bad.size() <= 3
                      ? bad
                      : bad.subList(0, 3) + " and " + (bad.size() - 3) + " more"));
          if (!precision.low()) {
            zeroGradients(sm);
          }
          if (exploded) {
            return Optional.of(
                new InstabilityDetector.Trigger(
                    RunnerEvent.InstabilityKind.GRADIENT_EXPLOSION,
                    s,
                    gradNorm,
                    spec.stability().gradNormLimit(),
                    dataIndex - guard.inARow() + 1,
                    dataIndex,
                    "non-finite gradients for "
                        + guard.inARow()
                        + " steps in a row ending at step "
                        + s));
          }
        }
        advance(batch, losses, loss, gradNorm, lr, t0, rows, dataIndex);
        return Optional.empty();
      }
      guard.reset();
      Optional<InstabilityDetector.Trigger> trigger =
          detector.observe(s, dataIndex, loss, gradNorm);
      if (trigger.isPresent()) {
        lastLoss = loss;
        lastGradNorm = gradNorm;
        return trigger;
      }
      double clip = Math.min(1.0, cfg.gradClip() / (gradNorm + 1e-6));
      optimizer.step(master.all(), grads, lr, clip / precision.lossScale());
      if (!precision.low()) {
        zeroGradients(sm);
      } else {
        precision.applied();
      }
    }
    advance(batch, losses, loss, gradNorm, lr, t0, rows, dataIndex);
    return Optional.empty();
  }

  private void advance(
      Sampler.Batch batch,
      List<Double> losses,
      double loss,
      double gradNorm,
      double lr,
      long t0,
      int rows,
      long dataIndex) {
    double seconds = (System.nanoTime() - t0) / 1e9;
    long tokens = (long) rows * cfg.seqLen();
    tokensSeen += tokens;
    losses.add(loss);
    lastLoss = loss;
    lastGradNorm = gradNorm;
    Map<String, Double> m = new LinkedHashMap<>();
    m.put("loss", loss);
    m.put("lr", lr);
    m.put("grad_norm", gradNorm);
    m.put("tokens_per_s", tokens / seconds);
    m.put("step_ms", seconds * 1000);
    m.put("forward_backward_ms", lastForwardBackwardMs);
    m.put("batch_size", (double) rows);
    m.put("tokens_seen", (double) tokensSeen);
    m.put("data_batch", (double) dataIndex);
    if (precision.scaled()) m.put("loss_scale", precision.lossScale());
    events.metrics(step, m);
    step++;
  }

  private void zeroGradients(NDManager sm) {
    for (NDArray p : master.all().values()) {
      NDArray g = p.getGradient();
      g.attach(sm);
      g.set(new NDIndex(":"), 0);
    }
  }

  /**
   * Native clones of the whole training state — all the training loop waits for; the copy to the
   * host, serialisation and upload happen on the checkpoint thread.
   */
  public DeviceSnapshot capture() {
    NDManager m = root.newSubManager();
    Map<String, NDArray> weights = new LinkedHashMap<>();
    master.all().forEach((k, v) -> weights.put(k, DeviceSnapshot.cloneOf(v, m)));
    Map<String, NDArray> opt = new LinkedHashMap<>();
    optimizer.state().forEach((k, v) -> opt.put(k, DeviceSnapshot.cloneOf(v, m)));
    TrainerState state =
        new TrainerState(
            1,
            step,
            tokensSeen,
            Sampler.dataBatchIndex(step, spec.stability().skipWindows()),
            optimizer.steps(),
            cfg.optimizer(),
            precision.lossScale(),
            precision.goodSteps(),
            spec.seed(),
            detector.state(),
            shapeText);
    Map<String, Double> extra = new LinkedHashMap<>();
    extra.put("loss_var", detector.variance());
    extra.put("tokens_seen", (double) tokensSeen);
    CheckpointManifest.Health health =
        new CheckpointManifest.Health(
            finiteOrNull(lastLoss),
            finiteOrNull(detector.ema()),
            finiteOrNull(lastGradNorm),
            precision.scaled() ? precision.lossScale() : null,
            detector.inAnomaly(),
            extra);
    return new DeviceSnapshot(
        step, m, weights, opt, state, tokenizerJson, health, Map.of(), carriedFiles);
  }

  private static Double finiteOrNull(double v) {
    return Double.isFinite(v) ? v : null;
  }

  private void restore(CheckpointReader.Loaded ckpt, boolean full) {
    Map<String, SafeTensors.HostTensor> weights =
        ModelWeights.read(ckpt.files(), ckpt.manifestKey());
    // starting from another stage's weights, the objective's own parameters (a reward head) may
    // be new; everything else must match
    java.util.Set<String> expected = new java.util.HashSet<>(master.all().keySet());
    if (!full) {
      for (String extra : extraParams) {
        if (!weights.containsKey(extra)) expected.remove(extra);
      }
    }
    if (!weights.keySet().equals(expected)) {
      throw new CheckpointException(
          "checkpoint "
              + ckpt.manifestKey()
              + " holds weights for another model"
              + " shape ("
              + weights.size()
              + " tensors, the spec's model has "
              + master.all().size()
              + ")");
    }
    for (var e : weights.entrySet()) {
      NDArray current = master.get(e.getKey());
      if (!current.getShape().equals(new Shape(e.getValue().shape()))) {
        throw new CheckpointException(
            "checkpoint "
                + ckpt.manifestKey()
                + ": "
                + e.getKey()
                + " has shape "
                + new Shape(e.getValue().shape())
                + " but the spec's model needs "
                + current.getShape());
      }
      master.put(
          e.getKey(), Host.floats(root, e.getValue().data(), new Shape(e.getValue().shape())));
    }
    if (!full) {
      return;
    }
    TrainerState state = ckpt.state();
    if (!state.optimizer().equals(cfg.optimizer())) {
      throw new CheckpointException(
          "checkpoint "
              + ckpt.manifestKey()
              + " was trained with "
              + state.optimizer()
              + "; the spec asks for "
              + cfg.optimizer());
    }
    Map<String, SafeTensors.HostTensor> opt =
        SafeTensors.read(
            ckpt.file("optimizer.safetensors"), ckpt.manifestKey() + " optimizer.safetensors");
    Map<String, NDArray> loaded = new LinkedHashMap<>();
    try (NDManager tmp = root.newSubManager()) {
      opt.forEach(
          (k, v) -> {
            NDArray a = Host.floats(tmp, v.data(), new Shape(v.shape()));
            loaded.put(k, a);
          });
      optimizer.load(loaded, state.optimizerSteps());
    }
    step = state.step();
    tokensSeen = state.tokensSeen();
    precision.restore(state.lossScale(), state.goodStepsSinceScaleChange());
    detector.restore(state.detector());
    events.log("INFO", "resumed from " + ckpt.manifestKey() + " at step " + step);
  }

  /** Arrays alive in the trainer's manager tree (a leak check). */
  public int liveArrays() {
    return root.getManagedArrays().size();
  }

  public double lossScale() {
    return precision.lossScale();
  }

  @Override
  public void close() {
    try {
      writer.close();
    } finally {
      optimizer.close();
      root.close();
    }
  }
}
