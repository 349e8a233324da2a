package dev.anneal.workflows.api.spec;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import dev.anneal.protocol.Checks;
import dev.anneal.protocol.StageKind;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Which engine trains a stage and with how many ranks (processes on its pod, or on this machine
 * with the local launcher) on each of {@code nodes} machines (pods of one Job on Kubernetes,
 * default 1). {@code builtin}, the default, is Anneal's own Java engine on one device; {@code
 * torch} is the reference distributed engine on PyTorch distributed (DDP), run under {@code
 * anneal-runner exec}; {@code command} is a team's own program that speaks the engine contract
 * ({@code command}, in its {@code image} on Kubernetes), also under the wrapper, where an operator
 * allows it. docs/engines.md says what each supports.
 */
public record EngineSpec(
    Kind kind, Integer ranks, Integer nodes, String image, List<String> command) {

  /** The engines a stage can name. */
  public enum Kind {
    BUILTIN("builtin", EnumSet.allOf(StageKind.class)),
    TORCH("torch", EnumSet.of(StageKind.PRETRAIN, StageKind.SFT)),
    COMMAND("command", EnumSet.of(StageKind.PRETRAIN));

    private final String id;
    private final Set<StageKind> stages;

    Kind(String id, Set<StageKind> stages) {
      this.id = id;
      this.stages = stages;
    }

    @JsonValue
    public String id() {
      return id;
    }

    /** The stage kinds this engine trains. */
    public Set<StageKind> stages() {
      return stages;
    }

    @JsonCreator
    public static Kind fromId(String id) {
      for (Kind k : values()) {
        if (k.id.equals(id.toLowerCase(Locale.ROOT))) return k;
      }
      throw new IllegalArgumentException(
          "unknown engine '"
              + id
              + "' (expected one of "
              + Arrays.stream(values()).map(Kind::id).collect(Collectors.joining(", "))
              + ")");
    }
  }

  public EngineSpec {
    kind = Checks.orDefault(kind, Kind.BUILTIN);
    if (ranks != null) Checks.positive("ranks", ranks);
    nodes = Checks.orDefault(nodes, 1);
    command = command == null ? List.of() : List.copyOf(command);
    if (kind == Kind.COMMAND && command.isEmpty()) {
      throw new IllegalArgumentException(
          "command: an engine of kind command names the program to run, e.g. [python, train.py]");
    }
    if (kind != Kind.COMMAND && (!command.isEmpty() || image != null)) {
      throw new IllegalArgumentException(
          (image != null ? "image" : "command")
              + ": only an engine of kind command runs a program of the team's; the "
              + kind.id()
              + " engine is the platform's");
    }
    Checks.positive("nodes", nodes);
    if (kind == Kind.BUILTIN && nodes != 1) {
      throw new IllegalArgumentException(
          "nodes: the built-in engine runs on one machine, got "
              + nodes
              + "; engine: {kind: torch, nodes: "
              + nodes
              + "} runs on "
              + nodes);
    }
    if (kind == Kind.BUILTIN && ranks != null && ranks != 1) {
      throw new IllegalArgumentException(
          "ranks: the built-in engine runs one process, got "
              + ranks
              + "; engine: {kind: torch, ranks: "
              + ranks
              + "} runs "
              + ranks);
    }
  }

  public static EngineSpec builtin() {
    return new EngineSpec(Kind.BUILTIN, null, null, null, null);
  }

  /** The GPUs the stage holds, and its quota is billed for: each node's, on every node. */
  public int gpusHeld(Resources resources) {
    return resources.gpus() * nodes;
  }

  /** The ranks to start on each node: as given, else one a GPU, else one. */
  public int ranksFor(Resources resources) {
    return ranks != null ? ranks : Math.max(1, resources.gpus());
  }
}
