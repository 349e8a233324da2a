package dev.anneal.runner;

import dev.anneal.protocol.CheckpointPolicy;
import dev.anneal.protocol.CheckpointRef;
import dev.anneal.protocol.DatasetRef;
import dev.anneal.protocol.ExitCode;
import dev.anneal.protocol.FaultInjection;
import dev.anneal.protocol.ModelConfig;
import dev.anneal.protocol.ObjectStoreTarget;
import dev.anneal.protocol.RunSpec;
import dev.anneal.protocol.StageKind;
import dev.anneal.protocol.TokenizerSpec;
import dev.anneal.protocol.TrainingConfig;
import dev.anneal.runner.data.SyntheticCorpus;
import dev.anneal.runner.events.EventLog;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The runner's commands for a person at a terminal: {@code train} on local files, {@code synth}.
 */
final class LocalCommands {
  private LocalCommands() {}

  static int train(Args a, PrintStream out, AtomicReference<Runnable> trainer) {
    Path outDir = Path.of(a.get("out", "runs/local"));
    List<DatasetRef> data = new ArrayList<>();
    if (a.has("data")) {
      for (String f : a.list("data")) {
        Path p = Path.of(f).toAbsolutePath();
        String name =
            p.getFileName()
                .toString()
                .replaceAll("\\.jsonl$", "")
                .toLowerCase()
                .replaceAll("[^a-z0-9._-]", "-");
        data.add(new DatasetRef(name, "file:" + p, null, 1.0, null));
      }
    } else {
      for (String s : SyntheticCorpus.SOURCES) {
        data.add(new DatasetRef(s, "synthetic:" + s + "?docs=2000", null, 1.0, null));
      }
    }
    long steps = a.getLong("steps", 300);
    TrainingConfig training =
        TrainingConfig.builder()
            .steps(steps)
            .batchSize(a.getInt("batch", 16))
            .seqLen(a.getInt("seq", 64))
            .gradAccum(a.getInt("grad-accum", 1))
            .lr(a.getDouble("lr", 3e-3))
            .warmupFraction(0.02)
            .minLrRatio(0.1)
            .optimizer(a.get("optimizer", null))
            .precision(a.get("precision", null))
            .build();
    ModelConfig model =
        new ModelConfig(
            a.get("preset", "tiny"),
            null,
            null,
            null,
            null,
            null,
            null,
            null,
            null,
            a.get("attention", null));
    FaultInjection inject =
        new FaultInjection(
            a.has("spike-at") ? a.getLong("spike-at", 0) : null,
            null,
            null,
            a.has("nan-at") ? a.getLong("nan-at", 0) : null,
            a.has("crash-at") ? a.getLong("crash-at", 0) : null,
            null);
    CheckpointRef resume = a.has("resume") ? new CheckpointRef(a.get("resume", null), null) : null;
    RunSpec spec =
        RunSpec.builder()
            .team("local")
            .pipeline("train")
            .stage(StageKind.PRETRAIN)
            .attempt(resume == null ? 1 : 2)
            .device("cpu")
            .seed(a.getLong("seed", 1234))
            .model(model)
            .training(training)
            .datasets(data)
            .tokenizer(TokenizerSpec.defaults())
            .resumeFrom(resume)
            .checkpoint(new CheckpointPolicy(a.getInt("every", 100), 3, 0))
            .store(new ObjectStoreTarget("file:" + outDir.toAbsolutePath(), "local", null))
            .inject(inject)
            .build();
    EventLog events =
        EventLog.toStream(spec.team(), spec.pipeline(), spec.stage(), spec.attempt(), out);
    return StageRunner.run(spec, StageRunner.store(spec.store()), events, trainer);
  }

  static int synth(Args a, PrintStream out) {
    Path dir = Path.of(a.get("out", "data/synthetic"));
    try {
      Map<String, Path> files =
          SyntheticCorpus.writeJsonl(dir, a.getLong("seed", 1234), a.getInt("docs", 2000));
      files.forEach((k, v) -> out.println(k + " -> " + v));
      return ExitCode.SUCCESS.code();
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot write " + dir + ": " + e.getMessage());
    }
  }
}
