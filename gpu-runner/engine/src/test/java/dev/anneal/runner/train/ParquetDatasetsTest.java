package dev.anneal.runner.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anneal.datafiles.Hyparquet;
import dev.anneal.protocol.DatasetRef;
import dev.anneal.protocol.TokenizerSpec;
import dev.anneal.runner.ckpt.Checksums;
import dev.anneal.runner.ckpt.DirectoryStore;
import dev.anneal.runner.data.ChatData;
import dev.anneal.runner.data.JsonlTexts;
import dev.anneal.runner.data.PreferenceData;
import dev.anneal.runner.data.PromptData;
import dev.anneal.runner.data.Sampler;
import dev.anneal.runner.data.SyntheticCorpus;
import dev.anneal.runner.tokenizer.BpeTrainer;
import dev.anneal.runner.tokenizer.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Parquet datasets, written by an independent writer (npm's hyparquet-writer), train a stage as the
 * JSONL they were made from does: the same tokens, dialogues, pairs and prompts, from a file or the
 * store, their sha256 checked, errors naming the column or the row, nothing left on disk.
 */
class ParquetDatasetsTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  private static final List<String> DOCS =
      SyntheticCorpus.generate("prose", 5, 300).stream().map(SyntheticCorpus.Doc::text).toList();

  private static final Tokenizer TOK =
      BpeTrainer.train(
          DOCS.subList(0, 60),
          300,
          false,
          new TokenizerSpec(null, 300, false, null).specialTokens());

  /** {@code lines} as JSONL in the store, and as Parquet beside it; returns the Parquet's key. */
  private String stored(String name, List<String> lines, String... options) throws Exception {
    Path parquet = Hyparquet.write(dir, name, lines, options);
    String key = "teams/t/datasets/" + name + "/v1/data.parquet";
    Files.createDirectories(dir.resolve(key).getParent());
    Files.copy(parquet, dir.resolve(key));
    return key;
  }

  private DatasetRef ref(String name, String key) throws Exception {
    return new DatasetRef(
        name, key, Checksums.sha256(Files.readAllBytes(dir.resolve(key))), 1.0, null);
  }

  private static String jsonl(List<String> lines) {
    return String.join("\n", lines) + "\n";
  }

  @Test
  void aTextDatasetGivesTheTokensItsJsonlGives() throws Exception {
    List<String> lines = new ArrayList<>();
    for (String d : DOCS) lines.add(JSON.writeValueAsString(Map.of("text", d, "id", "x")));
    String key = stored("prose", lines, "--row-group", "64", "--codec", "ZSTD");
    Set<String> before = spooled();
    DirectoryStore store = new DirectoryStore(dir);
    Sampler.Source fromParquet = TextTokens.source(ref("prose", key), store, 0, TOK);
    Path jsonl = Files.writeString(dir.resolve("prose.jsonl"), jsonl(lines));
    Sampler.Source fromJsonl =
        TextTokens.source(new DatasetRef("prose", "file:" + jsonl, null, 1.0, null), store, 0, TOK);
    assertThat(fromParquet.tokens().length()).isEqualTo(fromJsonl.tokens().length()).isPositive();
    for (long i = 0; i < fromJsonl.tokens().length(); i++) {
      assertThat(fromParquet.tokens().get(i))
          .as("token %d", i)
          .isEqualTo(fromJsonl.tokens().get(i));
    }
    // a file: path is read in place
    Sampler.Source fromFile =
        TextTokens.source(
            new DatasetRef("prose", "file:" + dir.resolve("prose.parquet"), null, 1.0, null),
            store,
            0,
            TOK);
    assertThat(fromFile.tokens().length()).isEqualTo(fromJsonl.tokens().length());
    assertThat(spooled()).isEqualTo(before);
  }

  @Test
  void chatPreferenceAndPromptDatasetsReadAsTheirJsonl() throws Exception {
    DirectoryStore store = new DirectoryStore(dir);
    List<String> chats =
        SyntheticCorpus.chat(3, 40).stream().map(d -> json(Map.of("messages", d))).toList();
    assertThat(Datasets.chat(ref("chat", stored("chat", chats, "--codec", "GZIP")), store, 0))
        .isEqualTo(ChatData.parse("chats", jsonl(chats)))
        .hasSize(40);

    List<String> pairs =
        List.of(
            "{\"prompt\":\"2+2?\",\"chosen\":\"4\",\"rejected\":\"5\"}",
            "{\"prompt\":\"3+3?\",\"chosen\":\"6\",\"rejected\":\"7\"}");
    assertThat(Datasets.preferences(ref("pairs", stored("pairs", pairs)), store))
        .isEqualTo(PreferenceData.parse("pairs", jsonl(pairs)));
    List<String> conversations =
        List.of(
            "{\"chosen\":[{\"role\":\"user\",\"content\":\"q\"},{\"role\":\"assistant\",\"content\":\"good\"}],"
                + "\"rejected\":[{\"role\":\"user\",\"content\":\"q\"},{\"role\":\"assistant\",\"content\":\"bad\"}]}");
    assertThat(
            Datasets.preferences(
                ref("conv", stored("conv", conversations, "--list-item", "item")), store))
        .isEqualTo(PreferenceData.parse("conv", jsonl(conversations)))
        .containsExactly(new PreferenceData.Preference("q", "good", "bad"));

    List<String> prompts =
        List.of(
            "{\"prompt\":\"12+30=\",\"answer\":\"42\"}", "{\"prompt\":\"1+1=\",\"answer\":\"2\"}");
    assertThat(Datasets.prompts(ref("prompts", stored("prompts", prompts)), store))
        .isEqualTo(PromptData.parse("prompts", jsonl(prompts)));
  }

  @Test
  void badParquetIsRefusedNamingTheColumnOrTheRowAndNothingIsLeft() throws Exception {
    DirectoryStore store = new DirectoryStore(dir);
    Set<String> before = spooled();
    String noMessages = stored("nomsg", List.of("{\"text\":\"hello\"}"));
    assertThatThrownBy(() -> Datasets.chat(ref("nomsg", noMessages), store, 0))
        .isInstanceOf(JsonlTexts.DataException.class)
        .hasMessage(
            "dataset 'nomsg': column 'messages' is missing: a chat dataset needs 'messages'; the"
                + " file has columns [text]");

    String nullRow =
        stored(
            "gap",
            List.of(
                "{\"messages\":[{\"role\":\"user\",\"content\":\"q\"},{\"role\":\"assistant\",\"content\":\"a\"}]}",
                "{\"id\":\"no messages here\"}"));
    assertThatThrownBy(() -> Datasets.chat(ref("gap", nullRow), store, 0))
        .isInstanceOf(JsonlTexts.DataException.class)
        .hasMessageStartingWith("dataset 'gap' row group 0 row 1: expected a \"messages\" array");

    String ints = stored("ints", List.of("{\"text\":\"a\"}"), "--as-int", "text");
    assertThatThrownBy(() -> TextTokens.source(ref("ints", ints), store, 0, TOK))
        .isInstanceOf(JsonlTexts.DataException.class)
        .hasMessage(
            "dataset 'ints': column 'text' is INT32, expected a string (BYTE_ARRAY annotated"
                + " STRING)");

    String cut = stored("cut", List.of("{\"text\":\"a\"}"));
    byte[] whole = Files.readAllBytes(dir.resolve(cut));
    Files.write(dir.resolve(cut), java.util.Arrays.copyOf(whole, whole.length - 6));
    assertThatThrownBy(
            () -> TextTokens.source(new DatasetRef("cut", cut, null, 1.0, null), store, 0, TOK))
        .isInstanceOf(JsonlTexts.DataException.class)
        .hasMessageStartingWith("dataset 'cut': not a readable Parquet file (its footer)");

    String changed = stored("changed", List.of("{\"text\":\"a\"}"));
    DatasetRef wrongSha = new DatasetRef("changed", changed, "0".repeat(64), 1.0, null);
    assertThatThrownBy(() -> TextTokens.source(wrongSha, store, 0, TOK))
        .isInstanceOf(TrainingInputs.MissingInputException.class)
        .hasMessageContaining("dataset 'changed': sha256 is ");
    assertThat(spooled()).isEqualTo(before);
  }

  private static String json(Object o) {
    try {
      return JSON.writeValueAsString(o);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** The Parquet files spooled from the store and token sets in java.io.tmpdir. */
  private static Set<String> spooled() throws Exception {
    try (var s = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
      return s.map(p -> p.getFileName().toString())
          .filter(n -> n.startsWith("anneal-dataset-") || n.startsWith("anneal-tokens-"))
          .collect(Collectors.toSet());
    }
  }
}
