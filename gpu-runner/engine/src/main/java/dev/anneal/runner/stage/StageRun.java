package dev.anneal.runner.stage;

import dev.anneal.protocol.RunSpec;
import dev.anneal.runner.ckpt.BlobStore;
import dev.anneal.runner.events.EventLog;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One stage kind's attempt: it resolves the kind's inputs, trains, reports the kind's figures in
 * its {@code finished} summary and exports the result. A new stage kind is a class implementing
 * this and an entry in {@link StageKinds} (plus its spec fields; docs/architecture.md).
 */
public interface StageRun {

  /**
   * Runs the attempt to its end.
   *
   * @param current receives the trainer's stop request once it exists, so a SIGTERM handler can
   *     stop it
   * @return the protocol exit code of a run that ended (finished, unstable, preempted); a failure
   *     is thrown, and the runner turns it into its exit code and {@code failed} event
   */
  int run(RunSpec spec, BlobStore store, EventLog events, AtomicReference<Runnable> current);
}
