package dev.anneal.runner;

import dev.anneal.protocol.ExitCode;
import dev.anneal.protocol.ObjectStoreTarget;
import dev.anneal.protocol.RunSpec;
import dev.anneal.protocol.RunnerEvent;
import dev.anneal.runner.ckpt.BlobStore;
import dev.anneal.runner.ckpt.CheckpointException;
import dev.anneal.runner.ckpt.DirectoryStore;
import dev.anneal.runner.ckpt.S3Store;
import dev.anneal.runner.data.JsonlTexts;
import dev.anneal.runner.events.EventLog;
import dev.anneal.runner.stage.StageKinds;
import dev.anneal.runner.stage.StageRun;
import dev.anneal.runner.train.FaultInjector;
import dev.anneal.runner.train.TrainingInputs;
import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs one stage attempt from its RunSpec with the {@link StageRun} of its kind, and turns a
 * failure into a protocol exit code, reported as a {@code failed} event.
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
   * Runs the attempt with its kind's {@link StageRun} ({@link StageKinds}); a failure becomes its
   * exit code and a {@code failed} event.
   *
   * @param current receives the trainer's stop request once it exists, so a SIGTERM handler can
   *     stop it
   */
  public static int run(
      RunSpec spec, BlobStore store, EventLog events, AtomicReference<Runnable> current) {
    try {
      return StageKinds.forKind(spec.stage()).run(spec, store, events, current);
    } catch (RuntimeException e) {
      return exitFor(events, e);
    }
  }

  /**
   * The exit code of a failure, reported as a {@code failed} event: bad spec, missing input,
   * corrupt checkpoint, or a crash with where it happened. An injected crash sends nothing — the
   * platform sees only the exit code, as after a real one.
   */
  static int exitFor(EventLog events, RuntimeException e) {
    if (e instanceof FaultInjector.InjectedCrash) return ExitCode.CRASH.code();
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

  private static int fail(EventLog events, ExitCode code, String reason) {
    events.emit(s -> new RunnerEvent.Failed(s, Instant.now(), code.code(), reason));
    return code.code();
  }
}
