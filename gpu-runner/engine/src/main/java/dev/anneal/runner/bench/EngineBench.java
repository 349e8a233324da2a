package dev.anneal.runner.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.anneal.protocol.CheckpointPolicy;
import dev.anneal.protocol.DatasetRef;
import dev.anneal.protocol.ExitCode;
import dev.anneal.protocol.ModelConfig;
import dev.anneal.protocol.ObjectStoreTarget;
import dev.anneal.protocol.RunSpec;
import dev.anneal.protocol.RunnerEvent;
import dev.anneal.protocol.StageKind;
import dev.anneal.protocol.TokenizerSpec;
import dev.anneal.protocol.TrainingConfig;
import dev.anneal.runner.ckpt.CheckpointWriter;
import dev.anneal.runner.ckpt.DeviceSnapshot;
import dev.anneal.runner.ckpt.DirectoryStore;
import dev.anneal.runner.data.SyntheticCorpus;
import dev.anneal.runner.events.EventLog;
import dev.anneal.runner.model.ModelShape;
import dev.anneal.runner.train.Objective;
import dev.anneal.runner.train.SupervisedTrainer;
import dev.anneal.runner.train.TrainingInputs;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Training throughput of the engine: step time and tokens/s per preset and precision, model FLOPs
 * utilisation against the fp32 matmul peak measured in the same run, and the training-loop stall of
 * an asynchronous checkpoint as a fraction of a synchronous save. Writes JSON for the peer
 * comparison script ({@code scripts/bench-engine.sh}).
 */
public final class EngineBench {

  public record Options(
      boolean quick,
      List<String> presets,
      List<String> precisions,
      int steps,
      String json,
      int seq,
      int batch) {}

  public record Row(
      String preset,
      String precision,
      long params,
      int batch,
      int seq,
      ModelShape shape,
      double stepMs,
      double tokensPerSecond,
      double mfu) {}

  private static final int WARMUP = 3;

  private EngineBench() {}

  public static int run(Options o, PrintStream out) {
    double peak = matmulPeakGflops(o.quick() ? 3 : 10);
    out.printf(
        "fp32 matmul peak (1024^3, DJL PyTorch %s, %d threads): %.1f GFLOP/s%n",
        Engine.getEngine("PyTorch").getVersion(), Runtime.getRuntime().availableProcessors(), peak);
    List<Row> rows = new ArrayList<>();
    double stall = Double.NaN;
    double snapshotMs = Double.NaN;
    double syncMs = Double.NaN;
    for (String preset : o.presets()) {
      for (String precision : o.precisions()) {
        Path dir;
        try {
          dir = Files.createTempDirectory("anneal-bench");
        } catch (IOException e) {
          throw new IllegalStateException(e);
        }
        RunSpec spec = spec(preset, precision, o, dir);
        ModelShape shape = ModelShape.of(spec.model());
        DirectoryStore store = new DirectoryStore(dir);
        TrainingInputs.Inputs in = TrainingInputs.prepare(spec, shape, store, null);
        List<Double> stepMs = new ArrayList<>();
        EventLog events = new EventLog("bench", "bench", StageKind.PRETRAIN, 1, line -> {});
        try (SupervisedTrainer t =
            new SupervisedTrainer(
                spec,
                shape,
                in.sampler(),
                in.tokenizer(),
                store,
                events,
                true,
                null,
                null,
                Objective.LANGUAGE_MODEL)) {
          t.run();
          for (RunnerEvent e : events.events()) {
            if (e instanceof RunnerEvent.Metrics m) {
              for (RunnerEvent.MetricPoint p : m.points()) {
                if (p.name().equals("step_ms") && p.step() >= WARMUP) stepMs.add(p.value());
              }
            }
          }
          if (precision.equals("fp32") && preset.equals(o.presets().get(o.presets().size() - 1))) {
            double[] stalls = checkpointStall(t, dir.resolve("stall"), o.quick() ? 2 : 3);
            snapshotMs = stalls[0];
            syncMs = stalls[1];
            stall = snapshotMs / syncMs;
          }
        }
        double median = median(stepMs);
        double tokens = (double) o.batch() * o.seq();
        double mfu = shape.trainingFlopsPerToken(o.seq()) * tokens / (median / 1000) / (peak * 1e9);
        rows.add(
            new Row(
                preset,
                precision,
                shape.parameterCount(),
                o.batch(),
                o.seq(),
                shape,
                median,
                tokens / (median / 1000),
                mfu));
        out.printf(
            "%-6s %-10s %,11d params  batch %d x %d  step %8.1f ms  %9.0f tokens/s  MFU %5.1f%%%n",
            preset,
            precision,
            shape.parameterCount(),
            o.batch(),
            o.seq(),
            median,
            tokens / (median / 1000),
            100 * mfu);
        deleteQuietly(dir);
      }
    }
    out.printf(
        "async checkpoint stall (%s): %.1f ms device clone vs %.1f ms synchronous save = %.1f%%%n",
        o.presets().get(o.presets().size() - 1), snapshotMs, syncMs, 100 * stall);
    if (o.json() != null) {
      writeJson(Path.of(o.json()), peak, rows, snapshotMs, syncMs);
    }
    return ExitCode.SUCCESS.code();
  }

  private static RunSpec spec(String preset, String precision, Options o, Path dir) {
    ModelShape base = ModelShape.of(ModelConfig.preset(preset));
    List<DatasetRef> data = new ArrayList<>();
    for (String s : SyntheticCorpus.SOURCES) {
      data.add(
          new DatasetRef(
              s, "synthetic:" + s + "?docs=" + (o.quick() ? 200 : 600), null, 1.0, null));
    }
    return RunSpec.builder()
        .team("bench")
        .pipeline("bench")
        .stage(StageKind.PRETRAIN)
        .attempt(1)
        .device("cpu")
        .seed(1L)
        .model(
            new ModelConfig(
                preset,
                null,
                null,
                null,
                null,
                null,
                Math.max(o.seq(), base.maxSeqLen()),
                null,
                null,
                null))
        .training(
            TrainingConfig.builder()
                .steps((long) WARMUP + o.steps())
                .batchSize(o.batch())
                .seqLen(o.seq())
                .gradAccum(1)
                .lr(1e-3)
                .warmupFraction(0.0)
                .minLrRatio(0.1)
                .precision(precision)
                .build())
        .datasets(data)
        .tokenizer(new TokenizerSpec(null, Math.min(base.vocabSize(), 1024), false, null))
        .checkpoint(new CheckpointPolicy(1_000_000, 1, 0))
        .store(new ObjectStoreTarget("file:" + dir, "bench", null))
        .build();
  }

  /**
   * Median ms of the loop's stall (device clone) and of a synchronous save (clone + host copy +
   * serialise + write).
   */
  private static double[] checkpointStall(SupervisedTrainer t, Path dir, int reps) {
    double[] snap = new double[reps];
    double[] sync = new double[reps];
    for (int i = 0; i < reps; i++) {
      long t0 = System.nanoTime();
      DeviceSnapshot s = t.capture();
      long t1 = System.nanoTime();
      try (CheckpointWriter w =
          new CheckpointWriter(
              new DirectoryStore(dir.resolve("r" + i)),
              "bench",
              "bench",
              StageKind.PRETRAIN,
              1,
              new CheckpointPolicy(1, 10, 0),
              false,
              c -> {})) {
        w.commit(s.toHost());
      }
      long t2 = System.nanoTime();
      snap[i] = (t1 - t0) / 1e6;
      sync[i] = (t2 - t0) / 1e6;
    }
    return new double[] {median(snap), median(sync)};
  }

  /** Warm fp32 1024^3 matrix products; GFLOP/s of the median. */
  public static double matmulPeakGflops(int reps) {
    int n = 1024;
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray a = m.randomNormal(new Shape(n, n));
      NDArray b = m.randomNormal(new Shape(n, n));
      double[] times = new double[reps];
      for (int i = -3; i < reps; i++) {
        try (NDManager step = m.newSubManager()) {
          long t0 = System.nanoTime();
          NDArray c = a.matMul(b);
          c.attach(step);
          c.getFloat(0, 0);
          if (i >= 0) times[i] = (System.nanoTime() - t0) / 1e9;
        }
      }
      return 2.0 * n * n * n / median(times) / 1e9;
    }
  }

  private static double median(List<Double> xs) {
    return median(xs.stream().mapToDouble(Double::doubleValue).toArray());
  }

  private static double median(double[] xs) {
    if (xs.length == 0) return Double.NaN;
    double[] s = xs.clone();
    Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  }

  private static void writeJson(
      Path file, double peak, List<Row> rows, double snapshotMs, double syncMs) {
    ObjectMapper json = new ObjectMapper();
    ObjectNode root = json.createObjectNode();
    root.put("matmulPeakGflops", peak);
    root.put("checkpointSnapshotMs", snapshotMs);
    root.put("checkpointSyncSaveMs", syncMs);
    ArrayNode arr = root.putArray("rows");
    for (Row r : rows) {
      ObjectNode n = arr.addObject();
      n.put("preset", r.preset());
      n.put("precision", r.precision());
      n.put("params", r.params());
      n.put("batch", r.batch());
      n.put("seq", r.seq());
      n.put("stepMs", r.stepMs());
      n.put("tokensPerSecond", r.tokensPerSecond());
      n.put("mfu", r.mfu());
      ModelShape s = r.shape();
      ObjectNode shape = n.putObject("shape");
      shape.put("dModel", s.dModel());
      shape.put("nLayers", s.nLayers());
      shape.put("nHeads", s.nHeads());
      shape.put("nKvHeads", s.nKvHeads());
      shape.put("ffnHidden", s.ffnHidden());
      shape.put("vocabSize", s.vocabSize());
      shape.put("tieEmbeddings", s.tieEmbeddings());
      shape.put("flopsPerToken", s.trainingFlopsPerToken(r.seq()));
    }
    try {
      Files.writeString(file, json.writerWithDefaultPrettyPrinter().writeValueAsString(root));
    } catch (IOException e) {
      throw new IllegalStateException("cannot write " + file, e);
    }
  }

  private static void deleteQuietly(Path dir) {
    try (var files = Files.walk(dir)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // a temporary directory left behind is harmless
    }
  }
}
