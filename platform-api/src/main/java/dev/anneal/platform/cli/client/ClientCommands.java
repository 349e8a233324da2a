package dev.anneal.platform.cli.client;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;
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
  public static class Status extends Base {
    @Parameters(index = "0", description = "the pipeline id")
    String id;

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
  public static class Watch extends Base {
    @Parameters(index = "0", description = "the pipeline id")
    String id;

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
      return end.path("status").asText().equals("SUCCEEDED") ? 0 : 1;
    }
  }

  @Command(name = "logs", description = "A pipeline's event log (no metric points)")
  public static class Logs extends Base {
    @Parameters(index = "0", description = "the pipeline id")
    String id;

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
  public static class Cancel extends Base {
    @Parameters(index = "0", description = "the pipeline id")
    String id;

    @Override
    int run(ApiClient api) {
      JsonNode p =
          api.post("/api/v1/pipelines/" + id + "/cancel", "application/json", "", Map.of());
      out().printf("cancelling %s (%s)%n", p.path("name").asText(), id);
      return 0;
    }
  }

  @Command(
      name = "datasets",
      description = "Upload and list datasets",
      subcommands = {DatasetsUpload.class, DatasetsList.class})
  public static class Datasets implements Runnable {
    @Spec CommandSpec spec;

    @Override
    public void run() {
      spec.commandLine().usage(spec.commandLine().getOut());
    }
  }

  @Command(name = "upload", description = "Upload a JSONL file as the next version of a dataset")
  public static class DatasetsUpload extends Base {
    @Parameters(index = "0", description = "the JSONL file")
    Path file;

    @Option(
        names = "--name",
        description = "the dataset's name (default: the file's, without .jsonl)")
    String name;

    @Option(
        names = "--format",
        description = "text, chat, preference or prompt (default: from the first line)")
    String format;

    @Override
    int run(ApiClient api) {
      String n = name;
      if (n == null) {
        n =
            file.getFileName()
                .toString()
                .replaceAll("\\.jsonl$|\\.json$|\\.ndjson$", "")
                .toLowerCase();
      }
      JsonNode d =
          api.postFile(
              "/api/v1/datasets/"
                  + n
                  + ApiClient.query(format == null ? Map.of() : Map.of("format", format)),
              file,
              "application/x-ndjson");
      out()
          .printf(
              "uploaded %s: %d records of %s, %d bytes, sha256 %s%n  use it as   source: %s%n",
              n,
              d.path("records").asLong(),
              d.path("format").asText(),
              d.path("bytes").asLong(),
              d.path("sha256").asText(),
              d.path("source").asText());
      return 0;
    }
  }

  @Command(name = "list", description = "The newest version of each dataset")
  public static class DatasetsList extends Base {
    @Override
    int run(ApiClient api) {
      out()
          .printf(
              "%-24s %-8s %-11s %10s %12s  %s%n",
              "NAME", "VERSION", "FORMAT", "RECORDS", "BYTES", "CREATED");
      for (JsonNode d : api.get("/api/v1/datasets").path("datasets")) {
        out()
            .printf(
                "%-24s v%-7d %-11s %10d %12d  %s%n",
                d.path("name").asText(),
                d.path("version").asInt(),
                d.path("format").asText(),
                d.path("records").asLong(),
                d.path("bytes").asLong(),
                time(d.get("createdAt")));
      }
      return 0;
    }
  }

  @Command(
      name = "models",
      description = "List, register and download models",
      subcommands = {ModelsList.class, ModelsRegister.class, ModelsDownload.class})
  public static class Models implements Runnable {
    @Spec CommandSpec spec;

    @Override
    public void run() {
      spec.commandLine().usage(spec.commandLine().getOut());
    }
  }

  @Command(name = "list", description = "Every model version of the team")
  public static class ModelsList extends Base {
    @Override
    int run(ApiClient api) {
      out().printf("%-36s  %-20s %-8s %-11s %s%n", "ID", "NAME", "VERSION", "LABEL", "CHECKPOINT");
      for (JsonNode m : api.get("/api/v1/models").path("models")) {
        out()
            .printf(
                "%-36s  %-20s v%-7d %-11s %s%n",
                m.path("id").asText(),
                m.path("name").asText(),
                m.path("version").asInt(),
                m.path("label").asText(),
                m.path("checkpoint").asText());
      }
      return 0;
    }
  }

  @Command(
      name = "register",
      description = "Register a stage's final checkpoint as a model version")
  public static class ModelsRegister extends Base {
    @Option(names = "--name", required = true)
    String name;

    @Option(names = "--pipeline", required = true, description = "the pipeline id")
    String pipeline;

    @Option(names = "--stage", required = true, description = "the stage's name")
    String stage;

    @Override
    int run(ApiClient api) {
      JsonNode m =
          api.postJson(
              "/api/v1/models", Map.of("name", name, "pipelineId", pipeline, "stage", stage));
      out()
          .printf(
              "registered %s@v%d (%s)%n  start from it with   from: model:%s@v%d%n",
              m.path("name").asText(),
              m.path("version").asInt(),
              m.path("id").asText(),
              m.path("name").asText(),
              m.path("version").asInt());
      return 0;
    }
  }

  @Command(
      name = "download",
      description =
          "Download a model's checkpoint and HF export into a folder, checking every sha256")
  public static class ModelsDownload extends Base {
    @Parameters(index = "0", description = "the model id")
    String id;

    @Parameters(index = "1", description = "the folder to write into")
    Path dir;

    @Override
    int run(ApiClient api) throws Exception {
      JsonNode d = api.get("/api/v1/models/" + id + "/download");
      long total = 0;
      for (JsonNode f : d.path("files")) {
        String rel = f.path("path").asText();
        Path target = dir.resolve(rel).normalize();
        if (!target.startsWith(dir.normalize())) {
          throw new IllegalArgumentException("refusing a file outside " + dir + ": " + rel);
        }
        Files.createDirectories(target.getParent());
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        try (InputStream in = new DigestInputStream(api.download(f.path("url").asText()), sha);
            OutputStream o = Files.newOutputStream(target)) {
          total += in.transferTo(o);
        }
        String got = HexFormat.of().formatHex(sha.digest());
        String want = f.path("sha256").asText(null);
        if (want != null && !want.equals(got)) {
          Files.delete(target);
          throw new IllegalArgumentException(
              rel + " arrived with sha256 " + got + " but the checkpoint records " + want);
        }
      }
      out()
          .printf(
              "downloaded %d files, %d bytes, into %s (sha256 checked)%n",
              d.path("files").size(), total, dir);
      return 0;
    }
  }
}
