package dev.anneal.runner.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anneal.protocol.EventBatch;
import dev.anneal.protocol.ProtocolJson;
import dev.anneal.protocol.RunnerEvent;
import dev.anneal.protocol.TokenizerSpec;
import dev.anneal.runner.RunnerMain;
import dev.anneal.runner.data.SyntheticCorpus;
import dev.anneal.runner.tokenizer.BpeTrainer;
import dev.anneal.runner.tokenizer.Tokenizer;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The data loader at scale: for each dataset size, a JSONL file of that size is written (and, for
 * Parquet, rewritten by npm's hyparquet-writer) and a runner (a child process, with a fixed heap)
 * pre-trains on it; the bench samples the child's anonymous memory ({@code RssAnon} in {@code
 * /proc/<pid>/status}: heap, native allocations, not the page cache that holds the mapped token
 * shards) every 20 ms, and reads from its events how fast the dataset streamed into token shards
 * and how fast the trainer consumed tokens. Equal peaks at every size mean memory is flat in the
 * dataset's size; the loader ÷ trainer ratio says how far ahead of training the data path runs.
 */
public final class DataScaleBench {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern LOADED = Pattern.compile("data: ([\\d,]+) tokens .* in ([\\d.]+) s");

  /**
   * Sizes in bytes (of the JSONL; a Parquet file holds the same documents); the child's heap; where
   * the files go; training steps per run; the files to read ({@code jsonl}, {@code parquet}); where
   * npm's hyparquet-writer is installed ({@code setup.sh}), which writes the Parquet files.
   */
  public record Options(
      List<Long> sizes, int heapMb, Path dir, int steps, List<String> files, Path hyparquet) {}

  private record Run(
      String file,
      long bytes,
      long tokens,
      double loadSeconds,
      double trainTokensPerSecond,
      long peakAnonKb) {}

  private DataScaleBench() {}

  /** {@code 100M}, {@code 5G}, {@code 512K} or a number of bytes. */
  public static long size(String s) {
    String t = s.trim().toUpperCase();
    long unit =
        t.endsWith("G") ? 1L << 30 : t.endsWith("M") ? 1L << 20 : t.endsWith("K") ? 1L << 10 : 1;
    if (unit > 1) t = t.substring(0, t.length() - 1);
    return (long) (Double.parseDouble(t) * unit);
  }

  public static int run(Options o, PrintStream out) {
    try {
      return measure(o, out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 1;
    }
  }

  private static int measure(Options o, PrintStream out) throws IOException, InterruptedException {
    Files.createDirectories(o.dir());
    List<String> docs =
        SyntheticCorpus.generate("prose", 1, 2000).stream().map(SyntheticCorpus.Doc::text).toList();
    Tokenizer tok =
        BpeTrainer.train(docs.subList(0, 300), 300, false, TokenizerSpec.DEFAULT_SPECIALS);
    Path tokenizer = Files.writeString(o.dir().resolve("tokenizer.json"), tok.toHuggingFaceJson());
    out.printf(
        "data at scale: pre-training the micro model, a runner with -Xmx%dm, %d steps of 16 x 128"
            + " tokens; RssAnon sampled every 20 ms%n",
        o.heapMb(), o.steps());
    List<Run> runs = new ArrayList<>();
    for (String file : o.files()) {
      for (long size : o.sizes()) {
        Path data = o.dir().resolve("data-" + size + ".jsonl");
        write(data, size, docs);
        if (file.equals("parquet")) data = parquet(o, data);
        runs.add(child(o, file, data, Files.size(data), tokenizer, runs.size()));
        Files.deleteIfExists(data);
      }
    }
    out.printf(
        "%8s %10s %14s %10s %14s %14s %10s %12s %10s%n",
        "file",
        "size",
        "tokens",
        "load s",
        "loader tok/s",
        "trainer tok/s",
        "÷ trainer",
        "RssAnon MB",
        "÷ first");
    for (Run r : runs) {
      double loader = r.tokens() / r.loadSeconds();
      Run first = runs.stream().filter(x -> x.file().equals(r.file())).findFirst().orElseThrow();
      out.printf(
          "%8s %9.1fM %,14d %10.1f %,14.0f %,14.0f %10.1f %12.1f %10.2f%n",
          r.file(),
          r.bytes() / 1048576.0,
          r.tokens(),
          r.loadSeconds(),
          loader,
          r.trainTokensPerSecond(),
          loader / r.trainTokensPerSecond(),
          r.peakAnonKb() / 1024.0,
          (double) r.peakAnonKb() / first.peakAnonKb());
    }
    return 0;
  }

  /**
   * {@code jsonl} rewritten as Parquet by npm's hyparquet-writer (SNAPPY pages, row groups of
   * 100,000 documents, streamed: any size); the JSONL is removed.
   */
  private static Path parquet(Options o, Path jsonl) throws IOException, InterruptedException {
    Path script = o.hyparquet().resolve("jsonl2parquet.mjs");
    if (!Files.exists(script)) {
      throw new IOException(
          script
              + " is missing: install the writer with"
              + " gpu-runner/datafiles/src/test/parquet/setup.sh "
              + o.hyparquet());
    }
    Path out = Path.of(jsonl.toString().replaceAll("\\.jsonl$", ".parquet"));
    Process p =
        new ProcessBuilder(
                "node",
                script.toString(),
                jsonl.toString(),
                out.toString(),
                "--stream",
                "--codec",
                "SNAPPY",
                "--row-group",
                "100000")
            .inheritIO()
            .start();
    if (p.waitFor() != 0) throw new IOException("jsonl2parquet.mjs failed on " + jsonl);
    Files.delete(jsonl);
    return out;
  }

  /** Numbered synthetic documents (no two alike) up to {@code size} bytes of JSONL. */
  private static long write(Path file, long size, List<String> docs) throws IOException {
    long bytes = 0;
    try (BufferedWriter w = Files.newBufferedWriter(file)) {
      for (long i = 0; bytes < size; i++) {
        String line =
            JSON.writeValueAsString(Map.of("text", i + ": " + docs.get((int) (i % docs.size()))))
                + "\n";
        w.write(line);
        bytes += line.getBytes(StandardCharsets.UTF_8).length;
      }
    }
    return bytes;
  }

  private static Run child(Options o, String file, Path data, long bytes, Path tokenizer, int n)
      throws IOException, InterruptedException {
    Path spec =
        Files.writeString(
            o.dir().resolve("spec.json"),
            "{\"team\":\"bench\",\"pipeline\":\"scale-"
                + n
                + "\",\"stage\":\"pretrain\",\"attempt\":1,\"model\":{\"preset\":\"micro\"},"
                + "\"training\":{\"steps\":"
                + o.steps()
                + ",\"batchSize\":16,\"seqLen\":128},"
                + "\"datasets\":[{\"name\":\"data\",\"key\":\"file:"
                + data
                + "\"}],\"tokenizer\":{\"key\":\"file:"
                + tokenizer
                + "\"},\"checkpoint\":{\"everySteps\":1000000,\"keepLast\":1},"
                + "\"store\":{\"endpoint\":\"file:"
                + o.dir().resolve("store")
                + "\",\"bucket\":\"b\"}}");
    Process p =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx" + o.heapMb() + "m",
                "-cp",
                System.getProperty("java.class.path"),
                RunnerMain.class.getName(),
                "--spec",
                spec.toString())
            .redirectError(o.dir().resolve("stderr-" + n + ".log").toFile())
            .start();
    AtomicLong peak = new AtomicLong();
    Thread sampler =
        new Thread(
            () -> {
              Path status = Path.of("/proc", Long.toString(p.pid()), "status");
              while (p.isAlive()) {
                try {
                  for (String line : Files.readAllLines(status)) {
                    if (line.startsWith("RssAnon:")) {
                      long kb = Long.parseLong(line.replaceAll("\\D+", ""));
                      peak.accumulateAndGet(kb, Math::max);
                    }
                  }
                  Thread.sleep(20);
                } catch (IOException | InterruptedException e) {
                  return;
                }
              }
            });
    sampler.setDaemon(true);
    sampler.start();
    long tokens = -1;
    double load = Double.NaN;
    double trainRate = Double.NaN;
    String failure = null;
    try (BufferedReader r =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line; (line = r.readLine()) != null; ) {
        EventBatch b = ProtocolJson.readEventBatch(line);
        for (RunnerEvent e : b.events()) {
          if (e instanceof RunnerEvent.Log l) {
            Matcher m = LOADED.matcher(l.message());
            if (m.find()) {
              tokens = Long.parseLong(m.group(1).replace(",", ""));
              load = Double.parseDouble(m.group(2));
            }
          } else if (e instanceof RunnerEvent.Finished f) {
            trainRate = f.summary().getOrDefault("tokens_per_s", Double.NaN);
          } else if (e instanceof RunnerEvent.Failed f) {
            failure = f.reason();
          }
        }
      }
    }
    int code = p.waitFor();
    sampler.join();
    if (code != 0 || tokens < 0) {
      throw new IllegalStateException(
          "the runner on "
              + data
              + " exited "
              + code
              + (failure == null ? "" : ": " + failure)
              + " (its stderr: "
              + o.dir().resolve("stderr-" + n + ".log")
              + ")");
    }
    return new Run(file, bytes, tokens, load, trainRate, peak.get());
  }
}
