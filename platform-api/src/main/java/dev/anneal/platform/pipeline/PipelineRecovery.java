package dev.anneal.platform.pipeline;

import dev.anneal.activities.launch.JobLauncher;
import dev.anneal.activities.metadata.MetadataStore;
import dev.anneal.activities.store.ObjectStore;
import dev.anneal.platform.temporal.TemporalProperties;
import dev.anneal.protocol.ProtocolJson;
import dev.anneal.workflows.api.TaskQueues;
import dev.anneal.workflows.api.pipeline.PipelineInput;
import dev.anneal.workflows.api.pipeline.PipelineWorkflow;
import dev.anneal.workflows.api.spec.PipelineSpec;
import dev.anneal.workflows.api.status.PipelineStatus;
import dev.anneal.workflows.api.status.StageStatus;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.temporal.api.common.v1.WorkflowExecution;
import io.temporal.api.enums.v1.WorkflowExecutionStatus;
import io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionRequest;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowExecutionAlreadyStarted;
import io.temporal.client.WorkflowOptions;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.event.ContextClosedEvent;
import org.springframework.context.event.EventListener;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * At start-up, gives every pipeline PostgreSQL shows active whose workflow Temporal does not know a
 * new workflow that goes on from where PostgreSQL says it was ({@link ResumeReads}). The embedded
 * Temporal server keeps workflows in memory, so this is what makes a restarted {@code anneal serve}
 * carry on; on a cluster Temporal keeps its workflows and nothing is found to recover, but the same
 * code runs (one code path), and it also starts a pipeline whose workflow never started (a crash
 * between its rows' commit and the start). Only a process that hosts workers recovers; two that
 * race start one workflow (the id is the pipeline's). It runs on a thread of its own once the
 * platform is ready, and waits out a PostgreSQL or Temporal that cannot be reached (a database
 * restarting as the platform starts): it tries again, backing off to 30 s, until it has done its
 * work or the platform stops.
 */
@Component
class PipelineRecovery {

  private static final Logger log = LoggerFactory.getLogger(PipelineRecovery.class);

  private static final List<String> ACTIVE =
      List.of(
          PipelineStatus.PENDING.name(),
          PipelineStatus.RUNNING.name(),
          PipelineStatus.PAUSED.name(),
          PipelineStatus.WAITING_APPROVAL.name());

  private final JdbcTemplate jdbc;
  private final WorkflowClient client;
  private final TemporalProperties temporal;
  private final RunnerProperties runner;
  private final MetadataStore meta;
  private final ResumeReads reads;
  private final boolean enabled;

  PipelineRecovery(
      @Value("${anneal.recovery.enabled:true}") boolean enabled,
      JdbcTemplate jdbc,
      WorkflowClient client,
      TemporalProperties temporal,
      RunnerProperties runner,
      MetadataStore meta,
      JobLauncher launcher,
      ObjectStore store) {
    this.enabled = enabled;
    this.jdbc = jdbc;
    this.client = client;
    this.temporal = temporal;
    this.runner = runner;
    this.meta = meta;
    this.reads = new ResumeReads(jdbc, meta, launcher, store.bucket());
  }

  private volatile boolean stopping;

  @EventListener(ApplicationReadyEvent.class)
  public void onReady() {
    if (!enabled || !temporal.workerEnabled()) {
      return;
    }
    Thread t = new Thread(this::recoverUntilDone, "pipeline-recovery");
    t.setDaemon(true);
    t.start();
  }

  @EventListener(ContextClosedEvent.class)
  public void onClose() {
    stopping = true;
  }

  private void recoverUntilDone() {
    long delayMs = 500;
    while (!stopping) {
      try {
        int recovered = recoverAll();
        if (recovered > 0) {
          log.info("{} pipeline(s) recovered from PostgreSQL", recovered);
        }
        return;
      } catch (RuntimeException e) {
        if (!Unreachable.is(e)) {
          log.error("pipeline recovery stopped: {}", e.toString(), e);
          return;
        }
        log.warn("pipeline recovery waits {} ms: {}", delayMs, Unreachable.rootMessage(e));
        try {
          Thread.sleep(delayMs);
        } catch (InterruptedException ie) {
          return;
        }
        delayMs = Math.min(delayMs * 2, 30_000);
      }
    }
  }

  /** Recovers every lost pipeline; returns how many workflows it started. */
  int recoverAll() {
    int n = 0;
    for (Map<String, Object> p :
        jdbc.queryForList(
            "SELECT p.id, p.workflow_id, p.status, p.spec, t.name AS team FROM pipelines p"
                + " JOIN teams t ON t.id = p.team_id"
                + " WHERE p.status IN (?, ?, ?, ?) AND p.workflow_id IS NOT NULL"
                + " ORDER BY p.created_at",
            ACTIVE.toArray())) {
      UUID id = (UUID) p.get("id");
      String workflowId = (String) p.get("workflow_id");
      try {
        if (!known(workflowId)) {
          recover(
              id,
              workflowId,
              (String) p.get("team"),
              ProtocolJson.read(p.get("spec").toString(), PipelineSpec.class),
              PipelineStatus.valueOf((String) p.get("status")));
          n++;
        }
      } catch (RuntimeException e) {
        if (Unreachable.is(e)) {
          throw e; // PostgreSQL or Temporal is away: all of it is tried again
        }
        // one pipeline that cannot be rebuilt must not keep the others (or the platform) down
        log.error("pipeline {} could not be recovered: {}", id, e.toString(), e);
        try {
          meta.stages()
              .recordEvent(
                  id,
                  null,
                  StageStatus.RUNNING,
                  "ERROR",
                  "the platform restarted and could not rebuild this pipeline's workflow ("
                      + e.getMessage()
                      + "); cancel it, or resubmit it with clone");
        } catch (RuntimeException again) {
          log.error("and its event could not be recorded: {}", again.toString());
        }
      }
    }
    return n;
  }

  /** Whether Temporal has a workflow of that id, running or ended. */
  private boolean known(String workflowId) {
    try {
      var status =
          client
              .getWorkflowServiceStubs()
              .blockingStub()
              .describeWorkflowExecution(
                  DescribeWorkflowExecutionRequest.newBuilder()
                      .setNamespace(temporal.namespace())
                      .setExecution(WorkflowExecution.newBuilder().setWorkflowId(workflowId))
                      .build())
              .getWorkflowExecutionInfo()
              .getStatus();
      if (status != WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING) {
        log.warn(
            "workflow {} is {} in Temporal but its pipeline is active in PostgreSQL; left as is",
            workflowId,
            status);
      }
      return true;
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() == Status.Code.NOT_FOUND) {
        return false;
      }
      throw e;
    }
  }

  private void recover(
      UUID id, String workflowId, String team, PipelineSpec spec, PipelineStatus status) {
    List<String> stageIds =
        jdbc.queryForList(
            "SELECT id::text FROM stages WHERE pipeline_id = ? ORDER BY position",
            String.class,
            id);
    ResumeReads.Rebuilt r = reads.rebuild(id, team, spec, status);
    PipelineInput input =
        new PipelineInput(
                id.toString(), team, spec, stageIds, runner.restartBackoffSeconds(), r.models())
            .resumedFrom(r.resume());
    PipelineWorkflow wf =
        client.newWorkflowStub(
            PipelineWorkflow.class,
            WorkflowOptions.newBuilder()
                .setTaskQueue(TaskQueues.CONTROL)
                .setWorkflowId(workflowId)
                .build());
    try {
      WorkflowClient.start(wf::run, input);
    } catch (WorkflowExecutionAlreadyStarted e) {
      return; // another worker got there first
    }
    String msg =
        "the platform restarted and this pipeline's workflow was gone; rebuilt from PostgreSQL"
            + (r.summary().isEmpty() ? "" : ": " + r.summary());
    log.warn("pipeline {} ({}): {}", id, workflowId, msg);
    meta.stages().recordEvent(id, null, StageStatus.RUNNING, "WARN", msg);
  }
}
