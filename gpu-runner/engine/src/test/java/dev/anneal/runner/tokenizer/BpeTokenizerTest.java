package dev.anneal.runner.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.anneal.runner.data.SyntheticCorpus;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BpeTokenizerTest {

  private static final List<String> SPECIALS = List.of("<|endoftext|>", "<|user|>");
  private static List<String> corpus;
  private static BpeTokenizer tokenizer;

  @BeforeAll
  static void train() {
    corpus =
        new ArrayList<>(
            SyntheticCorpus.generate(7, 400).stream().map(SyntheticCorpus.Doc::text).toList());
    corpus.add("Ünïcödé façade — naïve café, 東京 and emoji 🙂 with  double  spaces\tand tabs\n\n");
    corpus.add("<|user|> what is 3 + 4? <|endoftext|>");
    tokenizer = BpeTrainer.train(corpus, 600, false, SPECIALS);
  }

  @Test
  void reachesTheRequestedVocabularyAndCompresses() {
    // training stops early only when no pair occurs twice any more
    assertThat(tokenizer.vocabSize()).isBetween(450, 600);
    assertThat(tokenizer.merges()).hasSize(tokenizer.vocabSize() - 258);
    String text = corpus.get(1); // prose: long words merge well
    assertThat(tokenizer.encode(text).length).isLessThan(text.getBytes().length / 2);
  }

  @Test
  void roundTripsAnyText() {
    for (String text : corpus) {
      assertThat(tokenizer.decode(tokenizer.encode(text))).isEqualTo(text);
    }
    String unseen = "Zebras & quokkas: ∑ x² — ☃ never seen before!";
    assertThat(tokenizer.decode(tokenizer.encode(unseen))).isEqualTo(unseen);
  }

  @Test
  void specialTokensAreSingleIds() {
    int[] ids = tokenizer.encode("<|user|>hi<|endoftext|>");
    assertThat(ids[0]).isEqualTo(tokenizer.id("<|user|>")).isEqualTo(1);
    assertThat(ids[ids.length - 1]).isEqualTo(tokenizer.id("<|endoftext|>")).isZero();
  }

  @Test
  void huggingFaceTokenizersLoadsTheFileAndEncodesIdentically(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("tokenizer.json");
    tokenizer.save(file);
    try (HuggingFaceTokenizer hf = HuggingFaceTokenizer.newInstance(file)) {
      for (String text : corpus) {
        Encoding e = hf.encode(text, false, false);
        long[] theirs = e.getIds();
        int[] ours = tokenizer.encode(text);
        assertThat(theirs)
            .as(text)
            .containsExactly(java.util.Arrays.stream(ours).asLongStream().toArray());
        assertThat(hf.decode(theirs, false)).isEqualTo(text);
      }
    }
  }

  @Test
  void nfkcNormalisesCompatibilityCharacters(@TempDir Path dir) throws Exception {
    BpeTokenizer nfkc = BpeTrainer.train(corpus, 400, true, SPECIALS);
    assertThat(nfkc.decode(nfkc.encode("ﬁne ①"))).isEqualTo("fine 1");
    Path file = dir.resolve("tokenizer.json");
    nfkc.save(file);
    try (HuggingFaceTokenizer hf = HuggingFaceTokenizer.newInstance(file)) {
      String text = "ﬁne ① Ｆｕｌｌｗｉｄｔｈ";
      assertThat(hf.encode(text, false, false).getIds())
          .containsExactly(java.util.Arrays.stream(nfkc.encode(text)).asLongStream().toArray());
    }
    assertThat(BpeTokenizer.fromHuggingFaceJson(nfkc.toHuggingFaceJson()).encode("ﬁne ①"))
        .containsExactly(nfkc.encode("ﬁne ①"));
  }

  @Test
  void tooSmallAVocabularyIsRefused() {
    assertThatThrownBy(() -> BpeTrainer.train(corpus, 100, false, SPECIALS))
        .hasMessageContaining("vocabSize: must be at least 258");
  }
}
