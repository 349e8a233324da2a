package dev.anneal.torch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.anneal.protocol.TokenizerSpec;
import dev.anneal.runner.data.SyntheticCorpus;
import dev.anneal.runner.data.TokenShards;
import dev.anneal.runner.tokenizer.BpeTokenizer;
import dev.anneal.runner.tokenizer.BpeTrainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One token set format for both engines: what the Java side writes from a tokenized corpus the
 * reference engine reads token for token, and the other way round.
 */
class TokenSetsAcrossEnginesTest {

  @TempDir Path dir;

  @Test
  void aTokenSetTheJavaSideWroteReadsTheSameInTheReferenceEngine() throws Exception {
    Python.assumeTorch();
    List<String> texts =
        SyntheticCorpus.generate("prose", 3, 60).stream().map(SyntheticCorpus.Doc::text).toList();
    BpeTokenizer tok = BpeTrainer.train(texts, 300, false, TokenizerSpec.DEFAULT_SPECIALS);
    List<int[]> docs = new ArrayList<>();
    for (String t : texts) docs.add(tok.encode(t));
    Path set = dir.resolve("tokens");
    int eos = tok.id(tok.specialTokens().get(0));
    // small shards, so windows cross their boundaries
    TokenShards.write(set, docs, tok.vocabSize(), eos, 500, Map.of());
    TokenShards written = TokenShards.open(set);
    assertThat(written.manifest().get("shards").size()).isGreaterThan(2);
    for (long offset : new long[] {0, 497, written.tokens() - 40}) {
      Python.Result r =
          Python.run(
              60, "-m", "anneal_torch.data", "window", set.toString(), Long.toString(offset), "40");
      assertThat(r.code()).as(r.output()).isZero();
      assertThat(r.output().trim().replace(" ", ""))
          .isEqualTo(Arrays.toString(written.window(offset, 40)).replace(" ", ""));
    }
  }

  @Test
  void aTokenSetTheReferenceEngineWroteReadsTheSameInJava() throws Exception {
    Python.assumeTorch();
    Path docs = Files.writeString(dir.resolve("docs.json"), "[[1,2,3],[70000,5],[65535]]");
    Path set = dir.resolve("tokens");
    Python.Result r =
        Python.run(
            60,
            "-m",
            "anneal_torch.data",
            "write",
            set.toString(),
            docs.toString(),
            "151936",
            "0",
            "3");
    assertThat(r.code()).as(r.output()).isZero();
    TokenShards t = TokenShards.open(set);
    assertThat(t.manifest().get("dtype").asText()).isEqualTo("uint32");
    assertThat(t.window(0, (int) t.tokens())).containsExactly(1, 2, 3, 0, 70000, 5, 0, 65535, 0);
  }
}
