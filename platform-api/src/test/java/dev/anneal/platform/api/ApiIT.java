package dev.anneal.platform.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.anneal.activities.metadata.AttemptRef;
import dev.anneal.activities.metadata.MetadataStore;
import dev.anneal.platform.EmbeddedStackTest;
import dev.anneal.platform.cli.client.ApiClient;
import dev.anneal.protocol.EventBatch;
import dev.anneal.protocol.RunnerEvent;
import dev.anneal.protocol.StageKind;
import dev.anneal.workflows.api.status.PipelineStatus;
import java.net.http.HttpResponse;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

/**
 * The team API end to end on the embedded stack: tokens and scopes, submissions (validation,
 * idempotency, quotas, actions), lists, metrics, events and their stream, datasets, and RFC 9457
 * errors everywhere.
 */
@EmbeddedStackTest
@ExtendWith(OutputCaptureExtension.class)
class ApiIT extends ApiTestSupport {

  @Autowired MetadataStore meta;

  @Autowired
  @org.springframework.beans.factory.annotation.Qualifier("requestMappingHandlerMapping")
  org.springframework.web.servlet.mvc.method.annotation.RequestMappingHandlerMapping mappings;

  @Test
  void tokensCarryScopesAndARevokedOneStopsAtOnce(CapturedOutput output) throws Exception {
    String[] alpha = team("alpha");
    ApiClient admin = client(alpha[1]);
    JsonNode me = admin.get("/api/v1/me");
    assertThat(me.path("team").asText()).isEqualTo(alpha[0]);
    assertThat(me.path("operator").asBoolean()).isFalse();

    JsonNode made =
        admin.postJson(
            "/api/v1/teams/" + alpha[0] + "/tokens",
            Map.of("name", "notebook", "scopes", List.of("read")));
    String read = made.path("token").asText();
    assertThat(read).startsWith("anl_");
    assertThat(made.path("info").path("prefix").asText()).isEqualTo(read.substring(0, 12));

    // read may list; it may not submit: 403 with what it has and what is needed
    assertThat(client(read).get("/api/v1/pipelines").path("pipelines").isArray()).isTrue();
    HttpResponse<String> denied =
        send(req("POST", "/api/v1/pipelines", read, "application/yaml", "kind: Pipeline"));
    assertThat(denied.statusCode()).isEqualTo(403);
    assertThat(denied.headers().firstValue("Content-Type")).hasValue("application/problem+json");
    assertThat(json(denied).path("detail").asText()).contains("[read]").contains("needs 'submit'");

    // a team admin is not an operator
    HttpResponse<String> notOperator =
        send(req("POST", "/api/v1/teams", alpha[1], "application/json", "{\"name\":\"x\"}"));
    assertThat(notOperator.statusCode()).isEqualTo(403);
    assertThat(json(notOperator).path("type").asText()).endsWith("/operator-only");

    // the listing shows prefixes and use, never a secret
    JsonNode tokens = admin.get("/api/v1/teams/" + alpha[0] + "/tokens");
    assertThat(tokens.toString()).doesNotContain(read).doesNotContain(alpha[1]);
    JsonNode notebook = null;
    for (JsonNode t : tokens.path("tokens"))
      if (t.path("name").asText().equals("notebook")) notebook = t;
    assertThat(notebook).isNotNull();
    assertThat(notebook.path("lastUsedAt").isNull()).isFalse();

    admin.delete("/api/v1/teams/" + alpha[0] + "/tokens/" + notebook.path("id").asText());
    HttpResponse<String> revoked = send(req("GET", "/api/v1/pipelines", read, null, null));
    assertThat(revoked.statusCode()).isEqualTo(401);
    assertThat(json(revoked).path("type").asText()).endsWith("/unauthenticated");
    assertThat(send(req("GET", "/api/v1/pipelines", null, null, null)).statusCode()).isEqualTo(401);
    assertThat(
            send(req("GET", "/api/v1/pipelines", "anl_" + "x".repeat(38), null, null)).statusCode())
        .isEqualTo(401);

    // members
    admin.postJson(
        "/api/v1/teams/" + alpha[0] + "/members",
        Map.of("email", "Ada@example.org", "role", "admin"));
    assertThat(admin.get("/api/v1/teams/" + alpha[0] + "/members").toString())
        .contains("ada@example.org");
    admin.delete("/api/v1/teams/" + alpha[0] + "/members/ada@example.org");
    assertThat(admin.get("/api/v1/teams/" + alpha[0] + "/members").path("members")).isEmpty();

    // tokens never reach the logs, not even from refused requests
    assertThat(output.getAll()).doesNotContain(read).doesNotContain(alpha[1]);
  }

  @Test
  void submissionsAreValidatedIdempotentQuotaBoundAndControllable() throws Exception {
    String[] beta = team("beta");
    ApiClient api = client(beta[1]);
    api.post("/api/v1/datasets/prose", "application/x-ndjson", textDataset(50), Map.of());

    // validation errors name the field
    HttpResponse<String> bad =
        send(
            req(
                "POST",
                "/api/v1/pipelines",
                beta[1],
                "application/yaml",
                pretrainSpec("v", "dataset:prose", 10).replace("lr: 0.002", "lr: -1")));
    assertThat(bad.statusCode()).isEqualTo(422);
    assertThat(json(bad).path("field").asText()).isEqualTo("stages[0].hyperparameters.lr");
    HttpResponse<String> unknown =
        send(
            req(
                "POST",
                "/api/v1/pipelines",
                beta[1],
                "application/yaml",
                pretrainSpec("v", "dataset:prose", 10)
                    .replace("seqLen: 32", "seqLen: 32, sqeLen: 3")));
    assertThat(unknown.statusCode()).isEqualTo(422);
    assertThat(json(unknown).path("detail").asText()).contains("sqeLen");
    HttpResponse<String> missing =
        send(
            req(
                "POST",
                "/api/v1/pipelines",
                beta[1],
                "application/yaml",
                pretrainSpec("v", "dataset:nope", 10)));
    assertThat(missing.statusCode()).isEqualTo(422);
    assertThat(json(missing).path("field").asText()).isEqualTo("datasets[0].source");
    assertThat(json(missing).path("detail").asText()).contains("has no dataset 'nope'");
    HttpResponse<String> file =
        send(
            req(
                "POST",
                "/api/v1/pipelines",
                beta[1],
                "application/yaml",
                pretrainSpec("v", "file:/etc/passwd", 10)));
    assertThat(file.statusCode()).isEqualTo(422);
    // a team's own program is an operator's choice, off by default
    HttpResponse<String> own =
        send(
            req(
                "POST",
                "/api/v1/pipelines",
                beta[1],
                "application/yaml",
                pretrainSpec("v", "dataset:prose", 10)
                    .replace(
                        "    data: [{dataset: prose}]",
                        "    engine: {kind: command, command: [python3, train.py]}\n"
                            + "    data: [{dataset: prose}]")));
    assertThat(own.statusCode()).isEqualTo(422);
    assertThat(json(own).path("field").asText()).isEqualTo("stages[0].engine.kind");
    assertThat(json(own).path("detail").asText())
        .contains("command engines are off on this platform")
        .contains("anneal.engines.command-enabled");
    HttpResponse<String> otherTeam =
        send(
            req(
                "POST",
                "/api/v1/pipelines",
                beta[1],
                "application/yaml",
                pretrainSpec("v", "dataset:prose", 10)
                    .replace("{name: v}", "{name: v, team: someone-else}")));
    assertThat(otherTeam.statusCode()).isEqualTo(422);
    assertThat(json(otherTeam).path("field").asText()).isEqualTo("metadata.team");

    // Idempotency-Key: the retry gets the same pipeline; another body with the key is refused
    String spec = pretrainSpec("idem", "dataset:prose", 2000);
    HttpResponse<String> first =
        send(
            req("POST", "/api/v1/pipelines", beta[1], "application/yaml", spec)
                .header("Idempotency-Key", "k-1"));
    assertThat(first.statusCode()).isEqualTo(201);
    String id = json(first).path("id").asText();
    assertThat(first.headers().firstValue("Location")).hasValue("/api/v1/pipelines/" + id);
    HttpResponse<String> retry =
        send(
            req("POST", "/api/v1/pipelines", beta[1], "application/yaml", spec)
                .header("Idempotency-Key", "k-1"));
    assertThat(retry.statusCode()).isEqualTo(200);
    assertThat(retry.headers().firstValue("Idempotent-Replayed")).hasValue("true");
    assertThat(json(retry).path("id").asText()).isEqualTo(id);
    HttpResponse<String> reused =
        send(
            req(
                    "POST",
                    "/api/v1/pipelines",
                    beta[1],
                    "application/yaml",
                    spec.replace("2000", "2001"))
                .header("Idempotency-Key", "k-1"));
    assertThat(reused.statusCode()).isEqualTo(422);
    assertThat(json(reused).path("pipeline").asText()).isEqualTo(id);

    // the submission pinned the dataset's version and records the lineage
    JsonNode detail = api.get("/api/v1/pipelines/" + id);
    assertThat(detail.at("/spec/datasets/0/source").asText()).isEqualTo("dataset:prose@v1");
    assertThat(detail.at("/lineage/datasets/0/name").asText()).isEqualTo("prose");
    assertThat(detail.at("/stages/0/name").asText()).isEqualTo("pretrain");

    // quota: one at a time means the next submission is 429 with the figures
    client(operatorToken())
        .patchJson("/api/v1/teams/" + beta[0], Map.of("maxConcurrentPipelines", 1));
    HttpResponse<String> over =
        send(
            req(
                "POST",
                "/api/v1/pipelines",
                beta[1],
                "application/yaml",
                pretrainSpec("second", "dataset:prose", 10)));
    assertThat(over.statusCode()).isEqualTo(429);
    JsonNode quota = json(over);
    assertThat(quota.path("limit").asInt()).isEqualTo(1);
    assertThat(quota.path("used").asInt()).isEqualTo(1);
    assertThat(api.get("/api/v1/teams/" + beta[0] + "/usage").path("activePipelines").asInt())
        .isEqualTo(1);

    // a GPU-hours quota, used up, refuses too
    String[] zeta = team("zeta");
    client(operatorToken()).patchJson("/api/v1/teams/" + zeta[0], Map.of("gpuHoursQuota", 0));
    HttpResponse<String> noHours =
        send(
            req(
                "POST",
                "/api/v1/pipelines",
                zeta[1],
                "application/yaml",
                pretrainSpec("gpu", "synthetic:prose?docs=10", 10)));
    assertThat(noHours.statusCode()).isEqualTo(429);
    assertThat(json(noHours).path("quota").asText()).isEqualTo("gpuHours");
    assertThat(json(noHours).path("detail").asText()).contains("GPU-hours");

    // a dataset an active pipeline reads cannot be deleted
    HttpResponse<String> inUse = send(req("DELETE", "/api/v1/datasets/prose", beta[1], null, null));
    assertThat(inUse.statusCode()).isEqualTo(409);
    assertThat(json(inUse).path("pipelines").toString()).contains(id);

    // actions: pause and resume are accepted; cancel ends it; acting on an ended one is 409
    assertThat(
            send(req("POST", "/api/v1/pipelines/" + id + "/pause", beta[1], null, null))
                .statusCode())
        .isEqualTo(202);
    assertThat(
            send(req("POST", "/api/v1/pipelines/" + id + "/resume", beta[1], null, null))
                .statusCode())
        .isEqualTo(202);
    HttpResponse<String> approveWho =
        send(
            req(
                "POST",
                "/api/v1/pipelines/" + id + "/approve",
                beta[1],
                "application/json",
                "{\"stage\":\"nope\"}"));
    assertThat(approveWho.statusCode()).isEqualTo(404);
    assertThat(
            send(req("POST", "/api/v1/pipelines/" + id + "/cancel", beta[1], null, null))
                .statusCode())
        .isEqualTo(202);
    awaitStatus(api, id, "CANCELLED");
    HttpResponse<String> again =
        send(req("POST", "/api/v1/pipelines/" + id + "/cancel", beta[1], null, null));
    assertThat(again.statusCode()).isEqualTo(409);

    // clone with an edit: a new pipeline that remembers where it came from
    HttpResponse<String> clone =
        send(
            req(
                "POST",
                "/api/v1/pipelines/" + id + "/clone",
                beta[1],
                "application/json",
                "{\"set\": {\"metadata.name\": \"idem-2\", \"stages[0].hyperparameters.steps\": 3000}}"));
    assertThat(clone.statusCode()).isEqualTo(201);
    JsonNode cloned = json(clone);
    assertThat(cloned.path("name").asText()).isEqualTo("idem-2");
    assertThat(cloned.at("/lineage/clonedFrom").asText()).isEqualTo(id);
    assertThat(cloned.at("/spec/stages/0/hyperparameters/steps").asInt()).isEqualTo(3000);
    HttpResponse<String> badEdit =
        send(
            req(
                "POST",
                "/api/v1/pipelines/" + id + "/clone",
                beta[1],
                "application/json",
                "{\"set\": {\"stages[0].hyperparameters.stpes\": 3}}"));
    assertThat(badEdit.statusCode()).isEqualTo(422);
    assertThat(json(badEdit).path("detail").asText()).contains("stpes");
    api.post(
        "/api/v1/pipelines/" + cloned.path("id").asText() + "/cancel",
        "application/json",
        "",
        Map.of());
    awaitStatus(api, cloned.path("id").asText(), "CANCELLED");

    // with nothing active the dataset goes, and its object with it
    api.delete("/api/v1/datasets/prose/versions/1");
    assertThat(api.get("/api/v1/datasets/prose").at("/versions/0/deletedAt").isNull()).isFalse();
  }

  static void awaitStatus(ApiClient api, String id, String status) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    String now = null;
    while (System.nanoTime() < deadline) {
      now = api.get("/api/v1/pipelines/" + id).path("status").asText();
      if (now.equals(status)) return;
      Thread.sleep(250);
    }
    throw new AssertionError("pipeline " + id + " is " + now + ", not " + status);
  }

  /** A pipeline with one stage, written straight into PostgreSQL (nothing runs). */
  UUID[] pipelineRow(String team, String name, String status, Instant created) {
    UUID teamId = jdbc.queryForObject("SELECT id FROM teams WHERE name = ?", UUID.class, team);
    UUID p = UUID.randomUUID();
    jdbc.update(
        "INSERT INTO pipelines (id, team_id, name, spec, status, workflow_id, created_at)"
            + " VALUES (?, ?, ?, '{}'::jsonb, ?, ?, ?)",
        p,
        teamId,
        name,
        status,
        "wf-" + p,
        Timestamp.from(created));
    UUID s = meta.stages().create(p, 0, "pretrain", StageKind.PRETRAIN, 100_000, 0);
    return new UUID[] {p, s};
  }

  @Test
  void listsPageNewestFirstAndFilter() throws Exception {
    String[] gamma = team("gamma");
    ApiClient api = client(gamma[1]);
    Instant t0 = Instant.parse("2026-01-01T00:00:00Z");
    List<String> made = new ArrayList<>();
    for (int i = 0; i < 120; i++) {
      String status = i % 3 == 0 ? "FAILED" : "SUCCEEDED";
      made.add(
          pipelineRow(gamma[0], i % 2 == 0 ? "even" : "odd", status, t0.plusSeconds(i))[0]
              .toString());
    }
    List<String> seen = new ArrayList<>();
    String token = null;
    int pages = 0;
    do {
      JsonNode page =
          api.get(
              "/api/v1/pipelines"
                  + ApiClient.query(
                      Map.of("pageSize", 50, "pageToken", token == null ? "" : token)));
      for (JsonNode p : page.path("pipelines")) seen.add(p.path("id").asText());
      token = page.path("nextPageToken").isNull() ? null : page.path("nextPageToken").asText();
      pages++;
    } while (token != null);
    assertThat(pages).isEqualTo(3);
    assertThat(seen).hasSize(120).doesNotHaveDuplicates();
    assertThat(seen.get(0)).isEqualTo(made.get(119));
    assertThat(seen.get(119)).isEqualTo(made.get(0));

    JsonNode failed = api.get("/api/v1/pipelines?status=FAILED&pageSize=1000");
    assertThat(failed.path("pipelines")).hasSize(40);
    JsonNode evenLate =
        api.get(
            "/api/v1/pipelines"
                + ApiClient.query(
                    Map.of("name", "even", "createdAfter", t0.plusSeconds(100).toString())));
    assertThat(evenLate.path("pipelines")).hasSize(10);
    HttpResponse<String> badStatus =
        send(req("GET", "/api/v1/pipelines?status=DONE", gamma[1], null, null));
    assertThat(badStatus.statusCode()).isEqualTo(400);
    assertThat(json(badStatus).path("field").asText()).isEqualTo("status");
    assertThat(
            send(req("GET", "/api/v1/pipelines?pageToken=zzz", gamma[1], null, null)).statusCode())
        .isEqualTo(400);
  }

  private static EventBatch metrics(AttemptRef a, long seq0, long from, long to, double spikeAt) {
    List<RunnerEvent> events = new ArrayList<>();
    long seq = seq0;
    for (long step = from; step < to; step += 100) {
      List<RunnerEvent.MetricPoint> pts = new ArrayList<>();
      for (long s = step; s < Math.min(step + 100, to); s++) {
        pts.add(new RunnerEvent.MetricPoint(s, "loss", s == spikeAt ? 100.0 : 3.0 - s * 1e-4));
      }
      events.add(new RunnerEvent.Metrics(seq++, Instant.now(), pts));
    }
    return new EventBatch(a.team(), a.pipelineName(), a.stage(), a.number(), events);
  }

  @Test
  void metricsAreDownsampledWithSpikesKeptAndEventsStreamResumably() throws Exception {
    String[] delta = team("delta");
    ApiClient api = client(delta[1]);
    UUID[] ps = pipelineRow(delta[0], "curves", "RUNNING", Instant.now());
    AttemptRef a1 = meta.reads().attempt(meta.attempts().create(ps[1], 1, "first")).orElseThrow();
    meta.ingestion().ingest(a1, metrics(a1, 1, 0, 10_000, 4321));
    // a rollback: attempt 2 replays steps 9,000 onwards
    AttemptRef a2 =
        meta.reads().attempt(meta.attempts().create(ps[1], 2, "rollback")).orElseThrow();
    meta.ingestion().ingest(a2, metrics(a2, 1, 9_000, 12_000, -1));

    String path = "/api/v1/pipelines/" + ps[0] + "/stages/pretrain/metrics";
    JsonNode read = api.get(path + "?name=loss&maxPoints=500");
    JsonNode loss = read.path("series").get(0);
    assertThat(loss.path("points").asLong()).isEqualTo(13_000);
    assertThat(loss.path("data").size()).isLessThanOrEqualTo(500).isGreaterThan(200);
    double max = 0;
    Set<Integer> attempts = new HashSet<>();
    for (JsonNode p : loss.path("data")) {
      max = Math.max(max, p.path("max").asDouble());
      attempts.add(p.path("attempt").asInt());
    }
    assertThat(max).as("the spike survives downsampling").isEqualTo(100.0);
    assertThat(attempts).containsExactlyInAnyOrder(1, 2);
    // coarser than the rollup buckets (16 steps): read from the rollups, same extent and counts
    JsonNode coarse = api.get(path + "?name=loss&maxPoints=100").path("series").get(0);
    assertThat(coarse.path("bucketSteps").asLong() % 16).isZero();
    assertThat(coarse.path("data").size()).isLessThanOrEqualTo(100).isGreaterThan(30);
    long counted = 0;
    double coarseMax = 0;
    for (JsonNode p : coarse.path("data")) {
      counted += p.path("count").asLong();
      coarseMax = Math.max(coarseMax, p.path("max").asDouble());
    }
    assertThat(counted).isEqualTo(13_000);
    assertThat(coarseMax).isEqualTo(100.0);
    JsonNode window = api.get(path + "?name=loss&fromStep=4300&toStep=4349");
    assertThat(window.at("/series/0/data")).hasSize(50);
    assertThat(window.at("/series/0/bucketSteps").asLong()).isEqualTo(1);
    HttpResponse<String> tooMany =
        send(req("GET", path + "?maxPoints=100000", delta[1], null, null));
    assertThat(tooMany.statusCode()).isEqualTo(400);
    assertThat(
            send(req(
                    "GET",
                    "/api/v1/pipelines/" + ps[0] + "/stages/nope/metrics",
                    delta[1],
                    null,
                    null))
                .statusCode())
        .isEqualTo(404);

    // the log, paged
    JsonNode page1 = api.get("/api/v1/pipelines/" + ps[0] + "/events?limit=50");
    assertThat(page1.path("events")).hasSize(50);
    long after = page1.path("nextAfter").asLong();
    JsonNode page2 = api.get("/api/v1/pipelines/" + ps[0] + "/events?limit=1000&after=" + after);
    assertThat(page2.path("events")).hasSize(130 - 50);
    assertThat(page2.at("/events/0/id").asLong()).isGreaterThan(after);
    assertThat(page2.at("/events/0/payload/points")).hasSize(100);
    // a tail: newest first, and the page before it
    JsonNode tail = api.get("/api/v1/pipelines/" + ps[0] + "/events?order=desc&limit=10");
    assertThat(tail.at("/events/0/id").asLong()).isGreaterThan(tail.at("/events/9/id").asLong());
    JsonNode before =
        api.get(
            "/api/v1/pipelines/"
                + ps[0]
                + "/events?order=desc&limit=10&before="
                + tail.path("nextBefore").asLong());
    assertThat(before.at("/events/0/id").asLong()).isEqualTo(tail.at("/events/9/id").asLong() - 1);

    // the stream from event k on (Last-Event-ID), with new events as they come, until the end
    List<ApiClient.Sse> got = new CopyOnWriteArrayList<>();
    CompletableFuture<String> done =
        CompletableFuture.supplyAsync(
            () ->
                api.stream(
                    "/api/v1/pipelines/" + ps[0] + "/events/stream",
                    Long.toString(after),
                    got::add));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (got.size() < 80 && System.nanoTime() < deadline) Thread.sleep(50);
    assertThat(Long.parseLong(got.get(0).id())).isEqualTo(page2.at("/events/0/id").asLong());
    meta.ingestion()
        .ingest(
            a2,
            new EventBatch(
                a2.team(),
                a2.pipelineName(),
                a2.stage(),
                2,
                List.of(new RunnerEvent.Log(31, Instant.now(), "INFO", "a late line"))));
    meta.pipelines().setStatus(ps[0], PipelineStatus.SUCCEEDED, null);
    done.get(30, TimeUnit.SECONDS);
    assertThat(got).anyMatch(e -> e.data().contains("a late line"));
    assertThat(got.get(got.size() - 1).event()).isEqualTo("end");
    assertThat(got.stream().filter(e -> e.id() != null).map(ApiClient.Sse::id))
        .doesNotHaveDuplicates();
  }

  @Test
  void everyErrorIsAProblemDocument() throws Exception {
    String token = operatorToken();
    HttpResponse<String> unmapped = send(req("GET", "/api/v1/nothing-here", token, null, null));
    assertThat(unmapped.statusCode()).isEqualTo(404);
    assertThat(unmapped.headers().firstValue("Content-Type")).hasValue("application/problem+json");
    assertThat(json(unmapped).path("status").asInt()).isEqualTo(404);
    HttpResponse<String> method =
        send(req("PUT", "/api/v1/pipelines", token, "application/json", "{}"));
    assertThat(method.statusCode()).isEqualTo(405);
    assertThat(method.headers().firstValue("Content-Type")).hasValue("application/problem+json");
    HttpResponse<String> notUuid =
        send(req("GET", "/api/v1/pipelines/not-a-uuid", token, null, null));
    assertThat(notUuid.statusCode()).isEqualTo(404);
    assertThat(json(notUuid).path("type").asText()).endsWith("/not-found");
    HttpResponse<String> malformed =
        send(req("POST", "/api/v1/teams", token, "application/json", "{\"name\": "));
    assertThat(malformed.statusCode()).isEqualTo(400);
    assertThat(malformed.headers().firstValue("Content-Type")).hasValue("application/problem+json");
    // strict types: a number where a name belongs is refused, not coerced to "5"; an unknown
    // field is refused; neither leaves a team behind
    HttpResponse<String> wrongType =
        send(req("POST", "/api/v1/teams", token, "application/json", "{\"name\": 5}"));
    assertThat(wrongType.statusCode()).as(wrongType.body()).isEqualTo(400);
    assertThat(json(wrongType).path("field").asText()).isEqualTo("name");
    assertThat(json(wrongType).path("detail").asText()).isEqualTo("name: must be a string");
    HttpResponse<String> wrongNumber =
        send(
            req(
                "POST",
                "/api/v1/teams",
                token,
                "application/json",
                "{\"name\": \"strict-q\", \"maxConcurrentPipelines\": \"3\"}"));
    assertThat(wrongNumber.statusCode()).isEqualTo(400);
    assertThat(json(wrongNumber).path("detail").asText())
        .isEqualTo("maxConcurrentPipelines: must be an integer");
    HttpResponse<String> unknown =
        send(
            req(
                "POST",
                "/api/v1/teams",
                token,
                "application/json",
                "{\"name\": \"strict-q\", \"nmae\": \"x\"}"));
    assertThat(unknown.statusCode()).isEqualTo(400);
    assertThat(json(unknown).path("detail").asText()).isEqualTo("nmae: unknown field");
    assertThat(send(req("GET", "/api/v1/teams/strict-q", token, null, null)).statusCode())
        .isEqualTo(404);
    // what Tomcat refuses before any servlet sees it answers problem+json as well
    HttpResponse<String> slash = send(req("GET", "/api/v1/pipelines/a%2Fb", token, null, null));
    assertThat(slash.statusCode()).isEqualTo(400);
    assertThat(slash.headers().firstValue("Content-Type"))
        .hasValueSatisfying(v -> assertThat(v).startsWith("application/problem+json"));
    assertThat(json(slash).path("status").asInt()).isEqualTo(400);
    assertThat(json(slash).path("detail").asText()).contains("refused the request");
    HttpResponse<String> yaml =
        send(req("POST", "/api/v1/pipelines", token, "application/yaml", "stages: [\n"));
    assertThat(yaml.statusCode()).isEqualTo(422);
    assertThat(json(yaml).path("detail").asText()).contains("malformed YAML at line");
    // a body over the limit is refused before it is read
    HttpResponse<String> huge =
        send(req("POST", "/api/v1/pipelines", token, "application/yaml", "#".repeat(2 << 20)));
    assertThat(huge.statusCode()).isEqualTo(413);
    assertThat(json(huge).path("limit").asLong()).isEqualTo(1 << 20);
    assertThatThrownBy(() -> client(token).get("/api/v1/teams/no-such-team"))
        .isInstanceOfSatisfying(ApiClient.ApiError.class, e -> assertThat(e.status).isEqualTo(404));
  }

  @Test
  void theOpenApiDocumentDescribesEveryEndpoint() throws Exception {
    HttpResponse<String> docs = send(req("GET", "/v3/api-docs", null, null, null));
    assertThat(docs.statusCode()).isEqualTo(200);
    JsonNode paths = json(docs).path("paths");
    for (String p :
        List.of(
            "/api/v1/pipelines",
            "/api/v1/pipelines/{id}",
            "/api/v1/pipelines/{id}/events/stream",
            "/api/v1/pipelines/{id}/stages/{stage}/metrics",
            "/api/v1/datasets/{name}",
            "/api/v1/models/{id}/download",
            "/api/v1/teams/{team}/tokens")) {
      assertThat(paths.has(p)).as(p).isTrue();
    }
    // every endpoint the application maps under /api/v1 is in the document
    for (var info : mappings.getHandlerMethods().keySet()) {
      for (String pattern : info.getPatternValues()) {
        if (pattern.startsWith("/api/v1/")) {
          assertThat(paths.has(pattern)).as("%s is in /v3/api-docs", pattern).isTrue();
        }
      }
    }
    // the console's API client is generated from a committed copy: it must be this document
    com.fasterxml.jackson.databind.node.ObjectNode doc =
        (com.fasterxml.jackson.databind.node.ObjectNode) json(docs);
    doc.remove("servers");
    String current =
        ApiClient.JSON
                .copy()
                .configure(
                    com.fasterxml.jackson.databind.SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS,
                    true)
                .writerWithDefaultPrettyPrinter()
                .writeValueAsString(ApiClient.JSON.treeToValue(doc, Object.class))
            + "\n";
    java.nio.file.Path snapshot = java.nio.file.Path.of("../web-ui/src/api/openapi.json");
    if (Boolean.getBoolean("anneal.updateOpenApi"))
      java.nio.file.Files.writeString(snapshot, current);
    assertThat(java.nio.file.Files.readString(snapshot))
        .as(
            "web-ui/src/api/openapi.json is the API's OpenAPI document; after changing the API run"
                + " ./mvnw -B verify -pl platform-api -Dit.test=ApiIT -Danneal.updateOpenApi=true")
        .isEqualTo(current);
    assertThat(json(docs).at("/components/securitySchemes/token/scheme").asText())
        .isEqualTo("bearer");
    assertThat(send(req("GET", "/swagger-ui/index.html", null, null, null)).statusCode())
        .isEqualTo(200);
  }

  /**
   * Attempt 1 wrote steps 100–400 and spiked; attempt 2 resumed from its step 300 and crashed
   * before a checkpoint; attempt 3 resumed from step 300 again and wrote step 400. Attempt 1's step
   * 400 is on the branch the rollback abandoned; its step 100 was deleted by retention.
   */
  @Test
  void checkpointsSayWhichBranchARollbackAbandonedAndWhichRetentionDeleted() throws Exception {
    String[] t = team("lineage");
    ApiClient a = client(t[1]);
    UUID teamId = jdbc.queryForObject("SELECT id FROM teams WHERE name = ?", UUID.class, t[0]);
    UUID pipeline = meta.pipelines().create(teamId, "branches", "{}", "wf-" + UUID.randomUUID());
    UUID stage = meta.stages().create(pipeline, 0, "pretrain", StageKind.PRETRAIN, 600, 0);
    UUID a1 = meta.attempts().create(stage, 1, "first");
    UUID a2 = meta.attempts().create(stage, 2, "rollback");
    UUID a3 = meta.attempts().create(stage, 3, "restart");
    String prefix = "teams/" + t[0] + "/pipelines/branches/pretrain/checkpoints/";
    String k300 = prefix + "step-00000300-a1/manifest.json";
    meta.attempts().setPlan(a1, null, null, null, "[]", 1.0);
    meta.attempts().setPlan(a2, k300, 300L, 1, "[{\"fromBatch\":300,\"toBatch\":500}]", 0.5);
    meta.attempts().setPlan(a3, k300, 300L, 1, "[{\"fromBatch\":300,\"toBatch\":500}]", 0.5);
    Map<String, UUID> ids = new java.util.LinkedHashMap<>();
    for (long step : new long[] {100, 200, 300, 400}) {
      ids.put(step + "-a1", checkpointRow(stage, a1, step, prefix, 1, step != 100));
    }
    ids.put("400-a3", checkpointRow(stage, a3, 400, prefix, 3, true));

    Map<String, JsonNode> rows = new java.util.HashMap<>();
    for (JsonNode c : a.get("/api/v1/pipelines/" + pipeline + "/checkpoints").path("checkpoints")) {
      rows.put(c.path("step").asLong() + "-a" + c.path("attempt").asInt(), c);
    }
    assertThat(rows).containsOnlyKeys(ids.keySet());
    assertThat(rows.get("400-a1").path("onLiveBranch").asBoolean()).isFalse();
    assertThat(rows.get("400-a3").path("onLiveBranch").asBoolean()).isTrue();
    assertThat(rows.get("300-a1").path("onLiveBranch").asBoolean()).isTrue();
    assertThat(rows.get("200-a1").path("onLiveBranch").asBoolean()).isTrue();
    assertThat(rows.get("100-a1").path("state").asText()).isEqualTo("DELETED");
    assertThat(rows.get("300-a1").path("state").asText()).isEqualTo("COMMITTED");
    assertThat(a.get("/api/v1/checkpoints/" + ids.get("400-a1")).path("onLiveBranch").asBoolean())
        .isFalse();
    HttpResponse<String> gone =
        send(
            req("GET", "/api/v1/checkpoints/" + ids.get("100-a1") + "/download", t[1], null, null));
    assertThat(gone.statusCode()).isEqualTo(410);
    assertThat(json(gone).path("detail").asText())
        .contains("deleted by the runner's checkpoint retention");
  }

  /** A checkpoint row; {@code read} ones look as if their manifest had been read already. */
  private UUID checkpointRow(
      UUID stage, UUID attempt, long step, String prefix, int number, boolean read) {
    UUID id = UUID.randomUUID();
    jdbc.update(
        "INSERT INTO checkpoints (id, stage_id, attempt_id, step, uri, sha256, bytes, health, state)"
            + " VALUES (?, ?, ?, ?, ?, ?, ?, ?::jsonb, 'COMMITTED')",
        id,
        stage,
        attempt,
        step,
        prefix + String.format("step-%08d-a%d/manifest.json", step, number),
        "0".repeat(64),
        read ? 1000L : 0L,
        read ? "{\"healthy\": true}" : "{}");
    return id;
  }
}
