package dev.anneal.runner;

import dev.anneal.protocol.EventSink;
import dev.anneal.protocol.RunSpec;
import dev.anneal.runner.events.EventLog;
import dev.anneal.runner.events.HttpEventShipper;
import java.io.PrintStream;
import java.nio.file.Path;

/** The event log of one attempt, on standard output and, when the spec says so, to the platform. */
final class AttemptEvents {
  private AttemptEvents() {}

  /** What an attempt does with its event log: train, or run an engine program. */
  interface Attempt {
    int run(EventLog events);
  }

  /**
   * Runs an attempt with its event log: JSON lines on {@code out}, and when the spec names the
   * platform's endpoint, also spooled to disk and posted there in batches with retries.
   */
  static int run(RunSpec spec, PrintStream out, PrintStream err, Attempt attempt) {
    return run(spec, out, err, attempt, true);
  }

  /**
   * As {@link #run(RunSpec, PrintStream, PrintStream, Attempt)}; {@code ship} false keeps the
   * events on standard output only (a follower node of a multi-node run: the leader reports).
   */
  static int run(RunSpec spec, PrintStream out, PrintStream err, Attempt attempt, boolean ship) {
    if (spec.events() == null || !ship) {
      return attempt.run(
          EventLog.toStream(spec.team(), spec.pipeline(), spec.stage(), spec.attempt(), out));
    }
    try (HttpEventShipper shipper =
        new HttpEventShipper(
            spec.events(), System.getenv(EventSink.TOKEN_ENV), Path.of("events.spool.jsonl"))) {
      EventLog events =
          new EventLog(
              spec.team(),
              spec.pipeline(),
              spec.stage(),
              spec.attempt(),
              line -> {
                synchronized (out) {
                  out.println(line);
                  out.flush();
                }
                shipper.accept(line);
              });
      int code = attempt.run(events);
      if (!shipper.close(java.time.Duration.ofSeconds(30))) {
        err.println(
            "anneal-runner: not every event reached "
                + spec.events().url()
                + " ("
                + shipper.lastError()
                + "); they are kept in events.spool.jsonl");
      }
      return code;
    }
  }
}
