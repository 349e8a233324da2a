package dev.anneal.runner.events;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.anneal.protocol.EventBatch;
import dev.anneal.protocol.EventSink;
import dev.anneal.protocol.ProtocolJson;
import dev.anneal.protocol.RunnerEvent;
import dev.anneal.protocol.StageKind;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HttpEventShipperTest {

  @TempDir Path dir;
  private HttpServer server;
  private final List<EventBatch> received = new CopyOnWriteArrayList<>();
  private final List<String> tokens = new CopyOnWriteArrayList<>();
  private final AtomicInteger failFirst = new AtomicInteger();
  private volatile int failStatus = 503;
  private final AtomicInteger posts = new AtomicInteger();

  private String start() throws Exception {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/events",
        exchange -> {
          byte[] body = exchange.getRequestBody().readAllBytes();
          tokens.add(exchange.getRequestHeaders().getFirst("Authorization"));
          posts.incrementAndGet();
          int status = failFirst.getAndDecrement() > 0 ? failStatus : 204;
          if (status == 204)
            received.add(ProtocolJson.readEventBatch(new String(body, StandardCharsets.UTF_8)));
          exchange.sendResponseHeaders(status, -1);
          exchange.close();
        });
    server.start();
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/events";
  }

  @AfterEach
  void stop() {
    if (server != null) server.stop(0);
  }

  private static void emit(EventLog log, int n) {
    for (int i = 0; i < n; i++) {
      log.metrics(i, Map.of("loss", 3.0 - i * 0.01));
    }
  }

  private List<Long> seqs() {
    return received.stream().flatMap(b -> b.events().stream()).map(RunnerEvent::seq).toList();
  }

  @Test
  void deliversEveryEventInOrderInBatchesWithTheToken() throws Exception {
    String url = start();
    try (HttpEventShipper shipper =
        new HttpEventShipper(new EventSink(url, 16, 50), "tok-1", dir.resolve("spool.jsonl"))) {
      EventLog log = new EventLog("t", "p", StageKind.PRETRAIN, 1, shipper);
      emit(log, 100);
      assertThat(shipper.close(Duration.ofSeconds(20))).isTrue();
    }
    assertThat(seqs()).hasSize(100).isSorted().doesNotHaveDuplicates();
    assertThat(received.size()).isLessThan(100);
    assertThat(tokens).containsOnly("Bearer tok-1");
    assertThat(Files.readAllLines(dir.resolve("spool.jsonl"))).hasSize(100);
  }

  @Test
  void retriesUntilThePlatformAnswersAndLosesNothing() throws Exception {
    failFirst.set(3);
    String url = start();
    HttpEventShipper shipper =
        new HttpEventShipper(new EventSink(url, 8, 20), null, dir.resolve("spool.jsonl"));
    EventLog log = new EventLog("t", "p", StageKind.SFT, 2, shipper);
    emit(log, 30);
    assertThat(shipper.close(Duration.ofSeconds(30))).isTrue();
    assertThat(seqs())
        .containsExactlyElementsOf(java.util.stream.LongStream.rangeClosed(1, 30).boxed().toList());
    assertThat(received).allMatch(b -> b.attempt() == 2 && b.stage() == StageKind.SFT);
  }

  @Test
  void aRefusalThatWillNotPassIsNotRetriedAndTheNextBatchesGoOn() throws Exception {
    failFirst.set(1);
    failStatus = 400;
    String url = start();
    HttpEventShipper shipper =
        new HttpEventShipper(new EventSink(url, 4, 20), null, dir.resolve("spool.jsonl"));
    EventLog log = new EventLog("t", "p", StageKind.PRETRAIN, 1, shipper);
    emit(log, 4); // the first batch: refused
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (shipper.refused() == 0 && System.nanoTime() < deadline) Thread.sleep(10);
    emit(log, 8);
    assertThat(shipper.close(Duration.ofSeconds(10))).as("not everything arrived").isFalse();
    long refused = shipper.refused();
    assertThat(refused).isBetween(1L, 4L);
    // the refused batch held the first events; every later one arrived, once
    assertThat(seqs())
        .containsExactlyElementsOf(
            java.util.stream.LongStream.rangeClosed(refused + 1, 12).boxed().toList());
    assertThat(posts.get()).as("the refused batch was sent once").isEqualTo(1 + received.size());
    assertThat(shipper.lastError()).startsWith("HTTP 400 from " + url + ": the platform refused");
    assertThat(Files.readAllLines(dir.resolve("spool.jsonl"))).hasSize(12);
  }

  /**
   * A runner that ends while its shipper waits out a long backoff (the platform was down for a
   * while) tries again at once: its exit is not held up by the wait.
   */
  @Test
  void closingCutsALongBackoffShort() throws Exception {
    failFirst.set(5);
    String url = start();
    HttpEventShipper shipper =
        new HttpEventShipper(new EventSink(url, 8, 20), null, dir.resolve("spool.jsonl"));
    EventLog log = new EventLog("t", "p", StageKind.PRETRAIN, 1, shipper);
    emit(log, 3);
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (posts.get() < 5 && System.nanoTime() < deadline) Thread.sleep(5);
    // the sender now waits 3.2 to 6.4 s before its next try; closing does not wait for that
    assertThat(shipper.close(Duration.ofSeconds(2))).as(shipper.lastError()).isTrue();
    assertThat(seqs()).containsExactly(1L, 2L, 3L);
  }

  @Test
  void anUnreachablePlatformLeavesEverythingInTheSpool() throws Exception {
    HttpEventShipper shipper =
        new HttpEventShipper(
            new EventSink("http://127.0.0.1:1/events", 8, 20), null, dir.resolve("spool.jsonl"));
    EventLog log = new EventLog("t", "p", StageKind.PRETRAIN, 1, shipper);
    emit(log, 5);
    assertThat(shipper.close(Duration.ofMillis(500))).isFalse();
    assertThat(shipper.lastError()).contains("posting to http://127.0.0.1:1/events");
    assertThat(Files.readAllLines(dir.resolve("spool.jsonl"))).hasSize(5);
  }
}
