package dev.anneal.datafiles;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.anneal.datafiles.ParquetDataset.BadParquet;
import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.parquet.bytes.BytesInput;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Parquet files written by hyparquet-writer read as the JSONL records they were made from. */
class ParquetDatasetTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static final List<String> CHAT =
      List.of(
          "{\"messages\":[{\"role\":\"user\",\"content\":\"What is 2+3?\"},"
              + "{\"role\":\"assistant\",\"content\":\"5\"}]}",
          "{\"messages\":[{\"role\":\"system\",\"content\":\"Be brief. ✓\"},"
              + "{\"role\":\"user\",\"content\":\"Name a prime.\"},"
              + "{\"role\":\"assistant\",\"content\":\"7\"}]}",
          "{\"messages\":[{\"role\":\"user\",\"content\":\"日本語\"},"
              + "{\"role\":\"assistant\",\"content\":\"\"}]}");

  @TempDir Path dir;

  record Row(int group, long row, ObjectNode record) {}

  private static List<Row> read(Path file, String format) throws IOException {
    List<Row> rows = new ArrayList<>();
    try (ParquetDataset pq = ParquetDataset.open(file)) {
      ParquetDataset.Cursor c = pq.rows(format);
      while (c.advance()) rows.add(new Row(c.rowGroup(), c.row(), c.record()));
    }
    return rows;
  }

  private static List<JsonNode> records(List<Row> rows) {
    return rows.stream().map(r -> (JsonNode) r.record()).toList();
  }

  private static List<JsonNode> json(List<String> lines) throws IOException {
    List<JsonNode> out = new ArrayList<>();
    for (String l : lines) out.add(JSON.readTree(l));
    return out;
  }

  @ParameterizedTest
  @ValueSource(strings = {"SNAPPY", "GZIP", "ZSTD", "UNCOMPRESSED"})
  void messagesReadBackUnderEveryCodecRowGroupByRowGroup(String codec) throws IOException {
    Path file = Hyparquet.write(dir, "chat", CHAT, "--codec", codec, "--row-group", "2");
    try (ParquetDataset pq = ParquetDataset.open(file)) {
      assertThat(pq.rowGroups()).isEqualTo(2);
      assertThat(pq.rows()).isEqualTo(3);
    }
    List<Row> rows = read(file, null);
    assertThat(records(rows)).isEqualTo(json(CHAT));
    assertThat(rows).extracting(Row::group).containsExactly(0, 0, 1);
    assertThat(rows).extracting(Row::row).containsExactly(0L, 1L, 0L);
  }

  @Test
  void theListLayoutWithItemReadsTheSame() throws IOException {
    Path file = Hyparquet.write(dir, "chat", CHAT, "--list-item", "item");
    assertThat(records(read(file, "chat"))).isEqualTo(json(CHAT));
  }

  @Test
  void eachFormatReadsOnlyItsColumns() throws IOException {
    List<String> text =
        List.of("{\"id\":\"a\",\"text\":\"one two\"}", "{\"id\":\"b\",\"text\":\"three\"}");
    assertThat(records(read(Hyparquet.write(dir, "text", text), null)))
        .isEqualTo(json(List.of("{\"text\":\"one two\"}", "{\"text\":\"three\"}")));

    List<String> prompts =
        List.of(
            "{\"prompt\":\"2+2=\",\"answer\":\"4\",\"source\":\"x\"}",
            "{\"prompt\":\"3+4=\",\"answer\":\"7\",\"source\":\"y\"}");
    assertThat(records(read(Hyparquet.write(dir, "prompt", prompts), null)))
        .isEqualTo(
            json(
                List.of(
                    "{\"prompt\":\"2+2=\",\"answer\":\"4\"}",
                    "{\"prompt\":\"3+4=\",\"answer\":\"7\"}")));

    List<String> pairs =
        List.of(
            "{\"prompt\":\"Q\",\"chosen\":\"good\",\"rejected\":\"bad\"}",
            "{\"prompt\":\"R\",\"chosen\":\"fine\",\"rejected\":\"worse\"}");
    assertThat(records(read(Hyparquet.write(dir, "pairs", pairs), null))).isEqualTo(json(pairs));

    List<String> conversations =
        List.of(
            "{\"chosen\":[{\"role\":\"user\",\"content\":\"Q\"},{\"role\":\"assistant\",\"content\":\"A\"}],"
                + "\"rejected\":[{\"role\":\"user\",\"content\":\"Q\"},{\"role\":\"assistant\",\"content\":\"B\"}]}");
    assertThat(records(read(Hyparquet.write(dir, "conv", conversations), "preference")))
        .isEqualTo(json(conversations));
  }

  @Test
  void aNullValueIsAnAbsentField() throws IOException {
    List<String> text = List.of("{\"text\":\"one\"}", "{\"id\":\"no text\"}");
    List<Row> rows = read(Hyparquet.write(dir, "text", text), "text");
    assertThat(records(rows)).isEqualTo(json(List.of("{\"text\":\"one\"}", "{}")));
  }

  @Test
  void theFormatComesFromTheColumns() throws IOException {
    assertThat(read(Hyparquet.write(dir, "p", List.of("{\"prompt\":\"x\"}")), null)).hasSize(1);
    try (ParquetDataset pq =
        ParquetDataset.open(Hyparquet.write(dir, "q", List.of("{\"question\":\"x\"}")))) {
      assertThatThrownBy(() -> pq.rows(null))
          .isInstanceOf(BadParquet.class)
          .hasMessageContaining("no known columns [question]");
    }
  }

  @Test
  void aMissingColumnIsNamedWithTheColumnsTheFileHas() throws IOException {
    Path file =
        Hyparquet.write(dir, "t", List.of("{\"id\":\"1\",\"text\":\"a\"}"), "--drop", "text");
    assertThatThrownBy(() -> read(file, "text"))
        .isInstanceOfSatisfying(BadParquet.class, e -> assertThat(e.column).isEqualTo("text"))
        .hasMessage(
            "column 'text' is missing: a text dataset needs 'text'; the file has columns [id]");
  }

  @Test
  void aColumnOfTheWrongTypeIsNamedWithItsType() throws IOException {
    Path file = Hyparquet.write(dir, "t", List.of("{\"text\":\"a\"}"), "--as-int", "text");
    assertThatThrownBy(() -> read(file, "text"))
        .isInstanceOfSatisfying(BadParquet.class, e -> assertThat(e.column).isEqualTo("text"))
        .hasMessage("column 'text' is INT32, expected a string (BYTE_ARRAY annotated STRING)");
    Path chat = Hyparquet.write(dir, "c", List.of("{\"messages\":\"hello\"}"));
    assertThatThrownBy(() -> read(chat, "chat"))
        .isInstanceOf(BadParquet.class)
        .hasMessageContaining(
            "column 'messages' is BYTE_ARRAY (STRING), expected a list of {role, content} strings");
  }

  @Test
  void aFileThatIsNotParquetOrIsCutShortIsRefused() throws IOException {
    Path junk = Files.write(dir.resolve("junk.parquet"), "PAR1 and then some text".getBytes());
    assertThatThrownBy(() -> ParquetDataset.open(junk))
        .isInstanceOf(BadParquet.class)
        .hasMessageStartingWith("not a readable Parquet file (its footer)");
    byte[] whole = Files.readAllBytes(Hyparquet.write(dir, "chat", CHAT));
    Path cut =
        Files.write(dir.resolve("cut.parquet"), java.util.Arrays.copyOf(whole, whole.length - 9));
    assertThatThrownBy(() -> ParquetDataset.open(cut))
        .isInstanceOf(BadParquet.class)
        .hasMessageStartingWith("not a readable Parquet file (its footer)");
  }

  @Test
  void aCorruptPageNamesItsRowGroup() throws IOException {
    List<String> many = new ArrayList<>();
    for (int i = 0; i < 200; i++) many.add("{\"text\":\"document number " + i + " of many\"}");
    Path file = Hyparquet.write(dir, "t", many, "--codec", "SNAPPY", "--row-group", "100");
    byte[] b = Files.readAllBytes(file);
    for (int i = 40; i < 400; i++) b[i] = (byte) 0xff; // the first row group's pages
    Path bad = Files.write(dir.resolve("bad.parquet"), b);
    assertThatThrownBy(() -> read(bad, "text"))
        .isInstanceOfSatisfying(BadParquet.class, e -> assertThat(e.rowGroup).isEqualTo(0))
        .hasMessageStartingWith("row group 0");
  }

  @Test
  void theMagicIsRecognised() throws IOException {
    Path file = Hyparquet.write(dir, "chat", CHAT);
    try (BufferedInputStream in = new BufferedInputStream(Files.newInputStream(file))) {
      assertThat(ParquetDataset.isParquet(in)).isTrue();
      assertThat(in.read()).isEqualTo('P');
    }
    assertThat(
            ParquetDataset.isParquet(
                new BufferedInputStream(new ByteArrayInputStream("{\"text\":1}".getBytes()))))
        .isFalse();
  }

  @Test
  void codecsWithoutAPureJavaReaderAreRefusedByName() {
    var d = new ParquetCodecs().getDecompressor(CompressionCodecName.BROTLI);
    assertThatThrownBy(() -> d.decompress(BytesInput.from(new byte[4]), 8))
        .isInstanceOf(ParquetCodecs.UnsupportedCodec.class)
        .hasMessageContaining("BROTLI, which is not supported");
  }
}
