package dev.anneal.runner.stage;

import dev.anneal.protocol.ExitCode;
import dev.anneal.protocol.RunnerEvent;
import dev.anneal.runner.events.EventLog;
import java.time.Instant;
import java.util.Map;

/** The end of a finished attempt: its {@code finished} event with the kind's summary. */
final class Reports {
  private Reports() {}

  static int finished(EventLog events, long step, String manifestKey, Map<String, Double> summary) {
    events.emit(s -> new RunnerEvent.Finished(s, Instant.now(), step, manifestKey, summary));
    return ExitCode.SUCCESS.code();
  }
}
