package dev.anneal.runner.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.anneal.protocol.CurriculumPhase;
import dev.anneal.protocol.StabilityConfig.BatchWindow;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class SamplerTest {

  private static Sampler.Source source(String name, int base) {
    return new Sampler.Source(name, IntStream.range(0, 5000).map(i -> base + i % 100).toArray());
  }

  private static Sampler sampler(List<CurriculumPhase> phases) {
    Map<String, Double> w = new LinkedHashMap<>();
    w.put("a", 3.0);
    w.put("b", 1.0);
    return new Sampler(List.of(source("a", 0), source("b", 1000)), new Curriculum(w, phases), 42);
  }

  @Test
  void aBatchIsAPureFunctionOfSeedAndIndex() {
    Sampler s = sampler(List.of());
    assertThat(s.batch(7, 7, 16, 32).tokens())
        .containsExactly(sampler(List.of()).batch(7, 7, 16, 32).tokens());
    assertThat(s.batch(7, 7, 16, 32).tokens()).isNotEqualTo(s.batch(8, 8, 16, 32).tokens());
  }

  @Test
  void mixtureWeightsShowInTheDraws() {
    Sampler s = sampler(List.of());
    long fromA = 0;
    int rows = 0;
    for (int i = 0; i < 200; i++) {
      for (int src : s.batch(i, i, 16, 8).sourceOfRow()) {
        if (src == 0) fromA++;
        rows++;
      }
    }
    assertThat((double) fromA / rows).isBetween(0.70, 0.80);
  }

  @Test
  void aCurriculumChangesTheWeightsByStep() {
    Sampler s = sampler(List.of(new CurriculumPhase(100L, Map.of("b", 1.0))));
    assertThat(s.batch(99, 99, 64, 8).sourceOfRow()).contains(0);
    assertThat(s.batch(100, 100, 64, 8).sourceOfRow()).containsOnly(1);
  }

  @Test
  void aCurriculumNamingAnUnknownDatasetIsRefused() {
    assertThatThrownBy(() -> sampler(List.of(new CurriculumPhase(10L, Map.of("c", 1.0)))))
        .hasMessageContaining("names dataset 'c'");
  }

  @Test
  void skipWindowsReplaceBatchesWithLaterData() {
    List<BatchWindow> w = List.of(new BatchWindow(90L, 300L));
    assertThat(Sampler.dataBatchIndex(89, w)).isEqualTo(89);
    assertThat(Sampler.dataBatchIndex(90, w)).isEqualTo(300);
    assertThat(Sampler.dataBatchIndex(91, w)).isEqualTo(301);
    // overlapping and nested windows count once
    List<BatchWindow> many =
        List.of(new BatchWindow(10L, 20L), new BatchWindow(15L, 30L), new BatchWindow(40L, 41L));
    assertThat(Sampler.dataBatchIndex(9, many)).isEqualTo(9);
    assertThat(Sampler.dataBatchIndex(10, many)).isEqualTo(30);
    assertThat(Sampler.dataBatchIndex(19, many)).isEqualTo(39);
    assertThat(Sampler.dataBatchIndex(20, many)).isEqualTo(41);
    assertThat(Sampler.dataBatchIndex(5, List.of())).isEqualTo(5);
  }

  @Test
  void theSyntheticCorpusIsDeterministicAndVaried() {
    assertThat(SyntheticCorpus.generate(1, 40)).isEqualTo(SyntheticCorpus.generate(1, 40));
    assertThat(SyntheticCorpus.generate(1, 40)).isNotEqualTo(SyntheticCorpus.generate(2, 40));
    assertThat(SyntheticCorpus.generate(1, 8))
        .extracting(SyntheticCorpus.Doc::source)
        .containsExactly(
            "arithmetic", "prose", "code", "dialogue", "arithmetic", "prose", "code", "dialogue");
    String prose = SyntheticCorpus.generate("prose", 3, 1).get(0).text();
    String subject = prose.substring(0, prose.indexOf(' '));
    assertThat(prose).contains("Later someone asks what " + subject);
  }

  @Test
  void badJsonlNamesTheLine() {
    assertThatThrownBy(() -> JsonlTexts.parse("dataset 'x'", "{\"text\":\"a\"}\n{\"txt\":\"b\"}\n"))
        .hasMessage("dataset 'x' line 2: expected an object with a string field \"text\"");
    assertThatThrownBy(() -> JsonlTexts.parse("dataset 'x'", "{\"text\":\"a\"}\n\n{oops\n"))
        .hasMessageStartingWith("dataset 'x' line 3: not valid JSON");
  }
}
