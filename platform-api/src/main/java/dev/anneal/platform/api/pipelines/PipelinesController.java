package dev.anneal.platform.api.pipelines;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.anneal.platform.api.ApiException;
import dev.anneal.platform.api.auth.Caller;
import dev.anneal.platform.api.web.ApiProperties;
import dev.anneal.platform.pipeline.PipelineLauncher;
import dev.anneal.workflows.api.pipeline.PipelineWorkflow;
import dev.anneal.workflows.api.status.PipelineStatus;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.tags.Tag;
import io.temporal.client.WorkflowNotFoundException;
import java.net.URI;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Consumer;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;

/** Pipelines: submit, list, inspect, act on, clone; their metrics, events and checkpoints. */
@RestController
@RequestMapping("/api/v1/pipelines")
@Tag(name = "pipelines", description = "submit and follow pipelines")
public class PipelinesController {
  private final Submissions submissions;
  private final Pipelines pipelines;
  private final EventReads events;
  private final MetricReads metrics;
  private final CheckpointReads checkpoints;
  private final EventStreams streams;
  private final CheckpointFiles files;
  private final PipelineLauncher launcher;
  private final ObjectMapper json;
  private final ApiProperties props;

  public PipelinesController(
      Submissions submissions,
      Pipelines pipelines,
      EventReads events,
      MetricReads metrics,
      CheckpointReads checkpoints,
      EventStreams streams,
      CheckpointFiles files,
      PipelineLauncher launcher,
      ObjectMapper json,
      ApiProperties props) {
    this.submissions = submissions;
    this.pipelines = pipelines;
    this.events = events;
    this.metrics = metrics;
    this.checkpoints = checkpoints;
    this.streams = streams;
    this.files = files;
    this.launcher = launcher;
    this.json = json;
    this.props = props;
  }

  @PostMapping(
      consumes = {
        "application/yaml",
        "application/x-yaml",
        "text/yaml",
        MediaType.APPLICATION_JSON_VALUE,
        MediaType.TEXT_PLAIN_VALUE
      })
  @Operation(
      summary = "Submit a pipeline spec (YAML or JSON)",
      description =
          "With an Idempotency-Key header a retried request returns the pipeline the first one"
              + " made (200, Idempotent-Replayed: true); the same key with another body is 422."
              + " Over the team's quota: 429 with the figures.")
  public ResponseEntity<Pipelines.Detail> submit(
      Caller caller,
      @RequestHeader(name = "Idempotency-Key", required = false) String key,
      @RequestBody String body) {
    Submissions.Submitted s = submissions.submit(caller, body, key, null);
    return respond(caller, s);
  }

  private ResponseEntity<Pipelines.Detail> respond(Caller caller, Submissions.Submitted s) {
    Pipelines.Detail d = pipelines.detail(caller, s.id());
    return ResponseEntity.status(s.replayed() ? HttpStatus.OK : HttpStatus.CREATED)
        .location(URI.create("/api/v1/pipelines/" + s.id()))
        .header("Idempotent-Replayed", Boolean.toString(s.replayed()))
        .body(d);
  }

  @GetMapping
  @Operation(summary = "The team's pipelines, newest first, a page at a time")
  public Pipelines.Page list(
      Caller caller,
      @Parameter(description = "comma-separated statuses, e.g. RUNNING,PAUSED")
          @RequestParam(required = false)
          String status,
      @RequestParam(required = false) String name,
      @RequestParam(required = false) Instant createdAfter,
      @RequestParam(required = false) Instant createdBefore,
      @RequestParam(defaultValue = "50") int pageSize,
      @RequestParam(required = false) String pageToken) {
    return pipelines.list(caller, status, name, createdAfter, createdBefore, pageSize, pageToken);
  }

  @GetMapping("/{id}")
  @Operation(summary = "A pipeline: stages, attempts, steps, rollbacks, lineage and its spec")
  public Pipelines.Detail get(Caller caller, @PathVariable UUID id) {
    return pipelines.detail(caller, id);
  }

  public record ApproveRequest(String stage) {}

  public record CloneRequest(Map<String, JsonNode> set) {}

  @PostMapping("/{id}/cancel")
  @Operation(summary = "Stop: the running stage checkpoints and stops; no further stage starts")
  public ResponseEntity<Pipelines.Detail> cancel(Caller caller, @PathVariable UUID id) {
    return act(caller, id, "cancel", PipelineWorkflow::cancel);
  }

  @PostMapping("/{id}/pause")
  @Operation(summary = "Hold before the next stage (the running stage goes on)")
  public ResponseEntity<Pipelines.Detail> pause(Caller caller, @PathVariable UUID id) {
    return act(caller, id, "pause", PipelineWorkflow::pause);
  }

  @PostMapping("/{id}/resume")
  @Operation(summary = "Go on after a pause")
  public ResponseEntity<Pipelines.Detail> resume(Caller caller, @PathVariable UUID id) {
    return act(caller, id, "resume", PipelineWorkflow::resume);
  }

  @PostMapping("/{id}/approve")
  @Operation(
      summary = "Let the pipeline past the failed evaluation gate of a stage (onFail: approve)")
  public ResponseEntity<Pipelines.Detail> approve(
      Caller caller, @PathVariable UUID id, @RequestBody ApproveRequest body) {
    Pipelines.Row row = pipelines.row(caller, id);
    if (body == null || body.stage() == null) {
      throw ApiException.badRequest("stage: name the stage whose gate to approve", "stage");
    }
    pipelines.stageId(row.id(), body.stage());
    return act(caller, row, "approve", wf -> wf.approve(body.stage()));
  }

  private ResponseEntity<Pipelines.Detail> act(
      Caller caller, UUID id, String action, Consumer<PipelineWorkflow> signal) {
    return act(caller, pipelines.row(caller, id), action, signal);
  }

  private ResponseEntity<Pipelines.Detail> act(
      Caller caller, Pipelines.Row row, String action, Consumer<PipelineWorkflow> signal) {
    UUID id = row.id();
    if (PipelineStatus.valueOf(row.status()).isFinal()) {
      throw ApiException.conflict(
          "pipeline "
              + id
              + " is "
              + row.status()
              + "; "
              + action
              + " applies to active pipelines");
    }
    try {
      signal.accept(launcher.workflow(row.workflowId()));
    } catch (WorkflowNotFoundException e) {
      throw ApiException.conflict(
          "pipeline "
              + id
              + " has no running workflow (it was lost in a platform restart and could not be"
              + " rebuilt; its log says why); resubmit it with clone");
    }
    return ResponseEntity.status(HttpStatus.ACCEPTED).body(pipelines.detail(caller, id));
  }

  @PostMapping("/{id}/clone")
  @Operation(
      summary = "Submit a copy of a pipeline, with edits by field path",
      description =
          "Body: {\"set\": {\"stages[1].hyperparameters.lr\": 1e-4, \"metadata.name\": \"x\"}}."
              + " Dataset versions stay pinned as in the original unless edited.")
  public ResponseEntity<Pipelines.Detail> cloneWithEdits(
      Caller caller,
      @PathVariable UUID id,
      @RequestHeader(name = "Idempotency-Key", required = false) String key,
      @RequestBody(required = false) CloneRequest body) {
    Pipelines.Row row = pipelines.row(caller, id);
    ObjectNode spec;
    try {
      spec = (ObjectNode) json.readTree(row.specJson());
    } catch (Exception e) {
      throw new IllegalStateException("stored spec of " + id + " is unreadable", e);
    }
    if (body != null && body.set() != null) SpecEdits.apply(spec, body.set());
    Submissions.Submitted s = submissions.submit(caller, spec.toString(), key, id);
    return respond(caller, s);
  }

  @GetMapping("/{id}/events")
  @Operation(summary = "The pipeline's event log, in order (or newest first), a page at a time")
  public EventReads.EventPage events(
      Caller caller,
      @PathVariable UUID id,
      @Parameter(description = "the id of the last event already read")
          @RequestParam(defaultValue = "0")
          long after,
      @Parameter(description = "newest first: the id below which to read (absent: the newest)")
          @RequestParam(required = false)
          Long before,
      @Parameter(description = "asc (default, oldest first) or desc (newest first: a log tail)")
          @RequestParam(defaultValue = "asc")
          String order,
      @RequestParam(defaultValue = "100") int limit,
      @RequestParam(required = false) String minSeverity,
      @RequestParam(required = false) String type) {
    pipelines.row(caller, id);
    if (limit < 1 || limit > 1000) {
      throw ApiException.badRequest("limit: must be between 1 and 1000, got " + limit, "limit");
    }
    if (!order.equals("asc") && !order.equals("desc")) {
      throw ApiException.badRequest("order: must be asc or desc, got '" + order + "'", "order");
    }
    boolean desc = order.equals("desc");
    List<EventReads.Event> events =
        this.events.events(id, desc ? 0 : after, before, desc, limit, minSeverity, type);
    Long last = events.size() == limit ? events.get(events.size() - 1).id() : null;
    return new EventReads.EventPage(events, desc ? null : last, desc ? last : null);
  }

  @GetMapping(path = "/{id}/events/stream", produces = MediaType.TEXT_EVENT_STREAM_VALUE)
  @Operation(
      summary = "Server-Sent Events: new events and metric points as they arrive",
      description =
          "Resumable: send Last-Event-ID (or after=) to continue after the last event seen. An"
              + " 'end' event closes the stream once the pipeline has ended.")
  public SseEmitter stream(
      Caller caller,
      @PathVariable UUID id,
      @RequestHeader(name = "Last-Event-ID", required = false) String lastEventId,
      @RequestParam(required = false) Long after) {
    pipelines.row(caller, id);
    long from = after == null ? 0 : after;
    if (lastEventId != null) {
      try {
        from = Long.parseLong(lastEventId.trim());
      } catch (NumberFormatException e) {
        throw ApiException.badRequest(
            "Last-Event-ID: must be an event id this stream sent, got '" + lastEventId + "'",
            "Last-Event-ID");
      }
    }
    return streams.open(id, from);
  }

  @GetMapping("/{id}/stages/{stage}/metrics")
  @Operation(
      summary = "A stage's metric series by step or time, downsampled on the server",
      description =
          "Each series has at most maxPoints points (default and cap: anneal.api.max-series-points,"
              + " 1500); when thinned, a point is a bucket of steps with its mean, min and max, so a"
              + " spike survives as its bucket's max. Points carry the attempt: after a rollback the"
              + " replayed steps are a new attempt's.")
  public MetricReads.MetricsRead metrics(
      Caller caller,
      @PathVariable UUID id,
      @PathVariable String stage,
      @Parameter(description = "metric names (repeat or comma-separate); all when absent")
          @RequestParam(required = false)
          List<String> name,
      @RequestParam(required = false) Long fromStep,
      @RequestParam(required = false) Long toStep,
      @RequestParam(required = false) Instant since,
      @RequestParam(required = false) Instant until,
      @RequestParam(required = false) Integer maxPoints) {
    pipelines.row(caller, id);
    UUID stageId = pipelines.stageId(id, stage);
    int cap = props.maxSeriesPoints();
    int max = maxPoints == null ? cap : maxPoints;
    if (max < 2 || max > cap) {
      throw ApiException.badRequest(
          "maxPoints: must be between 2 and " + cap + ", got " + max, "maxPoints");
    }
    List<String> names = new ArrayList<>();
    if (name == null || name.isEmpty()) {
      names.addAll(metrics.metricNames(stageId));
    } else {
      for (String n : name) {
        for (String part : n.split(",")) if (!part.isBlank()) names.add(part.trim());
      }
    }
    List<MetricReads.Series> series = new ArrayList<>();
    for (String n : names) {
      series.add(metrics.series(stageId, n, fromStep, toStep, since, until, max));
    }
    return new MetricReads.MetricsRead(stage, max, series);
  }

  @GetMapping("/{id}/checkpoints")
  @Operation(summary = "Every checkpoint of the pipeline with size, sha256 and health figures")
  public Map<String, List<CheckpointReads.Checkpoint>> checkpoints(
      Caller caller, @PathVariable UUID id) {
    pipelines.row(caller, id);
    return Map.of("checkpoints", files.complete(this.checkpoints.checkpoints(id)));
  }
}
