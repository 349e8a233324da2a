package dev.anneal.platform.cli;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.anneal.activities.metadata.EventRow;
import dev.anneal.activities.metadata.MetadataStore;
import dev.anneal.activities.metadata.StageSummary;
import dev.anneal.platform.api.auth.Bootstrap;
import dev.anneal.platform.api.web.ApiProperties;
import dev.anneal.platform.pipeline.PipelineLauncher;
import dev.anneal.protocol.ProtocolException;
import dev.anneal.protocol.ProtocolJson;
import dev.anneal.workflows.api.pipeline.PipelineResult;
import dev.anneal.workflows.api.spec.PipelineSpec;
import dev.anneal.workflows.api.spec.PipelineSpecs;
import dev.anneal.workflows.api.status.PipelineStatus;
import dev.anneal.workflows.api.status.StageStatus;
import io.temporal.client.WorkflowStub;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.springframework.context.ConfigurableApplicationContext;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
    name = "demo",
    description = {
      "Run the demo pipeline (examples/tiny-chat.yaml) on the embedded stack and follow it:",
      "progress per stage, rollbacks and restarts as they happen, a summary at the end.",
      "The console at http://localhost:8080 stays up while it runs."
    })
class DemoCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Mixin StartOptions options = new StartOptions();

  @Option(names = "--spec", description = "the pipeline to run (default examples/tiny-chat.yaml)")
  Path pipeline;

  @Option(names = "--keep-running", description = "keep the platform up after the pipeline ends")
  boolean keepRunning;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    Path file =
        pipeline != null
            ? pipeline
            : Path.of(System.getProperty("anneal.home", ".")).resolve("examples/tiny-chat.yaml");
    PipelineSpec ps;
    try {
      ps = PipelineSpecs.parse(Files.readString(file));
    } catch (IOException e) {
      err.println("anneal: cannot read " + file + ": " + e.getMessage());
      return 1;
    } catch (ProtocolException e) {
      err.println("anneal: " + file + ": " + e.getMessage());
      return 2;
    }
    ConfigurableApplicationContext ctx = options.start(err);
    if (ctx == null) return 1;
    try {
      long t0 = System.nanoTime();
      PipelineLauncher.Started started =
          ctx.getBean(PipelineLauncher.class)
              .start(ctx.getBean(ApiProperties.class).bootstrapTeam(), ps);
      MetadataStore meta = ctx.getBean(MetadataStore.class);
      String port = ctx.getEnvironment().getProperty("local.server.port");
      out.printf(
          "%nsubmitted %s (%s)%nconsole: %s%n%n",
          ps.metadata().name(),
          started.workflowId(),
          ctx.getBean(Bootstrap.class)
              .consoleLink(port, "pipelines/" + started.pipelineId())
              .orElse("http://localhost:" + port + "/#/pipelines/" + started.pipelineId()));
      out.flush();
      CompletableFuture<PipelineResult> result =
          WorkflowStub.fromTyped(started.workflow()).getResultAsync(PipelineResult.class);
      long seen = 0;
      java.util.Set<Integer> approved = new java.util.HashSet<>();
      while (!result.isDone()) {
        for (EventRow e : meta.reads().events(started.pipelineId(), seen, 1000)) {
          seen = e.id();
          if (e.type().equals("stage")
              || e.type().equals("instability")
              || e.type().equals("failed")
              || (e.type().equals("log") && !"INFO".equals(e.severity()))) {
            out.println("  " + e.message());
          }
        }
        List<StageSummary> now = meta.reads().stageSummaries(started.pipelineId());
        out.println(progress(now, ps));
        for (StageSummary st : now) {
          if (st.status() == StageStatus.WAITING_APPROVAL && approved.add(st.position())) {
            // the demo plays the person who approves; a real pipeline waits for one
            String name = ps.stages().get(st.position()).name();
            out.println(
                "  the demo approves stage " + name + " (a pipeline normally waits for a person)");
            started.workflow().approve(name);
          }
        }
        out.flush();
        try {
          result.get(3, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
          // still running
        }
      }
      PipelineResult r = result.get();
      out.println();
      out.println(summary(meta.reads().stageSummaries(started.pipelineId()), ps));
      out.printf(
          "pipeline %s in %s%s%n",
          r.status(),
          Duration.ofNanos(System.nanoTime() - t0)
              .withNanos(0)
              .toString()
              .substring(2)
              .toLowerCase(),
          r.reason() == null ? "" : ": " + r.reason());
      // the model the pipeline produced: the last finished stage that trains the policy (a reward
      // model is a tool of RLHF, not the pipeline's product)
      String finalModel = null;
      for (int i = 0; i < r.stages().size(); i++) {
        if (r.stages().get(i).finalManifestKey() != null
            && ps.stages().get(i).kind() != dev.anneal.protocol.StageKind.REWARD) {
          finalModel = r.stages().get(i).finalManifestKey();
        }
      }
      if (finalModel != null) {
        out.println(
            "final model: s3://"
                + ctx.getEnvironment().getProperty("anneal.s3.bucket")
                + "/"
                + finalModel.replace("/manifest.json", "/"));
      }
      out.flush();
      if (keepRunning) {
        out.println("the platform keeps running; Ctrl-C stops it");
        out.flush();
        return 0;
      }
      return r.status() == PipelineStatus.SUCCEEDED ? 0 : 3;
    } finally {
      if (!keepRunning) ctx.close();
    }
  }

  private static String progress(List<StageSummary> stages, PipelineSpec ps) {
    StringBuilder sb = new StringBuilder();
    for (StageSummary s : stages) {
      if (s.status() == StageStatus.PENDING) continue;
      int width = 24;
      int filled =
          s.totalSteps() == 0 ? 0 : (int) Math.min(width, width * s.currentStep() / s.totalSteps());
      sb.append(
          String.format(
              "  %-9s [%s%s] step %4d/%-4d loss %-7s %9s tok/s  %s%n",
              ps.stages().get(s.position()).name(),
              "#".repeat(filled),
              ".".repeat(width - filled),
              s.currentStep(),
              s.totalSteps(),
              s.lastLoss() == null ? "-" : String.format("%.3f", s.lastLoss()),
              s.tokensPerSecond() == null ? "-" : String.format("%,.0f", s.tokensPerSecond()),
              s.status().name().toLowerCase()));
    }
    return sb.toString().stripTrailing();
  }

  private static String summary(List<StageSummary> stages, PipelineSpec ps) {
    StringBuilder sb =
        new StringBuilder(
            String.format(
                "%-9s %-10s %7s %10s %9s %8s %8s%n",
                "stage", "status", "steps", "final loss", "rollbacks", "restarts", "wall"));
    for (StageSummary s : stages) {
      sb.append(
          String.format(
              "%-9s %-10s %7d %10s %9d %8d %8s%n",
              ps.stages().get(s.position()).name(),
              s.status().name().toLowerCase(),
              s.currentStep(),
              s.lastLoss() == null ? "-" : String.format("%.3f", s.lastLoss()),
              s.rollbacks(),
              s.restarts(),
              s.status() == StageStatus.PENDING ? "-" : String.format("%.0f s", s.wallSeconds())));
      if (s.eval() != null) {
        sb.append("          figures: ").append(figures(s.eval())).append('\n');
      }
      if (s.failureReason() != null) sb.append("          ").append(s.failureReason()).append('\n');
    }
    return sb.toString().stripTrailing();
  }

  /** The stage's summary figures ({"final_loss":0.4,…}) as "final_loss 0.400, …". */
  private static String figures(String json) {
    try {
      Map<String, Double> m =
          ProtocolJson.mapper().readValue(json, new TypeReference<TreeMap<String, Double>>() {});
      StringBuilder sb = new StringBuilder();
      m.forEach(
          (k, v) -> {
            if (sb.length() > 0) sb.append(", ");
            sb.append(k)
                .append(' ')
                .append(v == Math.rint(v) ? String.format("%.0f", v) : String.format("%.3f", v));
          });
      return sb.toString();
    } catch (IOException e) {
      return json;
    }
  }
}
