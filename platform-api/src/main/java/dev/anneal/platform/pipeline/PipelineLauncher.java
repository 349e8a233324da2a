package dev.anneal.platform.pipeline;

import dev.anneal.activities.metadata.MetadataStore;
import dev.anneal.activities.metadata.PipelineWriter;
import dev.anneal.activities.metadata.StageWriter;
import dev.anneal.protocol.ProtocolJson;
import dev.anneal.workflows.api.TaskQueues;
import dev.anneal.workflows.api.pipeline.PipelineInput;
import dev.anneal.workflows.api.pipeline.PipelineWorkflow;
import dev.anneal.workflows.api.spec.PipelineSpec;
import dev.anneal.workflows.api.spec.StageSpec;
import dev.anneal.workflows.api.status.PipelineStatus;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Consumer;
import org.springframework.jdbc.core.ConnectionCallback;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Starts a pipeline: its rows in PostgreSQL first, in one transaction (the API reads those), then
 * the workflow. A workflow that cannot be started leaves the pipeline FAILED with the reason.
 */
@Component
public class PipelineLauncher {

  /** A started pipeline: its row id and the workflow running it. */
  public record Started(
      UUID pipelineId, String workflowId, List<UUID> stageIds, PipelineWorkflow workflow) {}

  /** A registered model a stage starts from: the reference in the spec, its row and checkpoint. */
  public record ModelUse(String ref, UUID modelId, String manifestKey) {}

  /**
   * Everything a submission carries.
   *
   * @param precheck runs inside the transaction after the team's row is locked (quota checks); may
   *     throw to refuse the submission
   */
  public record Submission(
      UUID teamId,
      String team,
      PipelineSpec spec,
      String source,
      String idempotencyKey,
      String requestSha256,
      UUID clonedFrom,
      List<UUID> datasetIds,
      List<ModelUse> models,
      Consumer<UUID> precheck) {}

  private final MetadataStore meta;
  private final WorkflowClient client;
  private final RunnerProperties runner;
  private final JdbcTemplate jdbc;
  private final TransactionTemplate tx;

  PipelineLauncher(
      MetadataStore meta,
      WorkflowClient client,
      RunnerProperties runner,
      JdbcTemplate jdbc,
      TransactionTemplate tx) {
    this.meta = meta;
    this.client = client;
    this.runner = runner;
    this.jdbc = jdbc;
    this.tx = tx;
  }

  /** Starts a spec for a team (made if missing), outside the API (demo, benchmarks). */
  public Started start(String team, PipelineSpec spec) {
    UUID teamId = meta.pipelines().ensureTeam(team);
    return start(
        new Submission(teamId, team, spec, null, null, null, null, List.of(), List.of(), t -> {}));
  }

  public Started start(Submission s) {
    PipelineSpec spec = s.spec();
    String workflowId =
        "pipeline-" + spec.metadata().name() + "-" + UUID.randomUUID().toString().substring(0, 8);
    UUID pipeline = UUID.randomUUID();
    List<UUID> stages = new ArrayList<>();
    tx.executeWithoutResult(
        status ->
            jdbc.execute(
                (ConnectionCallback<Void>)
                    c -> {
                      // the launcher's transaction: the team's lock, the quota check and every
                      // row of the pipeline commit together or not at all
                      meta.pipelines().lockTeam(c, s.teamId());
                      s.precheck().accept(s.teamId());
                      meta.pipelines()
                          .insert(
                              c,
                              new PipelineWriter.NewPipeline(
                                  pipeline,
                                  s.teamId(),
                                  spec.metadata().name(),
                                  ProtocolJson.write(spec),
                                  s.source(),
                                  workflowId,
                                  s.idempotencyKey(),
                                  s.requestSha256(),
                                  s.clonedFrom()));
                      for (int i = 0; i < spec.stages().size(); i++) {
                        StageSpec st = spec.stages().get(i);
                        UUID id = UUID.randomUUID();
                        meta.stages()
                            .insert(
                                c,
                                new StageWriter.NewStage(
                                    id,
                                    pipeline,
                                    i,
                                    st.name(),
                                    st.kind(),
                                    st.hyperparameters().steps(),
                                    st.engine().gpusHeld(st.resources())));
                        stages.add(id);
                      }
                      for (UUID d : s.datasetIds()) {
                        meta.pipelines().linkDataset(c, pipeline, d);
                      }
                      for (ModelUse m : s.models()) {
                        meta.pipelines().linkModel(c, pipeline, m.modelId(), m.ref());
                      }
                      return null;
                    }));
    Map<String, String> models = new LinkedHashMap<>();
    for (ModelUse m : s.models()) models.put(m.ref(), m.manifestKey());
    PipelineWorkflow wf =
        client.newWorkflowStub(
            PipelineWorkflow.class,
            WorkflowOptions.newBuilder()
                .setTaskQueue(TaskQueues.CONTROL)
                .setWorkflowId(workflowId)
                .build());
    try {
      WorkflowClient.start(
          wf::run,
          new PipelineInput(
              pipeline.toString(),
              s.team(),
              spec,
              stages.stream().map(UUID::toString).toList(),
              runner.restartBackoffSeconds(),
              models));
    } catch (RuntimeException e) {
      meta.pipelines()
          .setStatus(
              pipeline,
              PipelineStatus.FAILED,
              "the workflow could not be started: " + e.getMessage());
      throw e;
    }
    return new Started(pipeline, workflowId, stages, wf);
  }

  /** The workflow of a pipeline, to signal it. */
  public PipelineWorkflow workflow(String workflowId) {
    return client.newWorkflowStub(PipelineWorkflow.class, workflowId);
  }
}
