package dev.anneal.workflows.api.spec;

import dev.anneal.protocol.CurriculumPhase;
import dev.anneal.protocol.StageKind;
import dev.anneal.protocol.TrainingConfig;
import java.util.List;

/**
 * What a stage on an engine other than the built-in one may ask for, checked at submit so that a
 * stage is never launched with settings its engine would ignore. The torch engine trains on one
 * token set with AdamW, one rank a GPU, fp32 or bf16 autocast.
 */
final class EngineChecks {
  private EngineChecks() {}

  static void check(
      StageKind kind,
      EngineSpec e,
      Resources resources,
      List<MixtureEntry> data,
      List<CurriculumPhase> curriculum,
      TrainingConfig h) {
    String name = e.kind().id();
    if (!e.kind().stages().contains(kind)) {
      throw new IllegalArgumentException(
          "engine.kind: the "
              + name
              + " engine trains "
              + e.kind().stages().stream().map(k -> k.id()).sorted().toList()
              + " stages; a "
              + kind.id()
              + " stage runs on the built-in engine (docs/engines.md)");
    }
    int gpus = resources.gpus();
    int ranks = e.ranksFor(resources);
    if (gpus > 0 && ranks != gpus) {
      throw new IllegalArgumentException(
          "engine.ranks: the "
              + name
              + " engine runs one rank a GPU, so a stage with resources.gpus: "
              + gpus
              + " runs "
              + gpus
              + " ranks, got "
              + ranks);
    }
    if (data.size() != 1) {
      throw new IllegalArgumentException(
          "data: the "
              + name
              + " engine trains on one dataset (its token set), got "
              + data.size()
              + "; mixtures are the built-in engine's");
    }
    if (!curriculum.isEmpty()) {
      throw new IllegalArgumentException(
          "curriculum: the "
              + name
              + " engine trains on one dataset; curricula are the built-in"
              + " engine's");
    }
    if (e.kind() != EngineSpec.Kind.TORCH) return; // a team's program reads the rest itself
    refuse(!h.optimizer().equals("adamw"), "optimizer", name, "trains with adamw", h.optimizer());
    refuse(h.gradAccum() != 1, "gradAccum", name, "takes no gradient accumulation", h.gradAccum());
    refuse(h.batchRamp() != null, "batchRamp", name, "takes no batch ramp", "one");
    refuse(h.packing(), "packing", name, "samples windows of its token set", "packing: true");
    refuse(
        h.precision().equals("fp16-mixed"),
        "precision",
        name,
        "trains in fp32 or bf16-mixed",
        h.precision());
    int world = ranks * e.nodes();
    if (h.batchSize() % world != 0) {
      throw new IllegalArgumentException(
          "hyperparameters.batchSize: "
              + h.batchSize()
              + " rows do not split evenly over "
              + world
              + " ranks"
              + (e.nodes() > 1 ? " (" + ranks + " on each of " + e.nodes() + " nodes)" : ""));
    }
  }

  private static void refuse(boolean bad, String field, String engine, String what, Object got) {
    if (bad) {
      throw new IllegalArgumentException(
          "hyperparameters." + field + ": the " + engine + " engine " + what + ", got " + got);
    }
  }
}
