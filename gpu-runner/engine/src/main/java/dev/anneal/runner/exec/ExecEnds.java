package dev.anneal.runner.exec;

import com.fasterxml.jackson.databind.JsonNode;
import dev.anneal.protocol.CheckpointManifest;
import dev.anneal.protocol.ExitCode;
import dev.anneal.protocol.RunSpec;
import dev.anneal.runner.ckpt.BlobStore;
import dev.anneal.runner.ckpt.SafeTensors;
import dev.anneal.runner.events.EventLog;
import dev.anneal.runner.hf.HfFormat;
import dev.anneal.runner.hf.ModelCard;
import dev.anneal.runner.model.ModelShape;
import dev.anneal.runner.stability.InstabilityDetector;
import dev.anneal.runner.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * How an attempt under exec ends and what it leaves: the protocol's exit code of a rank's, the
 * reason a person reads, a checkpoint's health figures, and the stage's Hugging Face export.
 */
final class ExecEnds {
  private ExecEnds() {}

  /** A rank's exit code as the protocol's: its own codes pass, anything else is a crash. */
  static ExitCode codeOf(int exit) {
    for (ExitCode c : ExitCode.values()) {
      if (c.code() == exit && c != ExitCode.SUCCESS) return c;
    }
    return ExitCode.CRASH;
  }

  /**
   * The last lines the ranks wrote, the failed rank's first, for the reason a person reads (a rank
   * that saw its peer die writes a gloo or NCCL error, which is the echo, not the cause).
   */
  static String logTail(Path work, int failed) {
    try (var logs = Files.list(work.resolve("logs"))) {
      StringBuilder b = new StringBuilder();
      String mine = "rank-" + failed + ".log";
      List<Path> ordered =
          logs.sorted()
              .sorted(
                  java.util.Comparator.comparing(
                      (Path p) -> !p.getFileName().toString().equals(mine)))
              .toList();
      for (Path p : ordered) {
        List<String> lines = Files.readAllLines(p);
        if (lines.isEmpty()) continue;
        b.append("; ").append(p.getFileName()).append(": ");
        b.append(String.join(" | ", lines.subList(Math.max(0, lines.size() - 3), lines.size())));
      }
      return b.toString();
    } catch (IOException e) {
      return "";
    }
  }

  /** Health figures of a checkpoint of {@code step}, from the metrics and the detector. */
  static CheckpointManifest.Health health(JsonNode line, InstabilityDetector detector) {
    Double loss = line == null ? null : finite(line.get("loss").asDouble());
    Double grad = line == null ? null : finite(line.get("grad_norm").asDouble());
    return new CheckpointManifest.Health(
        loss, finite(detector.ema()), grad, null, detector.inAnomaly(), Map.of());
  }

  private static Double finite(double v) {
    return Double.isFinite(v) ? v : null;
  }

  /**
   * The final weights as a Hugging Face directory beside the final checkpoint, as the built-in
   * engine writes one: the engine's own {@code model.safetensors} under Hugging Face names, with
   * the config and the run's tokenizer.
   */
  static void exportHuggingFace(
      RunSpec spec,
      BlobStore store,
      EventLog events,
      Tokenizer tokenizer,
      Path finalDir,
      String manifestKey,
      long step,
      Map<String, Double> figures)
      throws IOException {
    if (tokenizer == null) {
      events.log("WARN", "exec: no tokenizer for this run, so no Hugging Face export");
      return;
    }
    Map<String, SafeTensors.HostTensor> weights =
        SafeTensors.read(
            Files.readAllBytes(finalDir.resolve("model.safetensors")),
            finalDir.getFileName() + "/model.safetensors");
    ModelShape shape = ModelShape.of(spec.model());
    java.util.Optional<String> not = HfFormat.notLlama(shape, weights);
    if (not.isPresent()) {
      // a team's program may train another architecture: its checkpoints are its own
      events.log(
          "WARN",
          "exec: the engine's weights are not the RunSpec's LLaMA under Hugging Face names ("
              + not.get()
              + "), so no Hugging Face export");
      return;
    }
    String prefix = manifestKey.substring(0, manifestKey.lastIndexOf('/') + 1) + "hf/";
    HfFormat.export(shape, weights, tokenizer, spec.export())
        .forEach((name, bytes) -> store.put(prefix + name, bytes));
    store.put(
        prefix + "README.md",
        ModelCard.write(spec, shape, step, figures)
            .getBytes(java.nio.charset.StandardCharsets.UTF_8));
    events.log("INFO", "Hugging Face export (transformers loads it): " + store.describe(prefix));
  }
}
