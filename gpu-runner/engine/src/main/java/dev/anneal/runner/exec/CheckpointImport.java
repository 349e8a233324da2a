package dev.anneal.runner.exec;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anneal.protocol.RunSpec;
import dev.anneal.runner.ckpt.CheckpointException;
import dev.anneal.runner.ckpt.CheckpointReader;
import dev.anneal.runner.ckpt.CheckpointSnapshot;
import dev.anneal.runner.ckpt.SafeTensors;
import dev.anneal.runner.ckpt.TrainerState;
import dev.anneal.runner.model.ModelShape;
import dev.anneal.runner.stability.InstabilityDetector;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Checkpoint directories of the engine contract, in and out of the store's format: {@code step-<8
 * digits>/} with {@code model.safetensors}, {@code optimizer.safetensors}, {@code
 * trainer-state.json} and optionally {@code tokenizer.json}, committed by a {@code COMMITTED}
 * marker written last. A directory without the marker is not yet a checkpoint and is left alone;
 * one with the marker but without its files is refused by name, before anything reaches the store.
 */
final class CheckpointImport {

  static final String COMMITTED = "COMMITTED";
  static final List<String> FILES =
      List.of("model.safetensors", "optimizer.safetensors", "trainer-state.json");

  private static final Pattern NAME = Pattern.compile("step-(\\d{8})");
  private static final ObjectMapper JSON = new ObjectMapper();

  private final RunSpec spec;
  private final Path dir;
  private final Set<Path> imported = new HashSet<>();

  /** Tokens trained before this attempt (a resumed attempt's checkpoint says how many). */
  long tokensBefore;

  CheckpointImport(RunSpec spec, Path dir) {
    this.spec = spec;
    this.dir = dir;
  }

  /** A committed directory that breaks the contract. */
  static final class BadCheckpoint extends RuntimeException {
    BadCheckpoint(String message) {
      super(message);
    }
  }

  Path dir() {
    return dir;
  }

  /** Committed directories not imported yet, by step. */
  List<Path> newlyCommitted() throws IOException {
    TreeMap<Long, Path> found = new TreeMap<>();
    if (!Files.isDirectory(dir)) return List.of();
    try (var list = Files.list(dir)) {
      for (Path p : list.toList()) {
        Matcher m = NAME.matcher(p.getFileName().toString());
        if (m.matches() && Files.exists(p.resolve(COMMITTED)) && !imported.contains(p)) {
          found.put(Long.parseLong(m.group(1)), p);
        }
      }
    }
    imported.addAll(found.values());
    return new ArrayList<>(found.values());
  }

  /** The store's checkpoint of a committed directory, with the wrapper's health figures. */
  CheckpointSnapshot snapshot(Path d, TreeMap<Long, JsonNode> steps, InstabilityDetector detector)
      throws IOException {
    for (String f : FILES) {
      if (!Files.exists(d.resolve(f))) {
        throw new BadCheckpoint(d.getFileName() + " is marked " + COMMITTED + " but has no " + f);
      }
    }
    long step = Long.parseLong(NAME.matcher(d.getFileName().toString()).replaceAll("$1"));
    JsonNode st = JSON.readTree(Files.readAllBytes(d.resolve("trainer-state.json")));
    if (st.path("step").asLong(-1) != step) {
      throw new BadCheckpoint(
          d.getFileName()
              + "/trainer-state.json says step "
              + st.path("step").asText()
              + ", not "
              + step);
    }
    Map<String, SafeTensors.HostTensor> model;
    Map<String, SafeTensors.HostTensor> optimizer;
    try {
      model =
          SafeTensors.read(
              Files.readAllBytes(d.resolve("model.safetensors")),
              d.getFileName() + "/model.safetensors");
      optimizer =
          SafeTensors.read(
              Files.readAllBytes(d.resolve("optimizer.safetensors")),
              d.getFileName() + "/optimizer.safetensors");
    } catch (CheckpointException e) {
      throw new BadCheckpoint(e.getMessage());
    }
    Map.Entry<Long, JsonNode> through = steps.floorEntry(step - 1);
    long tokens =
        through == null ? tokensBefore : through.getValue().path(ExecRun.TOKENS_THROUGH).asLong();
    TrainerState state =
        new TrainerState(
            1,
            step,
            tokens,
            st.path("batchesConsumed").asLong(step),
            st.path("optimizerSteps").asLong(step),
            spec.training().optimizer(),
            1.0,
            0,
            spec.seed(),
            detector.state(),
            ModelShape.of(spec.model()).toString());
    Path tok = d.resolve("tokenizer.json");
    String tokenizer = Files.exists(tok) ? Files.readString(tok, StandardCharsets.UTF_8) : null;
    Map.Entry<Long, JsonNode> at = steps.floorEntry(step - 1);
    return new CheckpointSnapshot(
        step,
        model,
        optimizer,
        state,
        tokenizer,
        ExecEnds.health(at == null ? null : at.getValue(), detector),
        Map.of(),
        Map.of());
  }

  /** Writes a stored checkpoint as a committed directory the program resumes from. */
  Path unpack(CheckpointReader.Loaded from, Path target) throws IOException {
    Files.createDirectories(target);
    for (String f : FILES) Files.write(target.resolve(f), from.file(f));
    if (from.files().containsKey("tokenizer.json")) {
      Files.write(target.resolve("tokenizer.json"), from.file("tokenizer.json"));
    }
    Files.writeString(target.resolve(COMMITTED), Long.toString(from.manifest().step()));
    return target;
  }
}
