package dev.anneal.platform.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.anneal.platform.api.auth.ApiTokens;
import dev.anneal.platform.api.datasets.JsonlCheck;
import dev.anneal.platform.api.pipelines.Cursor;
import dev.anneal.platform.api.pipelines.Downsample;
import dev.anneal.platform.api.pipelines.SpecEdits;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The API's pure parts: tokens, page tokens, spec edits, downsampling, the JSONL check. */
class ApiPartsTest {

  @Test
  void tokensArePrefixedCheckedAndUnique() {
    ApiTokens tokens = new ApiTokens(null);
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < 200; i++) {
      String t = tokens.generate();
      assertThat(t).startsWith("anl_").hasSize(42).matches("anl_[0-9A-Za-z]{38}");
      assertThat(ApiTokens.wellFormed(t)).isTrue();
      assertThat(seen.add(t)).isTrue();
      // one changed character breaks the check, so a typo is caught without a database
      char c = t.charAt(10) == 'a' ? 'b' : 'a';
      assertThat(ApiTokens.wellFormed(t.substring(0, 10) + c + t.substring(11))).isFalse();
    }
    assertThat(ApiTokens.wellFormed(null)).isFalse();
    assertThat(ApiTokens.wellFormed("anl_short")).isFalse();
    String t = tokens.generate();
    assertThat(ApiTokens.hash(t)).hasSize(64).doesNotContain(t.substring(4));
    assertThat(ApiTokens.displayPrefix(t)).isEqualTo(t.substring(0, 12));
  }

  @Test
  void pageTokensRoundTripAndRejectForgeries() {
    Cursor c = new Cursor(Instant.parse("2026-11-30T10:00:00.123456Z"), UUID.randomUUID());
    assertThat(Cursor.decode(c.encode())).isEqualTo(c);
    assertThatThrownBy(() -> Cursor.decode("not-a-token"))
        .isInstanceOf(ApiException.class)
        .hasMessageContaining("pageToken");
  }

  @Test
  void specEditsSetFieldsByPathAndNameTheBadOnes() throws Exception {
    ObjectNode spec =
        (ObjectNode)
            new ObjectMapper()
                .readTree(
                    "{\"metadata\":{\"name\":\"a\"},\"stages\":[{\"kind\":\"pretrain\","
                        + "\"hyperparameters\":{\"lr\":0.001}},{\"kind\":\"sft\"}]}");
    Map<String, com.fasterxml.jackson.databind.JsonNode> edits = new LinkedHashMap<>();
    edits.put("metadata.name", TextNode.valueOf("b"));
    edits.put("stages[0].hyperparameters.lr", IntNode.valueOf(2));
    edits.put("stages[1].hyperparameters.steps", IntNode.valueOf(7));
    SpecEdits.apply(spec, edits);
    assertThat(spec.at("/metadata/name").asText()).isEqualTo("b");
    assertThat(spec.at("/stages/0/hyperparameters/lr").asInt()).isEqualTo(2);
    assertThat(spec.at("/stages/1/hyperparameters/steps").asInt()).isEqualTo(7);
    assertThatThrownBy(() -> SpecEdits.apply(spec, Map.of("stages[5].kind", TextNode.valueOf("x"))))
        .isInstanceOf(ApiException.class)
        .hasMessageContaining("set.stages[5].kind: index 5 is outside the list of 2");
    assertThatThrownBy(
            () -> SpecEdits.apply(spec, Map.of("metadata.name.x", TextNode.valueOf("x"))))
        .hasMessageContaining("not inside an object");
  }

  @Test
  void downsamplingKeepsEverySeriesWithinItsBudget() {
    assertThat(Downsample.width(List.of(new Downsample.Range(1, 0, 99, 100)), 1500)).isEqualTo(1);
    for (int points : new int[] {1501, 10_000, 1_000_000}) {
      for (int attempts = 1; attempts <= 4; attempts++) {
        List<Downsample.Range> ranges = new java.util.ArrayList<>();
        long per = points / attempts;
        for (int a = 1; a <= attempts; a++) {
          long lo = (a - 1) * per / 2; // rollbacks replay earlier steps
          ranges.add(new Downsample.Range(a, lo, lo + per - 1, per));
        }
        long w = Downsample.width(ranges, 1500);
        long buckets = 0;
        for (Downsample.Range r : ranges) buckets += (r.hi() - r.lo()) / w + 1;
        assertThat(buckets)
            .as("%d points in %d attempts", points, attempts)
            .isLessThanOrEqualTo(1500);
        assertThat(buckets).isGreaterThan(1500 / 3);
      }
    }
  }

  @Test
  void rollupReadsStayWithinTheBudgetInWholeRollupBuckets() {
    for (int points : new int[] {20_000, 100_000, 1_000_000}) {
      for (int attempts = 1; attempts <= 3; attempts++) {
        List<Downsample.Range> ranges = new java.util.ArrayList<>();
        long per = points / attempts;
        for (int a = 1; a <= attempts; a++) {
          long lo = (a - 1) * per / 3 + 17; // not aligned to the rollup buckets
          ranges.add(new Downsample.Range(a, lo, lo + per - 1, per));
        }
        for (int max : new int[] {100, 1500}) {
          long w = Downsample.rollupWidth(ranges, max, 64);
          assertThat(w % 64).isZero();
          long buckets = 0;
          for (Downsample.Range r : ranges) {
            buckets += (r.hi() / 64 - r.lo() / 64) / (w / 64) + 1;
          }
          assertThat(buckets)
              .as("%d points, %d attempts, %d max", points, attempts, max)
              .isLessThanOrEqualTo(max);
        }
      }
    }
  }

  private static JsonlCheck.Result check(String text, String format) throws Exception {
    return JsonlCheck.copy(
        new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)),
        new ByteArrayOutputStream(),
        format);
  }

  @Test
  void jsonlIsCheckedLineByLine() throws Exception {
    JsonlCheck.Result r = check("{\"text\":\"a\"}\n\n{\"text\":\"b\"}\r\n{\"text\":\"c\"}", null);
    assertThat(r.format()).isEqualTo("text");
    assertThat(r.records()).isEqualTo(3);
    assertThat(r.sha256()).hasSize(64);
    assertThat(check("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}\n", null).format())
        .isEqualTo("chat");
    assertThat(check("{\"prompt\":\"p\",\"chosen\":\"a\",\"rejected\":\"b\"}\n", null).format())
        .isEqualTo("preference");
    String user = "{\"role\":\"user\",\"content\":\"p\"}";
    String reply = "{\"role\":\"assistant\",\"content\":\"a\"}";
    assertThat(
            check(
                    "{\"prompt\":["
                        + user
                        + "],\"chosen\":["
                        + reply
                        + "],\"rejected\":\"b\"}\n"
                        + "{\"chosen\":["
                        + user
                        + ","
                        + reply
                        + "],\"rejected\":["
                        + user
                        + ","
                        + reply
                        + "]}\n",
                    null)
                .format())
        .isEqualTo("preference");
    assertThatThrownBy(() -> check("{\"chosen\":\"a\",\"rejected\":\"b\"}\n", null))
        .hasMessageContaining("line 1: a preference record needs 'prompt'");
    assertThatThrownBy(
            () -> check("{\"prompt\":\"p\",\"chosen\":[{\"role\":1}],\"rejected\":\"b\"}\n", null))
        .hasMessageContaining("line 1: chosen[0] needs text 'role' and 'content'");
    assertThatThrownBy(() -> check("{\"chosen\":[" + user + "],\"rejected\":[" + user + "]}", null))
        .hasMessageContaining("line 1: 'chosen' must end with an assistant message");
    assertThat(check("{\"prompt\":\"p\",\"answer\":\"4\"}\n", null).format()).isEqualTo("prompt");

    assertThatThrownBy(() -> check("{\"text\":\"a\"}\n{\"text\": oops}\n", null))
        .isInstanceOfSatisfying(JsonlCheck.BadLine.class, e -> assertThat(e.line).isEqualTo(2))
        .hasMessageStartingWith("line 2: not JSON");
    assertThatThrownBy(() -> check("{\"text\":\"a\"}\n[1,2]\n", null))
        .hasMessage("line 2: each line must be a JSON object, got array");
    assertThatThrownBy(() -> check("{\"text\":\"a\"}\n{\"prompt\":\"p\"}\n", null))
        .hasMessageContaining("line 2: a prompt record with keys [prompt] in a text dataset");
    assertThatThrownBy(() -> check("{\"foo\":1}\n", null))
        .hasMessageContaining("line 1: no known record shape with keys [foo]");
    assertThatThrownBy(() -> check("", null)).hasMessageContaining("no records");
    assertThatThrownBy(() -> check("{\"text\":\"a\"}\n", "csv"))
        .hasMessageContaining("format must be");
    byte[] latin1 = "{\"text\":\"caf\u00e9\"}\n".getBytes(StandardCharsets.ISO_8859_1);
    assertThatThrownBy(
            () ->
                JsonlCheck.copy(
                    new ByteArrayInputStream(latin1), new ByteArrayOutputStream(), null))
        .hasMessage("line 1: not UTF-8 text");
  }

  @Test
  void commandEnginesAreTheOperatorsChoiceAndComeFromTheImagesItAllows() {
    String base =
        ApiTestSupport.pretrainSpec("v", "synthetic:prose", 10)
            .replace(
                "    data: [{dataset: prose}]",
                "    engine: {kind: command, command: [python3, train.py]IMAGE}\n"
                    + "    data: [{dataset: prose}]");
    var none = dev.anneal.workflows.api.spec.PipelineSpecs.parse(base.replace("IMAGE", ""));
    var ours =
        dev.anneal.workflows.api.spec.PipelineSpecs.parse(
            base.replace("IMAGE", ", image: registry.example.com/research/train:3"));
    var theirs =
        dev.anneal.workflows.api.spec.PipelineSpecs.parse(
            base.replace("IMAGE", ", image: docker.io/someone/miner:1"));
    assertThatThrownBy(
            () ->
                new dev.anneal.platform.api.pipelines.CommandEngines(false, List.of()).check(ours))
        .hasMessageContaining("stages[0].engine.kind: command engines are off on this platform");
    new dev.anneal.platform.api.pipelines.CommandEngines(true, List.of()).check(none);
    var allowed =
        new dev.anneal.platform.api.pipelines.CommandEngines(
            true, List.of("registry.example.com/research/"));
    allowed.check(ours);
    assertThatThrownBy(() -> allowed.check(theirs))
        .hasMessageContaining(
            "stages[0].engine.image: this platform runs command engines only from the images its"
                + " operator allows (registry.example.com/research/…), got docker.io/someone/miner:1");
    assertThatThrownBy(() -> allowed.check(none)).hasMessageEndingWith("got none");
  }
}
