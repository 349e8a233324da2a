package dev.anneal.runner;

import dev.anneal.protocol.ExitCode;
import dev.anneal.protocol.ObjectStoreTarget;
import dev.anneal.protocol.RunSpec;
import dev.anneal.protocol.RunnerEvent;
import dev.anneal.protocol.StageKind;
import dev.anneal.runner.ckpt.BlobStore;
import dev.anneal.runner.ckpt.CheckpointException;
import dev.anneal.runner.ckpt.CheckpointReader;
import dev.anneal.runner.ckpt.DirectoryStore;
import dev.anneal.runner.ckpt.S3Store;
import dev.anneal.runner.data.JsonlTexts;
import dev.anneal.runner.events.EventLog;
import dev.anneal.runner.model.ModelShape;
import dev.anneal.runner.train.PretrainTrainer;
import dev.anneal.runner.train.TrainingInputs;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
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
   * @param current receives the trainer once it exists, so a SIGTERM handler can stop it
   */
  public static int run(
      RunSpec spec, BlobStore store, EventLog events, AtomicReference<PretrainTrainer> current) {
    if (spec.stage() != StageKind.PRETRAIN) {
      return fail(
          events,
          ExitCode.INVALID_SPEC,
          "stage " + spec.stage().id() + " is not implemented by this runner yet (pretrain is)");
    }
    ModelShape shape;
    CheckpointReader.Loaded resume = null;
    CheckpointReader.Loaded init = null;
    TrainingInputs.Inputs inputs;
    try {
      shape = ModelShape.of(spec.model());
      if (spec.resumeFrom() != null) {
        resume = CheckpointReader.load(store, spec.resumeFrom().manifestKey());
      } else if (spec.initFrom() != null) {
        init = CheckpointReader.load(store, spec.initFrom().manifestKey());
      }
      inputs = TrainingInputs.prepare(spec, shape, store, resume != null ? resume : init);
    } catch (CheckpointException e) {
      return fail(events, ExitCode.CORRUPT_CHECKPOINT, e.getMessage());
    } catch (TrainingInputs.MissingInputException | JsonlTexts.DataException e) {
      return fail(events, ExitCode.INPUT_MISSING, e.getMessage());
    } catch (IllegalArgumentException e) {
      return fail(events, ExitCode.INVALID_SPEC, e.getMessage());
    }
    try (PretrainTrainer trainer =
        new PretrainTrainer(
            spec, shape, inputs.sampler(), inputs.tokenizer(), store, events, true, resume, init)) {
      current.set(trainer);
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
            summary.put("perplexity", Math.exp(r.evalLoss()));
          }
          summary.put("steps", (double) r.step());
          events.emit(
              s ->
                  new RunnerEvent.Finished(
                      s, Instant.now(), r.step(), r.lastCheckpoint().manifestKey(), summary));
          yield ExitCode.SUCCESS.code();
        }
        case UNSTABLE -> ExitCode.INSTABILITY.code();
        case PREEMPTED -> ExitCode.PREEMPTED.code();
      };
    } catch (IllegalArgumentException e) {
      return fail(events, ExitCode.INVALID_SPEC, e.getMessage());
    } catch (CheckpointException e) {
      return fail(events, ExitCode.CORRUPT_CHECKPOINT, e.getMessage());
    } catch (PretrainTrainer.InjectedCrash e) {
      return ExitCode.CRASH.code(); // a crash sends nothing: the platform sees only the exit code
    } catch (RuntimeException e) {
      return fail(events, ExitCode.CRASH, e.toString());
    }
  }

  private static int fail(EventLog events, ExitCode code, String reason) {
    events.emit(s -> new RunnerEvent.Failed(s, Instant.now(), code.code(), reason));
    return code.code();
  }
}
