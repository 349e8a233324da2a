package dev.anneal.platform.api.pipelines;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anneal.platform.api.web.ApiProperties;
import dev.anneal.workflows.api.status.PipelineStatus;
import jakarta.annotation.PreDestroy;
import java.io.IOException;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.springframework.http.MediaType;
import org.springframework.stereotype.Component;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;

/**
 * Server-Sent Events of a pipeline's log: every new event row (stage decisions, runner logs,
 * instabilities, checkpoints, and metric points — a {@code metrics} event carries its points), in
 * order, each with its row id as the SSE id so a client that reconnects with {@code Last-Event-ID}
 * misses nothing. When the pipeline has ended and every event has been sent, an {@code end} event
 * closes the stream. A comment every 15 s keeps proxies from closing an idle stream.
 */
@Component
public class EventStreams {
  private static final long HEARTBEAT_MILLIS = 15_000;
  private static final int BATCH = 500;

  private final Pipelines pipelines;
  private final EventReads events;
  private final ObjectMapper json;
  private final long interval;
  private final ScheduledExecutorService timer =
      Executors.newScheduledThreadPool(
          2,
          r -> {
            Thread t = new Thread(r, "anneal-sse");
            t.setDaemon(true);
            return t;
          });

  public EventStreams(
      Pipelines pipelines, EventReads events, ObjectMapper json, ApiProperties props) {
    this.pipelines = pipelines;
    this.events = events;
    this.json = json;
    this.interval = props.sseIntervalMillis();
  }

  public SseEmitter open(UUID pipeline, long after) {
    SseEmitter emitter = new SseEmitter(0L);
    AtomicReference<ScheduledFuture<?>> task = new AtomicReference<>();
    long[] last = {after};
    long[] lastSent = {System.currentTimeMillis()};
    Runnable poll =
        () -> {
          try {
            // read before the events: an end seen here has all its events below
            String status = pipelines.status(pipeline);
            boolean ended = status != null && PipelineStatus.valueOf(status).isFinal();
            List<EventReads.Event> rows;
            do {
              rows = events.events(pipeline, last[0], BATCH, null, null);
              for (EventReads.Event e : rows) {
                emitter.send(
                    SseEmitter.event()
                        .id(Long.toString(e.id()))
                        .name(e.type())
                        .data(json.writeValueAsString(e), MediaType.APPLICATION_JSON));
                last[0] = e.id();
                lastSent[0] = System.currentTimeMillis();
              }
            } while (rows.size() == BATCH);
            if (ended) {
              emitter.send(SseEmitter.event().name("end").data("{\"status\":\"" + status + "\"}"));
              emitter.complete();
              cancel(task);
            } else if (System.currentTimeMillis() - lastSent[0] > HEARTBEAT_MILLIS) {
              emitter.send(SseEmitter.event().comment("keep-alive"));
              lastSent[0] = System.currentTimeMillis();
            }
          } catch (IOException | IllegalStateException e) {
            // the client went away
            cancel(task);
          } catch (RuntimeException e) {
            emitter.completeWithError(e);
            cancel(task);
          }
        };
    emitter.onCompletion(() -> cancel(task));
    emitter.onTimeout(() -> cancel(task));
    emitter.onError(t -> cancel(task));
    task.set(timer.scheduleWithFixedDelay(poll, 0, interval, TimeUnit.MILLISECONDS));
    return emitter;
  }

  private static void cancel(AtomicReference<ScheduledFuture<?>> task) {
    ScheduledFuture<?> f = task.get();
    if (f != null) f.cancel(false);
  }

  @PreDestroy
  void stop() {
    timer.shutdownNow();
  }
}
