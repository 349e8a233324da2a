package dev.anneal.runner.events;

import dev.anneal.protocol.EventBatch;
import dev.anneal.protocol.EventSink;
import dev.anneal.protocol.ProtocolJson;
import dev.anneal.protocol.RunnerEvent;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Delivers the runner's events to the platform's ingestion endpoint: every event is first appended
 * to a spool file (so nothing is lost if the process dies), then sent in batches of up to {@code
 * batchSize} events or every {@code flushMillis}, with the attempt's bearer token. A failed POST is
 * retried with exponential backoff (up to 30 s between tries) until it succeeds; the platform drops
 * duplicates by sequence number, so a batch that was stored but not acknowledged is safe to send
 * again.
 */
public final class HttpEventShipper implements Consumer<String>, AutoCloseable {

  private final EventSink sink;
  private final String token;
  private final Path spool;
  private final BufferedWriter spoolWriter;
  private final HttpClient http;
  private final LinkedBlockingDeque<EventBatch> queue = new LinkedBlockingDeque<>();
  private final Thread sender;
  private volatile boolean closing;
  private volatile long delivered;
  private final java.util.concurrent.atomic.AtomicLong accepted =
      new java.util.concurrent.atomic.AtomicLong();
  private volatile String lastError;

  public HttpEventShipper(EventSink sink, String token, Path spool) {
    this.sink = sink;
    this.token = token;
    this.spool = spool;
    try {
      Files.createDirectories(spool.toAbsolutePath().getParent());
      this.spoolWriter =
          Files.newBufferedWriter(
              spool, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open the event spool " + spool, e);
    }
    this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    this.sender = new Thread(this::sendLoop, "event-shipper");
    this.sender.setDaemon(true);
    this.sender.start();
  }

  /** Takes one JSON line from {@link EventLog} (a one-event batch): spool it, queue it. */
  @Override
  public void accept(String line) {
    synchronized (spoolWriter) {
      try {
        spoolWriter.write(line);
        spoolWriter.newLine();
        spoolWriter.flush();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot append to the event spool " + spool, e);
      }
    }
    accepted.incrementAndGet();
    queue.add(ProtocolJson.readEventBatch(line));
  }

  private void sendLoop() {
    long backoff = 200;
    List<EventBatch> pending = new ArrayList<>();
    while (!(closing && queue.isEmpty() && pending.isEmpty())) {
      try {
        if (pending.isEmpty()) {
          EventBatch first = queue.poll(sink.flushMillis(), TimeUnit.MILLISECONDS);
          if (first == null) continue;
          pending.add(first);
        }
        queue.drainTo(pending, Math.max(0, sink.batchSize() - pending.size()));
        if (post(merge(pending))) {
          delivered += pending.size();
          pending.clear();
          backoff = 200;
        } else {
          Thread.sleep(backoff);
          backoff = Math.min(30_000, backoff * 2);
        }
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  private static EventBatch merge(List<EventBatch> batches) {
    EventBatch head = batches.get(0);
    List<RunnerEvent> events = new ArrayList<>();
    for (EventBatch b : batches) events.addAll(b.events());
    return new EventBatch(head.team(), head.pipeline(), head.stage(), head.attempt(), events);
  }

  private boolean post(EventBatch batch) {
    try {
      HttpRequest.Builder req =
          HttpRequest.newBuilder(URI.create(sink.url()))
              .timeout(Duration.ofSeconds(10))
              .header("Content-Type", "application/json")
              .POST(
                  HttpRequest.BodyPublishers.ofString(
                      ProtocolJson.mapper().writeValueAsString(batch)));
      if (token != null) req.header("Authorization", "Bearer " + token);
      HttpResponse<String> res = http.send(req.build(), HttpResponse.BodyHandlers.ofString());
      if (res.statusCode() / 100 == 2) {
        lastError = null;
        return true;
      }
      lastError = "HTTP " + res.statusCode() + " from " + sink.url();
      return false;
    } catch (IOException e) {
      lastError = e.getClass().getSimpleName() + " posting to " + sink.url();
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  public long delivered() {
    return delivered;
  }

  /** Why the last POST failed, or null. */
  public String lastError() {
    return lastError;
  }

  /**
   * Sends what is queued, waiting at most {@code timeout}; returns true if everything was
   * delivered. Undelivered events stay in the spool file.
   */
  public boolean close(Duration timeout) {
    closing = true;
    try {
      sender.join(timeout.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    sender.interrupt();
    synchronized (spoolWriter) {
      try {
        spoolWriter.close();
      } catch (IOException e) {
        // the spool is append-only; a failed close loses nothing already flushed
      }
    }
    // what the sender had taken off the queue but not delivered counts as undelivered too
    return delivered >= accepted.get();
  }

  @Override
  public void close() {
    close(Duration.ofSeconds(30));
  }
}
