package dev.anneal.platform.cli.client;

import com.fasterxml.jackson.databind.JsonNode;
import dev.anneal.workflows.api.status.PipelineStatus;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** The CLI's commands over the REST API. Each returns 0 on success, 1 on a failure it explains. */
public final class ClientCommands {
  private ClientCommands() {}

  /** Shared: the client, output, and how an API error becomes one line and exit 1. */
  abstract static class Base implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin ClientOptions options = new ClientOptions();

    PrintWriter out() {
      return spec.commandLine().getOut();
    }

    @Override
    public Integer call() throws Exception {
      try {
        return run(options.client());
      } catch (ApiClient.ApiError e) {
        spec.commandLine().getErr().println("anneal: " + e.getMessage());
        if (e.status == 401) {
          spec.commandLine()
              .getErr()
              .println("anneal: log in first: anneal login --server URL --token anl_…");
        }
        return 1;
      } catch (ApiClient.Unreachable | IllegalArgumentException e) {
        spec.commandLine().getErr().println("anneal: " + e.getMessage());
        return 1;
      }
    }

    abstract int run(ApiClient api) throws Exception;
  }

  /** A command about one pipeline, named by its id. */
  abstract static class PipelineCommand extends Base {
    @Parameters(index = "0", description = "the pipeline id")
    String id;
  }

  static String time(JsonNode n) {
    if (n == null || n.isNull() || n.asText().isEmpty()) return "-";
    return OffsetDateTime.parse(n.asText())
        .toLocalDateTime()
        .format(DateTimeFormatter.ofPattern("MM-dd HH:mm:ss"));
  }

  static String bar(long done, long total, int width) {
    if (total <= 0) return "[" + " ".repeat(width) + "]";
    int filled = (int) Math.min(width, done * width / total);
    return "[" + "#".repeat(filled) + "-".repeat(width - filled) + "]";
  }

  /** One line of a pipeline's log: time, stage, attempt, severity, message. */
  static void event(PrintWriter out, JsonNode ev) {
    out.printf(
        "%s %-10s %-3s %-5s %s%n",
        time(ev.get("time")),
        ev.path("stage").asText("-"),
        ev.hasNonNull("attempt") ? "a" + ev.get("attempt").asInt() : "",
        ev.path("severity").asText(),
        ev.path("message").asText());
  }

  /** The stages of a pipeline as progress lines. */
  static void stages(PrintWriter out, JsonNode p) {
    for (JsonNode s : p.path("stages")) {
      long cur = s.path("currentStep").asLong();
      long tot = s.path("totalSteps").asLong();
      out.printf(
          "  %-10s %-16s %s %6d/%-6d rollbacks %d  restarts %d%s%n",
          s.path("name").asText(),
          s.path("status").asText(),
          bar(cur, tot, 24),
          cur,
          tot,
          s.path("rollbacks").asInt(),
          s.path("restarts").asInt(),
          s.hasNonNull("failureReason") ? "  " + s.get("failureReason").asText() : "");
    }
  }

  @Command(
      name = "login",
      description = {
        "Check a token against a server and save both for the other commands",
        "(in ~/.config/anneal/credentials.json, or ANNEAL_CONFIG). Without --token, a server on",
        "this machine is logged into with the bootstrap token `anneal serve` wrote."
      })
  public static class Login extends Base {
    @Override
    int run(ApiClient api) throws IOException {
      if (options.token() == null) {
        throw new IllegalArgumentException(
            "no token: give --token anl_… (an admin makes one with POST /api/v1/teams/{team}/tokens)");
      }
      JsonNode me = api.get("/api/v1/me");
      ClientOptions.save(api.server(), options.token());
      out()
          .printf(
              "logged in to %s as team %s (scopes %s, token %s…)%n",
              api.server(),
              me.path("team").asText(),
              me.path("scopes"),
              me.path("tokenPrefix").asText());
      return 0;
    }
  }

  @Command(name = "submit", description = "Submit a pipeline spec (YAML or JSON)")
  public static class Submit extends Base {
    @Parameters(index = "0", description = "the spec file")
    Path file;

    @Option(names = "--idempotency-key", description = "retrying with the same key submits once")
    String key;

    @Option(names = "--watch", description = "follow the pipeline until it ends")
    boolean watch;

    @Override
    int run(ApiClient api) throws Exception {
      String body;
      try {
        body = Files.readString(file);
      } catch (IOException e) {
        throw new IllegalArgumentException("cannot read " + file + ": " + e.getMessage());
      }
      Map<String, String> headers = new LinkedHashMap<>();
      if (key != null) headers.put("Idempotency-Key", key);
      String type = body.stripLeading().startsWith("{") ? "application/json" : "application/yaml";
      JsonNode p = api.post("/api/v1/pipelines", type, body, headers);
      out().printf("submitted %s: %s%n", p.path("name").asText(), p.path("id").asText());
      return watch ? Watch.follow(api, p.path("id").asText(), out()) : 0;
    }
  }

  @Command(name = "list", description = "The team's pipelines, newest first")
  public static class ListPipelines extends Base {
    @Option(names = "--status", description = "e.g. RUNNING or RUNNING,PAUSED")
    String status;

    @Option(names = "--name")
    String name;

    @Option(names = "--limit", defaultValue = "20")
    int limit;

    @Override
    int run(ApiClient api) {
      Map<String, Object> q = new LinkedHashMap<>();
      q.put("pageSize", limit);
      q.put("status", status);
      q.put("name", name);
      JsonNode page = api.get("/api/v1/pipelines" + ApiClient.query(q));
      out().printf("%-36s  %-20s %-16s %-14s %s%n", "ID", "NAME", "STATUS", "CREATED", "STAGES");
      for (JsonNode p : page.path("pipelines")) {
        StringBuilder st = new StringBuilder();
        for (JsonNode s : p.path("stages")) {
          if (st.length() > 0) st.append(' ');
          st.append(s.path("name").asText()).append(':').append(s.path("status").asText());
        }
        out()
            .printf(
                "%-36s  %-20s %-16s %-14s %s%n",
                p.path("id").asText(),
                p.path("name").asText(),
                p.path("status").asText(),
                time(p.get("createdAt")),
                st);
      }
      if (page.hasNonNull("nextPageToken")) out().println("(more: raise --limit)");
      return 0;
    }
  }

  @Command(name = "status", description = "A pipeline's stages, steps, rollbacks and outcome")
  public static class Status extends PipelineCommand {
    @Override
    int run(ApiClient api) {
      JsonNode p = api.get("/api/v1/pipelines/" + id);
      out()
          .printf(
              "%s  %s  %s%s%n",
              p.path("name").asText(),
              p.path("id").asText(),
              p.path("status").asText(),
              p.hasNonNull("failureReason") ? ": " + p.get("failureReason").asText() : "");
      stages(out(), p);
      for (JsonNode s : p.path("stages")) {
        for (JsonNode r : s.path("rollbackHistory")) {
          out()
              .printf(
                  "  rollback in %s attempt %d at step %s: %s%n",
                  s.path("name").asText(),
                  r.path("attempt").asInt(),
                  r.path("step").asText(),
                  r.path("message").asText());
        }
      }
      return 0;
    }
  }

  @Command(
      name = "watch",
      description = "Follow a pipeline: progress per stage and its events, until it ends")
  public static class Watch extends PipelineCommand {
    @Override
    int run(ApiClient api) {
      return follow(api, id, out());
    }

    static int follow(ApiClient api, String id, PrintWriter out) {
      JsonNode p = api.get("/api/v1/pipelines/" + id);
      out.printf("%s (%s): %s%n", p.path("name").asText(), id, p.path("status").asText());
      stages(out, p);
      out.flush();
      Map<String, Long> shown = new LinkedHashMap<>();
      Map<String, Long> totals = new LinkedHashMap<>();
      for (JsonNode s : p.path("stages"))
        totals.put(s.path("name").asText(), s.path("totalSteps").asLong());
      api.stream(
          "/api/v1/pipelines/" + id + "/events/stream",
          null,
          e -> {
            if (e.event().equals("end")) return;
            JsonNode ev;
            try {
              ev = ApiClient.JSON.readTree(e.data());
            } catch (IOException ex) {
              return;
            }
            String stage = ev.path("stage").asText("-");
            if (e.event().equals("metrics")) {
              JsonNode points = ev.path("payload").path("points");
              if (points.isEmpty()) return;
              long step = points.get(points.size() - 1).path("step").asLong() + 1;
              long total = totals.getOrDefault(stage, 0L);
              long decile = total > 0 ? step * 10 / total : 0;
              Long before = shown.get(stage);
              if (before == null || decile != before) {
                shown.put(stage, decile);
                out.printf("  %-10s %s %6d/%d%n", stage, bar(step, total, 24), step, total);
                out.flush();
              }
              return;
            }
            event(out, ev);
            out.flush();
          });
      JsonNode end = api.get("/api/v1/pipelines/" + id);
      out.printf(
          "%s: %s%s%n",
          end.path("name").asText(),
          end.path("status").asText(),
          end.hasNonNull("failureReason") ? " (" + end.get("failureReason").asText() + ")" : "");
      stages(out, end);
      return end.path("status").asText().equals(PipelineStatus.SUCCEEDED.name()) ? 0 : 1;
    }
  }

  @Command(name = "logs", description = "A pipeline's event log (no metric points)")
  public static class Logs extends PipelineCommand {
    @Option(names = "--min-severity", description = "DEBUG, INFO, WARN or ERROR (default INFO)")
    String minSeverity = "INFO";

    @Override
    int run(ApiClient api) {
      long after = 0;
      while (true) {
        JsonNode page =
            api.get(
                "/api/v1/pipelines/"
                    + id
                    + "/events"
                    + ApiClient.query(
                        Map.of("after", after, "limit", 1000, "minSeverity", minSeverity)));
        for (JsonNode ev : page.path("events")) {
          event(out(), ev);
        }
        if (!page.hasNonNull("nextAfter")) return 0;
        after = page.get("nextAfter").asLong();
      }
    }
  }

  @Command(
      name = "cancel",
      description = "Cancel a pipeline: its running stage checkpoints and stops")
  public static class Cancel extends PipelineCommand {
    @Override
    int run(ApiClient api) {
      JsonNode p =
          api.post("/api/v1/pipelines/" + id + "/cancel", "application/json", "", Map.of());
      out().printf("cancelling %s (%s)%n", p.path("name").asText(), id);
      return 0;
    }
  }
}
