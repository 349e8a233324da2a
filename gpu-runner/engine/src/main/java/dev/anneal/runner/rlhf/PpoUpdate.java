package dev.anneal.runner.rlhf;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.anneal.protocol.RlConfig;
import dev.anneal.protocol.RunSpec;
import dev.anneal.protocol.RunnerEvent.InstabilityKind;
import dev.anneal.protocol.StabilityConfig;
import dev.anneal.protocol.TrainingConfig;
import dev.anneal.runner.data.BatchSource;
import dev.anneal.runner.data.Sampler;
import dev.anneal.runner.events.EventLog;
import dev.anneal.runner.model.Host;
import dev.anneal.runner.model.Params;
import dev.anneal.runner.model.Transformer;
import dev.anneal.runner.stability.InstabilityDetector;
import dev.anneal.runner.train.AdamW;
import dev.anneal.runner.train.NonFiniteGuard;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The learning half of a PPO step: {@code ppoEpochs} passes over the step's rollouts of the clipped
 * policy loss (plus the optional PTX language-model loss) on the actor and the clipped value loss
 * on the critic, each clipped by global norm and stepped by its own AdamW. A finite loss with a
 * non-finite gradient skips that update ({@link NonFiniteGuard}); a non-finite loss, an actor
 * gradient above the limit, or a run of skips ends the step with a trigger before the bad update is
 * applied.
 */
final class PpoUpdate {

  /** The step's figures (of the last epoch). */
  record Figures(
      double policyLoss,
      double valueLoss,
      double ptxLoss,
      double clipFraction,
      double actorNorm,
      double criticNorm) {}

  /** What the step did: its figures, or the trigger that stopped it (no bad update applied). */
  record Applied(Figures figures, InstabilityDetector.Trigger trigger) {}

  /** The trained roles: the actor and the critic, each with its optimizer. */
  record Roles(Params actor, Params critic, AdamW actorOpt, AdamW criticOpt) {}

  private final RolloutScoring scoring;
  private final TrainingConfig cfg;
  private final RlConfig rl;
  private final StabilityConfig stability;
  private final BatchSource ptx;
  private final RlHealth health;
  private final EventLog events;
  private final Roles roles;
  private final NonFiniteGuard guard;
  private long criticSteps;

  PpoUpdate(
      RunSpec spec,
      RolloutScoring scoring,
      BatchSource ptx,
      RlHealth health,
      EventLog log,
      Roles roles) {
    this.cfg = spec.training();
    this.rl = spec.rl();
    this.stability = spec.stability();
    this.scoring = scoring;
    this.ptx = ptx;
    this.health = health;
    this.events = log;
    this.roles = roles;
    this.guard = new NonFiniteGuard(stability.spikeConsecutive());
  }

  /** Critic updates applied so far (the critic's optimizer step count). */
  long criticSteps() {
    return criticSteps;
  }

  void restoreCriticSteps(long steps) {
    criticSteps = steps;
  }

  Applied apply(
      NDManager sm,
      long s,
      long dataIndex,
      Rollout r,
      float[] old,
      float[] oldValues,
      Advantages.Estimate gae,
      double lrA,
      double lrC,
      boolean poison) {
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
        NDArray adv = Host.floats(em, gae.advantages(), shp);
        NDArray oldLp = Host.floats(em, old, shp);
        // the critic's warm-up: the actor waits until the critic has learned the returns
        if (s >= rl.freezeActorSteps()) {
          NDArray loss;
          NDArray ratio;
          try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
            ratio = scoring.logProbs(roles.actor(), em, r).sub(oldLp).exp();
            NDArray unclipped = adv.mul(ratio).neg();
            float lo = (float) (1 - rl.clipRange());
            float hi = (float) (1 + rl.clipRange());
            NDArray clipped = adv.mul(ratio.clip(lo, hi)).neg();
            loss = unclipped.maximum(clipped).mul(mask).sum().div(count);
            policyLoss = loss.getFloat();
            if (rl.ptxCoef() > 0) {
              NDArray lm = ptxLoss(em, s, dataIndex);
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
          actorNorm = update(roles.actor(), roles.actorOpt(), em, lrA, true);
          boolean finiteLoss = Double.isFinite(loss.getFloat());
          if (finiteLoss && !Double.isFinite(actorNorm)) {
            // a finite loss with a non-finite gradient: skipped, as the supervised loop does
            // (docs/engine.md); a run of them is an explosion
            guard.skip();
            events.log(
                "WARN",
                String.format(
                    "non-finite actor gradient at step %d with finite policy loss %.4g: update"
                        + " skipped (%d in a row)",
                    s, loss.getFloat(), guard.inARow()));
          } else if (finiteLoss && healthy(actorNorm)) {
            guard.reset();
          }
          if (!finiteLoss
              || (Double.isFinite(actorNorm) && !healthy(actorNorm))
              || guard.exhausted()) {
            return stopped(
                health.trigger(
                    Double.isFinite(loss.getFloat())
                        ? InstabilityKind.GRADIENT_EXPLOSION
                        : InstabilityKind.NON_FINITE_LOSS,
                    s,
                    Double.isFinite(loss.getFloat()) ? actorNorm : loss.getFloat(),
                    stability.gradNormLimit(),
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
        NDArray ret = Host.floats(em, gae.returns(), shp);
        NDArray oldV = Host.floats(em, oldValues, shp);
        NDArray vLoss;
        try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
          NDArray v = scoring.values(roles.critic(), em, r);
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
        criticNorm = update(roles.critic(), roles.criticOpt(), em, lrC, false);
        // the critic starts far from the returns (the reward model was trained at the last token
        // only), so large early norms are expected: only a non-finite one counts, and with a
        // finite value loss it is skipped like the actor's
        if (!Double.isFinite(valueLoss) || (!Double.isFinite(criticNorm) && guard.skip())) {
          return stopped(
              health.trigger(
                  InstabilityKind.GRADIENT_EXPLOSION,
                  s,
                  criticNorm,
                  stability.gradNormLimit(),
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
                  s, valueLoss, guard.inARow()));
          continue;
        }
        criticSteps++;
      }
    }
    return new Applied(
        new Figures(policyLoss, valueLoss, ptxLoss, clipFrac, actorNorm, criticNorm), null);
  }

  private static Applied stopped(InstabilityDetector.Trigger t) {
    return new Applied(null, t);
  }

  /** The PTX term: the actor's language-model loss on a batch of the stage's further data. */
  private NDArray ptxLoss(NDManager m, long step, long dataIndex) {
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
        scoring
            .model()
            .logits(
                roles.actor(),
                Host.longs(m, x, s),
                Transformer.mask(m, rows, seqLen, null, DataType.FLOAT32)),
        Host.longs(m, y, s),
        Host.floats(m, w, s));
  }

  private boolean healthy(double gradNorm) {
    return Double.isFinite(gradNorm) && gradNorm <= stability.gradNormLimit();
  }

  /**
   * Clips by global norm and steps; returns the norm. A non-finite norm, or one above the stability
   * limit when {@code limited}, updates nothing.
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
}
