package dev.anneal.platform.pipeline;

import dev.anneal.activities.metadata.MetadataStore;
import dev.anneal.protocol.ProtocolJson;
import dev.anneal.workflows.api.TaskQueues;
import dev.anneal.workflows.api.pipeline.PipelineInput;
import dev.anneal.workflows.api.pipeline.PipelineWorkflow;
import dev.anneal.workflows.api.spec.PipelineSpec;
import dev.anneal.workflows.api.spec.StageSpec;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.springframework.stereotype.Component;

/** Starts a pipeline: rows in PostgreSQL first (the API reads those), then the workflow. */
@Component
public class PipelineLauncher {

  /** A started pipeline: its row id and the workflow running it. */
  public record Started(
      UUID pipelineId, String workflowId, List<UUID> stageIds, PipelineWorkflow workflow) {}

  private final MetadataStore meta;
  private final WorkflowClient client;
  private final RunnerProperties runner;

  PipelineLauncher(MetadataStore meta, WorkflowClient client, RunnerProperties runner) {
    this.meta = meta;
    this.client = client;
    this.runner = runner;
  }

  public Started start(String team, PipelineSpec spec) {
    UUID teamId = meta.ensureTeam(team);
    String workflowId =
        "pipeline-" + spec.metadata().name() + "-" + UUID.randomUUID().toString().substring(0, 8);
    UUID pipeline =
        meta.createPipeline(teamId, spec.metadata().name(), ProtocolJson.write(spec), workflowId);
    List<UUID> stages = new ArrayList<>();
    for (int i = 0; i < spec.stages().size(); i++) {
      StageSpec s = spec.stages().get(i);
      stages.add(meta.createStage(pipeline, i, s.kind(), s.hyperparameters().steps()));
    }
    PipelineWorkflow wf =
        client.newWorkflowStub(
            PipelineWorkflow.class,
            WorkflowOptions.newBuilder()
                .setTaskQueue(TaskQueues.CONTROL)
                .setWorkflowId(workflowId)
                .build());
    WorkflowClient.start(
        wf::run,
        new PipelineInput(
            pipeline.toString(),
            team,
            spec,
            stages.stream().map(UUID::toString).toList(),
            runner.restartBackoffSeconds()));
    return new Started(pipeline, workflowId, stages, wf);
  }
}
