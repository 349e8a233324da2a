package dev.anneal.runner.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.anneal.protocol.TokenizerSpec;
import dev.anneal.runner.data.SyntheticCorpus;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The incremental trainer learns exactly the merges of the definition ({@link BpeReference}:
 * recount every pair of every word, take the most frequent, ties to the smaller pair text, merge it
 * left to right, repeat).
 */
class BpeTrainerTest {

  @Test
  void incrementalMergesEqualTheDefinitionsOnACorpus() {
    List<String> texts = new ArrayList<>();
    for (SyntheticCorpus.Doc d : SyntheticCorpus.generate(7, 600)) texts.add(d.text());
    texts.add("aaaaaaa aaaa abababab bababa — naïve café 東京 東京タワー 🚀🚀🚀");
    for (boolean nfkc : new boolean[] {false, true}) {
      BpeTokenizer fast = BpeTrainer.train(texts, 900, nfkc, TokenizerSpec.DEFAULT_SPECIALS);
      List<String[]> slow = BpeReference.merges(texts, 900, nfkc, TokenizerSpec.DEFAULT_SPECIALS);
      assertThat(fast.merges()).hasSameSizeAs(slow);
      for (int i = 0; i < slow.size(); i++) {
        assertThat(fast.merges().get(i)).as("merge %d", i).containsExactly(slow.get(i));
      }
      // the synthetic corpus runs out of repeated pairs before 900: every merge it has is compared
      assertThat(slow).hasSizeGreaterThan(250);
    }
  }

  @Test
  void trainingStopsWhenNoPairRepeats() {
    BpeTokenizer t = BpeTrainer.train(List.of("abc"), 2000, false, List.of("<|endoftext|>"));
    assertThat(t.merges()).isEmpty();
    assertThat(t.vocabSize()).isEqualTo(257);
  }
}
