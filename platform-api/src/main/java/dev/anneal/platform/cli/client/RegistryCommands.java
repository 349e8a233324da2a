package dev.anneal.platform.cli.client;

import com.fasterxml.jackson.databind.JsonNode;
import dev.anneal.platform.api.models.ModelImports;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** The CLI's registry commands over the REST API: datasets and models. */
public final class RegistryCommands {
  private RegistryCommands() {}

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

  @Command(
      name = "upload",
      description = "Upload a JSONL or Parquet file as the next version of a dataset")
  public static class DatasetsUpload extends ClientCommands.Base {
    @Parameters(index = "0", description = "the JSONL or Parquet file")
    Path file;

    @Option(
        names = "--name",
        description = "the dataset's name (default: the file's, without .jsonl or .parquet)")
    String name;

    @Option(
        names = "--format",
        description =
            "text, chat, preference or prompt (default: from the first line, or the columns)")
    String format;

    @Override
    int run(ApiClient api) {
      String n = name;
      if (n == null) {
        n =
            file.getFileName()
                .toString()
                .replaceAll("\\.jsonl$|\\.json$|\\.ndjson$|\\.parquet$", "")
                .toLowerCase();
      }
      JsonNode d =
          api.postFile(
              "/api/v1/datasets/"
                  + n
                  + ApiClient.query(format == null ? Map.of() : Map.of("format", format)),
              file,
              file.getFileName().toString().endsWith(".parquet")
                  ? "application/vnd.apache.parquet"
                  : "application/x-ndjson");
      out()
          .printf(
              "uploaded %s: %d records of %s (%s), %d bytes, sha256 %s%n  use it as   source: %s%n",
              n,
              d.path("records").asLong(),
              d.path("format").asText(),
              d.path("file").asText(),
              d.path("bytes").asLong(),
              d.path("sha256").asText(),
              d.path("source").asText());
      return 0;
    }
  }

  @Command(name = "list", description = "The newest version of each dataset")
  public static class DatasetsList extends ClientCommands.Base {
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
                ClientCommands.time(d.get("createdAt")));
      }
      return 0;
    }
  }

  @Command(
      name = "models",
      description = "List, register, import and download models",
      subcommands = {
        ModelsList.class,
        ModelsRegister.class,
        ModelsImport.class,
        ModelsDownload.class
      })
  public static class Models implements Runnable {
    @Spec CommandSpec spec;

    @Override
    public void run() {
      spec.commandLine().usage(spec.commandLine().getOut());
    }
  }

  @Command(name = "list", description = "Every model version of the team")
  public static class ModelsList extends ClientCommands.Base {
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
  public static class ModelsRegister extends ClientCommands.Base {
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
      name = "import",
      description =
          "Import a Hugging Face checkpoint directory (LLaMA, Mistral, Qwen2, Qwen3; safetensors)"
              + " as the next version of a model")
  public static class ModelsImport extends ClientCommands.Base {
    @Parameters(index = "0", description = "the directory (config.json, tokenizer.json, weights)")
    Path dir;

    @Option(names = "--name", required = true, description = "the model's name in the registry")
    String name;

    @Override
    int run(ApiClient api) {
      if (!Files.isDirectory(dir)) {
        throw new IllegalArgumentException(dir + " is not a directory");
      }
      List<Path> send = new ArrayList<>();
      List<String> skipped = new ArrayList<>();
      long bytes = 0;
      try (var files = Files.list(dir)) {
        for (Path f : files.sorted().toList()) {
          String n = f.getFileName().toString();
          if (!Files.isRegularFile(f)) continue;
          if (ModelImports.accepts(n)) {
            send.add(f);
            bytes += Files.size(f);
          } else {
            skipped.add(n);
          }
        }
      } catch (IOException e) {
        throw new IllegalArgumentException("cannot read " + dir + ": " + e.getMessage(), e);
      }
      if (!skipped.isEmpty()) {
        out().printf("not sent (an import does not take them): %s%n", String.join(", ", skipped));
      }
      out().printf("sending %d files, %d bytes …%n", send.size(), bytes);
      Multipart form = new Multipart();
      JsonNode m =
          api.postBody(
              "/api/v1/models/" + name + "/import", form.contentType(), form.body("file", send));
      JsonNode lineage = m.path("lineage");
      out()
          .printf(
              "imported %s@v%d (%s, %s, %,d parameters)%n  start from it with   from: model:%s@v%d%n",
              m.path("name").asText(),
              m.path("version").asInt(),
              m.path("id").asText(),
              lineage.path("architecture").asText(),
              lineage.path("parameters").asLong(),
              m.path("name").asText(),
              m.path("version").asInt());
      return 0;
    }
  }

  @Command(
      name = "download",
      description =
          "Download a model's checkpoint and HF export into a folder, checking every sha256")
  public static class ModelsDownload extends ClientCommands.Base {
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
