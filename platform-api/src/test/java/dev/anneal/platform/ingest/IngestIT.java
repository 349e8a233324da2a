package dev.anneal.platform.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import dev.anneal.activities.metadata.AttemptRef;
import dev.anneal.activities.metadata.MetadataStore;
import dev.anneal.protocol.EventBatch;
import dev.anneal.protocol.ProtocolJson;
import dev.anneal.protocol.RunnerEvent;
import dev.anneal.protocol.StageKind;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

/** The ingestion endpoint on the real embedded stack (PostgreSQL, Temporal, S3 on free ports). */
@SpringBootTest(
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = {
      "anneal.embedded.data-dir=target/it-data/${random.uuid}",
      "anneal.embedded.postgres-port=0",
      "anneal.embedded.temporal-port=0",
      "anneal.embedded.s3-port=0"
    })
class IngestIT {

  @LocalServerPort int port;
  @Autowired MetadataStore store;
  @Autowired AttemptTokens tokens;

  private final HttpClient http = HttpClient.newHttpClient();

  private HttpResponse<String> post(String token, String body) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/internal/v1/events"))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body));
    if (token != null) b.header("Authorization", "Bearer " + token);
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private AttemptRef attempt(String name) {
    UUID team = store.pipelines().ensureTeam("research");
    UUID pipeline = store.pipelines().create(team, name, "{}", "wf-" + name);
    UUID stage = store.stages().create(pipeline, 0, StageKind.PRETRAIN, 10);
    return store.reads().attempt(store.attempts().create(stage, 1, "first")).orElseThrow();
  }

  private static String batch(AttemptRef a, StageKind stage, long... seqs) {
    List<RunnerEvent> events =
        java.util.Arrays.stream(seqs)
            .mapToObj(
                s ->
                    (RunnerEvent)
                        new RunnerEvent.Metrics(
                            s,
                            Instant.now(),
                            List.of(new RunnerEvent.MetricPoint(s - 1, "loss", 4.0 / s))))
            .toList();
    return ProtocolJson.write(
        new EventBatch(a.team(), a.pipelineName(), stage, a.number(), events));
  }

  @Test
  void aRunnerWithItsTokenDeliversEventsOnce() throws Exception {
    AttemptRef a = attempt("ingest-ok");
    String token = tokens.issue(a.attemptId());
    assertThat(token).startsWith("anr_");
    HttpResponse<String> first = post(token, batch(a, StageKind.PRETRAIN, 1, 2, 3));
    assertThat(first.statusCode()).isEqualTo(200);
    assertThat(first.body()).contains("\"accepted\":3").contains("\"duplicates\":0");
    HttpResponse<String> again = post(token, batch(a, StageKind.PRETRAIN, 3, 4));
    assertThat(again.body())
        .contains("\"accepted\":1")
        .contains("\"duplicates\":1")
        .contains("\"lastSeq\":4");
    assertThat(store.reads().count("metrics", a.stageId())).isEqualTo(4);
  }

  @Test
  void badTokensWrongAddressesAndMalformedBatchesAreRefusedAsProblems() throws Exception {
    AttemptRef a = attempt("ingest-bad");
    AttemptRef other = attempt("ingest-other");
    String body = batch(a, StageKind.PRETRAIN, 1);

    HttpResponse<String> none = post(null, body);
    assertThat(none.statusCode()).isEqualTo(401);
    assertThat(none.headers().firstValue("Content-Type"))
        .hasValueSatisfying(v -> assertThat(v).contains("application/problem+json"));

    String forged = tokens.issue(a.attemptId()).replaceAll(".$", "x");
    assertThat(post(forged, body).statusCode()).isEqualTo(401);

    HttpResponse<String> misaddressed = post(tokens.issue(other.attemptId()), body);
    assertThat(misaddressed.statusCode()).isEqualTo(409);
    assertThat(misaddressed.body())
        .containsPattern(
            "but the token is for research/ingest-other-[0-9a-f]{8}/pretrain attempt 1");

    HttpResponse<String> malformed =
        post(tokens.issue(a.attemptId()), body.replace("\"seq\" : 1", "\"seq\" : 0"));
    assertThat(malformed.statusCode()).isEqualTo(400);
    assertThat(malformed.body()).contains("events[0].seq: must be > 0");
  }
}
