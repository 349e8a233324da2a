package dev.anneal.runner.stage;

import dev.anneal.protocol.ExitCode;
import dev.anneal.protocol.RunSpec;
import dev.anneal.runner.ckpt.BlobStore;
import dev.anneal.runner.ckpt.CheckpointReader;
import dev.anneal.runner.data.ExampleBatches;
import dev.anneal.runner.events.EventLog;
import dev.anneal.runner.hf.StageShape;
import dev.anneal.runner.model.ModelShape;
import dev.anneal.runner.train.Objective;
import dev.anneal.runner.train.SupervisedTrainer;
import dev.anneal.runner.train.TrainingInputs;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The flow of a stage trained by the {@link SupervisedTrainer}: the resume checkpoint or the
 * starting weights, the kind's inputs, the starting model's figures (on a fresh start), training,
 * the summary — final and held-out loss plus the kind's own figures — and the Hugging Face export.
 * A kind says what differs: its inputs, its objective, its figures.
 */
abstract class SupervisedRun implements StageRun {

  /** The kind's batches and tokenizer (examples are described in the event log). */
  abstract TrainingInputs.Inputs prepare(Attempt a, CheckpointReader.Loaded from);

  Objective objective() {
    return Objective.LANGUAGE_MODEL;
  }

  /** Whether the held-out loss is a language model's, with a perplexity. */
  boolean perplexity() {
    return true;
  }

  /** The starting model's figures, measured on a fresh start so the summary shows the change. */
  Map<String, Double> before(Attempt a, SupervisedTrainer trainer) {
    return Map.of();
  }

  /** Logs what a kind's examples hold, and warns about those longer than seqLen. */
  private static void describeData(Attempt a, ExampleBatches examples) {
    ExampleBatches.Description d = examples.description();
    a.events().log("INFO", d.holds());
    long cut = examples.longerThan(a.seqLen());
    if (cut > 0) a.events().log("WARN", d.cutWarning(cut, a.seqLen()));
  }

  /** The trained model's figures, added to the summary. */
  void after(Attempt a, SupervisedTrainer trainer, Map<String, Double> summary) {}

  @Override
  public final int run(
      RunSpec spec, BlobStore store, EventLog events, AtomicReference<Runnable> current) {
    CheckpointReader.Loaded resume = null;
    CheckpointReader.Loaded init = null;
    if (spec.resumeFrom() != null) {
      resume = CheckpointReader.load(store, spec.resumeFrom().manifestKey());
    } else if (spec.initFrom() != null) {
      init = InitWeights.load(store, spec.initFrom().manifestKey());
    }
    ModelShape shape = StageShape.of(spec, resume != null ? resume : init);
    Attempt attempt = new Attempt(spec, shape, store, events);
    TrainingInputs.Inputs inputs = prepare(attempt, resume != null ? resume : init);
    if (inputs.sampler() instanceof ExampleBatches examples) describeData(attempt, examples);
    try (SupervisedTrainer trainer =
        new SupervisedTrainer(
            spec,
            shape,
            inputs.sampler(),
            inputs.tokenizer(),
            store,
            events,
            true,
            resume,
            init,
            objective())) {
      current.set(trainer::requestStop);
      Map<String, Double> before = resume == null ? before(attempt, trainer) : Map.of();
      SupervisedTrainer.Result r = trainer.run();
      return switch (r.outcome()) {
        case FINISHED -> {
          Map<String, Double> summary = new LinkedHashMap<>();
          summary.put(
              "final_loss",
              r.losses().isEmpty() ? Double.NaN : r.losses().get(r.losses().size() - 1));
          summary.put("tokens_per_s", r.tokensPerSecond());
          if (r.evalLoss() != null) {
            summary.put("eval_loss", r.evalLoss());
            if (perplexity()) summary.put("perplexity", Math.exp(r.evalLoss()));
          }
          summary.put("steps", (double) r.step());
          summary.putAll(before);
          after(attempt, trainer, summary);
          String hf =
              Exports.huggingFace(
                  store,
                  spec,
                  shape,
                  trainer.params(),
                  inputs.tokenizer(),
                  r.step(),
                  summary,
                  Exports.beside(r.lastCheckpoint().manifestKey(), "hf/"));
          events.log("INFO", "Hugging Face export (transformers loads it): " + store.describe(hf));
          yield Reports.finished(events, r.step(), r.lastCheckpoint().manifestKey(), summary);
        }
        case UNSTABLE -> ExitCode.INSTABILITY.code();
        case PREEMPTED -> ExitCode.PREEMPTED.code();
      };
    }
  }
}
