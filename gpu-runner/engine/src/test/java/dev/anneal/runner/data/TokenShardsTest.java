package dev.anneal.runner.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Token sets: written with the manifest last, read memory-mapped, refused when broken. */
class TokenShardsTest {

  @TempDir Path dir;

  @Test
  void documentsComeBackSeparatedByEndOfTextAcrossShards() throws Exception {
    var m =
        TokenShards.write(
            dir,
            List.of(new int[] {1, 2, 3}, new int[] {4, 5}),
            10,
            0,
            2,
            Map.of("tokenizerSha256", "ab"));
    assertThat(m.get("dtype").asText()).isEqualTo("uint16");
    assertThat(m.get("shards")).hasSize(4);
    assertThat(m.get("tokenizerSha256").asText()).isEqualTo("ab");
    TokenShards t = TokenShards.open(dir);
    assertThat(t.tokens()).isEqualTo(7);
    assertThat(t.window(0, 7)).containsExactly(1, 2, 3, 0, 4, 5, 0);
    assertThat(t.window(3, 3)).containsExactly(0, 4, 5);
    assertThat(Files.size(dir.resolve("tokens-00000.bin"))).isEqualTo(4);
  }

  @Test
  void aVocabularyOverSixtyFiveThousandIdsTakesFourBytesAnId() throws Exception {
    TokenShards.write(
        dir, List.of(new int[] {70_000, 65_535, 1}), 151_936, 151_643, 1 << 20, Map.of());
    TokenShards t = TokenShards.open(dir);
    assertThat(t.manifest().get("dtype").asText()).isEqualTo("uint32");
    assertThat(t.window(0, 4)).containsExactly(70_000, 65_535, 1, 151_643);
  }

  @Test
  void brokenTokenSetsSayWhatIsWrong() throws Exception {
    assertThatThrownBy(() -> TokenShards.open(dir)).hasMessageContaining("no manifest.json");
    TokenShards.write(dir, List.of(new int[] {1, 2, 3}), 10, 0, 100, Map.of());
    Files.write(dir.resolve("tokens-00000.bin"), new byte[] {9, 0, 2, 0, 3, 0, 0, 0});
    assertThatThrownBy(() -> TokenShards.open(dir)).hasMessageContaining("sha256 differs");
    Files.write(dir.resolve("tokens-00000.bin"), new byte[] {9, 0});
    assertThatThrownBy(() -> TokenShards.open(dir))
        .hasMessageContaining("1 tokens, the manifest says 4");
    assertThatThrownBy(() -> TokenShards.write(dir, List.of(new int[] {12}), 10, 0, 100, Map.of()))
        .hasMessageContaining("token id 12 is outside the vocabulary of 10");
  }

  @Test
  void aShardFitsOneMappedBuffer() {
    assertThatThrownBy(
            () -> TokenShards.write(dir, List.of(new int[] {1}), 10, 0, 1L << 31, Map.of()))
        .hasMessageContaining("shardTokens: between 1 and 1073741823");
  }
}
