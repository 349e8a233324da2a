package dev.anneal.runner.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anneal.protocol.DatasetRef;
import dev.anneal.protocol.TokenizerSpec;
import dev.anneal.runner.ckpt.Checksums;
import dev.anneal.runner.ckpt.DirectoryStore;
import dev.anneal.runner.data.JsonlTexts;
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
 * A text dataset streams into a memory-mapped token set: the same tokens as its documents encoded
 * one by one, from a file or the store, its sha256 checked once it has been read, a bad line named,
 * and no token set left on disk.
 */
class TextTokensTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  private static final List<String> DOCS =
      SyntheticCorpus.generate("prose", 3, 600).stream().map(SyntheticCorpus.Doc::text).toList();

  private static final Tokenizer TOK =
      BpeTrainer.train(
          DOCS.subList(0, 100),
          300,
          false,
          new TokenizerSpec(null, 300, false, null).specialTokens());

  private Path jsonl(List<String> docs) throws Exception {
    StringBuilder b = new StringBuilder();
    for (String d : docs) b.append(JSON.writeValueAsString(Map.of("text", d))).append('\n');
    return Files.writeString(dir.resolve("data.jsonl"), b);
  }

  @Test
  void aDatasetStreamsIntoMappedShardsHoldingItsDocumentsTokens() throws Exception {
    Path file = jsonl(DOCS);
    Set<String> before = tokenSetDirs();
    DatasetRef ref =
        new DatasetRef(
            "prose", "file:" + file, Checksums.sha256(Files.readAllBytes(file)), 1.0, null);
    Sampler.Source s = TextTokens.source(ref, new DirectoryStore(dir), 0, TOK);

    List<Integer> expected = new ArrayList<>();
    int eos = TOK.id(TOK.specialTokens().get(0));
    for (String d : DOCS) {
      for (int id : TOK.encode(d)) expected.add(id);
      expected.add(eos);
    }
    assertThat(s.tokens().length()).isEqualTo(expected.size());
    for (int i = 0; i < expected.size(); i++) {
      assertThat(s.tokens().get(i)).as("token %d", i).isEqualTo(expected.get(i));
    }
    // the shards are unlinked once mapped: nothing is left behind
    assertThat(tokenSetDirs()).isEqualTo(before);

    // the same from the store, by key
    Files.createDirectories(dir.resolve("teams/t/datasets/prose/v1"));
    Files.copy(file, dir.resolve("teams/t/datasets/prose/v1/data.jsonl"));
    Sampler.Source fromStore =
        TextTokens.source(
            new DatasetRef("prose", "teams/t/datasets/prose/v1/data.jsonl", null, 1.0, null),
            new DirectoryStore(dir),
            0,
            TOK);
    assertThat(fromStore.tokens().length()).isEqualTo(expected.size());
    assertThat(fromStore.tokens().get(expected.size() - 2))
        .isEqualTo(expected.get(expected.size() - 2));
  }

  @Test
  void aChangedOrBrokenDatasetIsRefusedSayingWhereAndNothingIsLeft() throws Exception {
    Path file = jsonl(DOCS);
    Set<String> before = tokenSetDirs();
    DatasetRef changed = new DatasetRef("prose", "file:" + file, "0".repeat(64), 1.0, null);
    assertThatThrownBy(() -> TextTokens.source(changed, new DirectoryStore(dir), 0, TOK))
        .isInstanceOf(TrainingInputs.MissingInputException.class)
        .hasMessageContaining("dataset 'prose': sha256 is ")
        .hasMessageContaining("but the spec expects " + "0".repeat(64));

    Files.writeString(file, "{\"text\": \"a\"}\n\n{\"text\": \"b\"}\n{\"text\": oops}\n");
    DatasetRef broken = new DatasetRef("prose", "file:" + file, null, 1.0, null);
    assertThatThrownBy(() -> TextTokens.source(broken, new DirectoryStore(dir), 0, TOK))
        .isInstanceOf(JsonlTexts.DataException.class)
        .hasMessageStartingWith("dataset 'prose' line 4: not valid JSON");

    DatasetRef missing =
        new DatasetRef("prose", "teams/t/datasets/none/v1/data.jsonl", null, 1.0, null);
    assertThatThrownBy(() -> TextTokens.source(missing, new DirectoryStore(dir), 0, TOK))
        .isInstanceOf(TrainingInputs.MissingInputException.class)
        .hasMessageContaining("does not exist");
    assertThat(tokenSetDirs()).isEqualTo(before);
  }

  @Test
  void aTokenizerTrainedOnTheDataLearnsFromItsFirstCharactersOnly() throws Exception {
    Path file = jsonl(DOCS);
    DatasetRef ref = new DatasetRef("prose", "file:" + file, null, 1.0, null);
    List<String> sample = Datasets.sample(ref, new DirectoryStore(dir), 0, 1000);
    int chars = 0;
    for (String s : sample.subList(0, sample.size() - 1)) chars += s.length();
    assertThat(chars).isLessThan(1000);
    assertThat(chars + sample.get(sample.size() - 1).length()).isGreaterThanOrEqualTo(1000);
    assertThat(sample).isEqualTo(DOCS.subList(0, sample.size()));
  }

  private static Set<String> tokenSetDirs() throws Exception {
    try (var s = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
      return s.map(p -> p.getFileName().toString())
          .filter(n -> n.startsWith("anneal-tokens-"))
          .collect(Collectors.toSet());
    }
  }
}
