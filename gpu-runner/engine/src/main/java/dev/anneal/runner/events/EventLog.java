package dev.anneal.runner.events;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.anneal.protocol.EventBatch;
import dev.anneal.protocol.ProtocolJson;
import dev.anneal.protocol.RunnerEvent;
import dev.anneal.protocol.StageKind;
import java.io.PrintStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Numbers the attempt's events (1, 2, …, no gaps) and hands each one, as a one-event {@link
 * EventBatch} in one JSON line, to a sink: standard output for the platform to read, or memory in
 * tests. Also keeps every event for callers that want to look back.
 */
public final class EventLog {

  private final String team;
  private final String pipeline;
  private final StageKind stage;
  private final int attempt;
  private final Consumer<String> sink;
  private final List<RunnerEvent> events = Collections.synchronizedList(new ArrayList<>());
  private long seq;

  public EventLog(
      String team, String pipeline, StageKind stage, int attempt, Consumer<String> sink) {
    this.team = team;
    this.pipeline = pipeline;
    this.stage = stage;
    this.attempt = attempt;
    this.sink = sink;
  }

  /** Events as JSON lines on a stream (the runner's standard output). */
  public static EventLog toStream(
      String team, String pipeline, StageKind stage, int attempt, PrintStream out) {
    return new EventLog(team, pipeline, stage, attempt, linesTo(out));
  }

  /** Writes each line whole and flushed, however many threads emit. */
  private static Consumer<String> linesTo(PrintStream out) {
    return line -> {
      synchronized (out) {
        out.println(line);
        out.flush();
      }
    };
  }

  public synchronized long nextSeq() {
    return ++seq;
  }

  /** The sequence number the next event will get, minus one. */
  public synchronized long lastSeq() {
    return seq;
  }

  public synchronized void emit(java.util.function.LongFunction<RunnerEvent> make) {
    RunnerEvent e = make.apply(++seq);
    events.add(e);
    try {
      sink.accept(
          ProtocolJson.mapper()
              .writeValueAsString(new EventBatch(team, pipeline, stage, attempt, List.of(e))));
    } catch (JsonProcessingException ex) {
      throw new IllegalStateException(ex);
    }
  }

  public void metrics(long step, Map<String, Double> values) {
    List<RunnerEvent.MetricPoint> points = new ArrayList<>();
    values.forEach((k, v) -> points.add(new RunnerEvent.MetricPoint(step, k, v)));
    emit(s -> new RunnerEvent.Metrics(s, Instant.now(), points));
  }

  public void log(String level, String message) {
    emit(s -> new RunnerEvent.Log(s, Instant.now(), level, message));
  }

  public List<RunnerEvent> events() {
    synchronized (events) {
      return List.copyOf(events);
    }
  }
}
