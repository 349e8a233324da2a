package dev.anneal.platform.ingest;

import dev.anneal.activities.metadata.AttemptRef;
import dev.anneal.activities.metadata.EventIngestion;
import dev.anneal.activities.metadata.MetadataStore;
import dev.anneal.protocol.EventBatch;
import dev.anneal.protocol.ProtocolException;
import dev.anneal.protocol.ProtocolJson;
import java.net.URI;
import java.util.Map;
import java.util.UUID;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RestController;

/**
 * Where runners post their events ({@code POST /internal/v1/events}), with the attempt's bearer
 * token. Idempotent by sequence number: a re-sent batch is acknowledged and changes nothing.
 */
@RestController
class IngestController {

  private final MetadataStore store;
  private final AttemptTokens tokens;

  IngestController(MetadataStore store, AttemptTokens tokens) {
    this.store = store;
    this.tokens = tokens;
  }

  @PostMapping(path = "/internal/v1/events", consumes = MediaType.APPLICATION_JSON_VALUE)
  ResponseEntity<?> ingest(
      @RequestHeader(name = "Authorization", required = false) String authorization,
      @RequestBody String body) {
    String token =
        authorization != null && authorization.startsWith("Bearer ")
            ? authorization.substring(7)
            : null;
    UUID attemptId = tokens.verify(token).orElse(null);
    if (attemptId == null) {
      return problem(HttpStatus.UNAUTHORIZED, "missing or invalid runner token", "Authorization");
    }
    AttemptRef attempt = store.reads().attempt(attemptId).orElse(null);
    if (attempt == null) {
      return problem(
          HttpStatus.UNAUTHORIZED, "the token's attempt does not exist", "Authorization");
    }
    EventBatch batch;
    try {
      batch = ProtocolJson.readEventBatch(body);
    } catch (ProtocolException e) {
      return problem(HttpStatus.BAD_REQUEST, e.getMessage(), e.path());
    }
    if (!batch.team().equals(attempt.team())
        || !batch.pipeline().equals(attempt.pipelineName())
        || batch.stage() != attempt.stage()
        || batch.attempt() != attempt.number()) {
      return problem(
          HttpStatus.CONFLICT,
          "the batch is addressed to "
              + batch.team()
              + "/"
              + batch.pipeline()
              + "/"
              + batch.stage().id()
              + " attempt "
              + batch.attempt()
              + ", but the token is for "
              + attempt.team()
              + "/"
              + attempt.pipelineName()
              + "/"
              + attempt.stage().id()
              + " attempt "
              + attempt.number(),
          "");
    }
    EventIngestion.Ingested r = store.ingestion().ingest(attempt, batch);
    return ResponseEntity.ok(
        Map.of("accepted", r.accepted(), "duplicates", r.duplicates(), "lastSeq", r.lastSeq()));
  }

  private static ResponseEntity<ProblemDetail> problem(
      HttpStatus status, String detail, String field) {
    ProblemDetail p = ProblemDetail.forStatusAndDetail(status, detail);
    p.setType(URI.create("https://anneal.dev/problems/ingest"));
    if (field != null && !field.isEmpty()) p.setProperty("field", field);
    return ResponseEntity.status(status).contentType(MediaType.APPLICATION_PROBLEM_JSON).body(p);
  }
}
