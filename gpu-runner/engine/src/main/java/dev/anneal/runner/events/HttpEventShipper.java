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
 * batchSize} events or every {@code flushMillis}, with the attempt's bearer token. A POST that
 * failed for a reason that passes (no answer, a 5xx, 408, 429) is retried with exponential backoff
 * and jitter (a wait drawn between half the ceiling and the ceiling, which doubles from 200 ms to
 * 30 s; a {@code Retry-After} the platform sends is honoured up to 30 s) until it succeeds; the
 * platform drops duplicates by sequence number, so a batch that was stored but not acknowledged is
 * safe to send again. Any other 4xx is final for that batch: the platform refused it (a bad token,
 * a batch for another attempt), sending it again cannot help, so it stays in the spool only, the
 * refusal is reported ({@link #lastError}, {@link #refused}) and the next batches are sent.
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
  private volatile long refused;

  /** The last final refusal, kept past later successes so that the end of the run reports it. */
  private volatile String refusal;

  private final java.util.Random jitter = new java.util.Random();

  /** How a POST went. */
  private enum Sent {
    DELIVERED,
    RETRY,
    REFUSED
  }

  /** Seconds from the last answer's Retry-After header, or 0. */
  private volatile long retryAfterMs;

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

  /** Counted down by {@link #close}: ends the sender's backoff wait. */
  private final java.util.concurrent.CountDownLatch wake =
      new java.util.concurrent.CountDownLatch(1);

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
        Sent sent = post(merge(pending));
        if (sent == Sent.DELIVERED) {
          delivered += pending.size();
          pending.clear();
          backoff = 200;
        } else if (sent == Sent.REFUSED) {
          refused += pending.size(); // final: kept in the spool, never sent again
          pending.clear();
        } else {
          long wait = backoff / 2 + (long) (jitter.nextDouble() * (backoff / 2.0));
          // close() cuts a long wait short: a runner that is ending tries again at once, then
          // every second at most, for as long as close() allows
          wake.await(Math.min(30_000, Math.max(wait, retryAfterMs)), TimeUnit.MILLISECONDS);
          backoff = Math.min(closing ? 1_000 : 30_000, backoff * 2);
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

  private Sent post(EventBatch batch) {
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
      int status = res.statusCode();
      if (status / 100 == 2) {
        lastError = refusal;
        retryAfterMs = 0;
        return Sent.DELIVERED;
      }
      retryAfterMs =
          res.headers()
              .firstValue("Retry-After")
              .map(HttpEventShipper::seconds)
              .map(sec -> Math.min(30_000, sec * 1000))
              .orElse(0L);
      if (status / 100 == 4 && status != 408 && status != 429) {
        refusal =
            "HTTP "
                + status
                + " from "
                + sink.url()
                + ": the platform refused "
                + batch.events().size()
                + " event(s); not sent again (they stay in the spool): "
                + res.body().lines().findFirst().orElse("");
        lastError = refusal;
        return Sent.REFUSED;
      }
      lastError = "HTTP " + status + " from " + sink.url();
      return Sent.RETRY;
    } catch (IOException e) {
      lastError = e.getClass().getSimpleName() + " posting to " + sink.url();
      return Sent.RETRY;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Sent.RETRY;
    }
  }

  private static long seconds(String header) {
    try {
      return Math.max(0, Long.parseLong(header.trim()));
    } catch (NumberFormatException e) {
      return 0; // an HTTP date: the usual backoff applies
    }
  }

  public long delivered() {
    return delivered;
  }

  /** Events the platform refused with a final 4xx; they are in the spool only. */
  public long refused() {
    return refused;
  }

  /** Why the last POST failed (or the last refusal, which stays), or null. */
  public String lastError() {
    return lastError;
  }

  /**
   * Sends what is queued, waiting at most {@code timeout}; returns true if everything was
   * delivered. Undelivered events stay in the spool file.
   */
  public boolean close(Duration timeout) {
    closing = true;
    wake.countDown();
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
