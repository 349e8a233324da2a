package dev.anneal.runner;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anneal.datafiles.Hyparquet;
import dev.anneal.protocol.TokenizerSpec;
import dev.anneal.runner.data.SyntheticCorpus;
import dev.anneal.runner.tokenizer.BpeTrainer;
import dev.anneal.runner.tokenizer.Tokenizer;
import java.io.BufferedWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A runner whose heap is half its dataset trains on it: the JSONL, or the Parquet file (written by
 * npm's hyparquet-writer, uncompressed so that the file is as large), streams into a memory-mapped
 * token set, never into the heap; Parquet a row group at a time. (Flat memory at several GB is
 * measured by {@code ./anneal bench data}, not here.)
 */
class LargeDatasetIT {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int HEAP_MB = 32;
  private static final long DATA_BYTES = 2L * HEAP_MB << 20;

  @TempDir Path dir;

  @ParameterizedTest
  @ValueSource(strings = {"jsonl", "parquet"})
  void aRunnerWithAHeapHalfItsDatasetTrainsOnIt(String format) throws Exception {
    List<String> docs =
        SyntheticCorpus.generate("prose", 1, 2000).stream().map(SyntheticCorpus.Doc::text).toList();
    Path data = dir.resolve("big.jsonl");
    long bytes = 0;
    try (BufferedWriter w = Files.newBufferedWriter(data)) {
      // numbered, so no two documents are the same
      // a Parquet file lacks JSON's keys and quotes: an eighth more documents make up for them
      long target = format.equals("parquet") ? DATA_BYTES + DATA_BYTES / 8 : DATA_BYTES;
      for (int i = 0; bytes < target; i++) {
        String line =
            JSON.writeValueAsString(Map.of("text", i + ": " + docs.get(i % docs.size()))) + "\n";
        w.write(line);
        bytes += line.getBytes(StandardCharsets.UTF_8).length;
      }
    }
    if (format.equals("parquet")) {
      data =
          Hyparquet.write(
              data, dir.resolve("big.parquet"), "--codec", "UNCOMPRESSED", "--row-group", "8192");
      Files.delete(dir.resolve("big.jsonl"));
    }
    Tokenizer tok =
        BpeTrainer.train(
            docs.subList(0, 300),
            300,
            false,
            new TokenizerSpec(null, 300, false, null).specialTokens());
    Path tokenizer = Files.writeString(dir.resolve("tokenizer.json"), tok.toHuggingFaceJson());
    Path spec =
        Files.writeString(
            dir.resolve("spec.json"),
            "{\"team\":\"t\",\"pipeline\":\"p\",\"stage\":\"pretrain\",\"attempt\":1,"
                + "\"model\":{\"preset\":\"micro\"},"
                + "\"training\":{\"steps\":4,\"batchSize\":4,\"seqLen\":32},"
                + "\"datasets\":[{\"name\":\"big\",\"key\":\"file:"
                + data
                + "\"}],\"tokenizer\":{\"key\":\"file:"
                + tokenizer
                + "\"},\"store\":{\"endpoint\":\"file:"
                + dir.resolve("store")
                + "\",\"bucket\":\"b\"}}");
    Process p =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx" + HEAP_MB + "m",
                "-cp",
                System.getProperty("java.class.path"),
                RunnerMain.class.getName(),
                "--spec",
                spec.toString())
            .directory(dir.toFile())
            .redirectError(dir.resolve("stderr.log").toFile())
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(300, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue())
        .as(
            "%s\n%s",
            out.lines().reduce((a, b) -> b).orElse(""), Files.readString(dir.resolve("stderr.log")))
        .isZero();
    assertThat(out).contains("\"type\":\"finished\"");
    assertThat(Files.size(data)).isGreaterThan(2L * (HEAP_MB << 20) - 1);
  }
}
