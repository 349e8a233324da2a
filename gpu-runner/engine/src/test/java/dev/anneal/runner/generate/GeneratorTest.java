package dev.anneal.runner.generate;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.anneal.protocol.ModelConfig;
import dev.anneal.runner.model.ModelShape;
import dev.anneal.runner.model.Params;
import dev.anneal.runner.model.Transformer;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The KV-cache generator against full recomputation and against the training forward pass. */
class GeneratorTest {

  private static final ModelShape SHAPE =
      ModelShape.of(new ModelConfig("micro", 32, 2, 4, 2, 2.0, 64, 50, false, "causal"));
  private static final List<int[]> PROMPTS =
      List.of(new int[] {5, 9, 13}, new int[] {7, 1, 2, 3, 4, 8, 6}, new int[] {11, 12, 30, 31, 2});

  private NDManager manager;
  private Params params;
  private Transformer model;
  private Generator generator;

  @BeforeEach
  void setUp() {
    manager = NDManager.newBaseManager();
    // float64: cache and recomputation must pick the same argmax, whatever the rounding
    params = Params.init(SHAPE, manager, 7, DataType.FLOAT64);
    model = new Transformer(SHAPE);
    generator = new Generator(model, 0);
  }

  @AfterEach
  void tearDown() {
    manager.close();
  }

  @Test
  void theCacheGivesTheTokensOfFullRecomputation() {
    Generator.Sampling greedy = Generator.Sampling.greedy(24, Set.of());
    Generator.Output cached = generator.generate(params, manager, PROMPTS, greedy);
    Generator.Output full = generator.generateWithoutCache(params, manager, PROMPTS, greedy);
    for (int r = 0; r < PROMPTS.size(); r++) {
      assertThat(cached.tokens().get(r)).hasSize(24).containsExactly(full.tokens().get(r));
      for (int i = 0; i < 24; i++) {
        assertThat(cached.logProbs().get(r)[i])
            .isCloseTo(full.logProbs().get(r)[i], org.assertj.core.data.Offset.offset(1e-5f));
      }
    }
    assertThat(cached.generatedTokens()).isEqualTo(3 * 24);
  }

  @Test
  void idsBeyondTheTokenizersVocabularyAreNeverGenerated() {
    Generator limited = new Generator(new Transformer(SHAPE), 0, 10);
    Generator.Output out =
        limited.generate(
            params, manager, PROMPTS, new Generator.Sampling(1.5, 1.0, 32, Set.of(), 7));
    for (int[] row : out.tokens()) {
      assertThat(row).hasSize(32);
      assertThat(java.util.Arrays.stream(row).max().orElseThrow()).isLessThan(10);
    }
  }

  @Test
  void aRowGeneratesTheSameAloneAndInAPaddedBatch() {
    Generator.Sampling greedy = Generator.Sampling.greedy(16, Set.of());
    Generator.Output batch = generator.generate(params, manager, PROMPTS, greedy);
    for (int r = 0; r < PROMPTS.size(); r++) {
      Generator.Output alone = generator.generate(params, manager, List.of(PROMPTS.get(r)), greedy);
      assertThat(batch.tokens().get(r)).containsExactly(alone.tokens().get(0));
    }
  }

  @Test
  void theFirstTokenIsTheTrainingForwardPassesArgmax() {
    int[] prompt = PROMPTS.get(1);
    long[] ids = new long[prompt.length];
    for (int i = 0; i < ids.length; i++) ids[i] = prompt[i];
    try (NDManager m = manager.newSubManager()) {
      NDArray logits =
          model.logits(
              params,
              m.create(ids, new Shape(1, ids.length)),
              Transformer.mask(m, 1, ids.length, null, DataType.FLOAT64));
      int expected = (int) logits.get(new NDIndex("0, {}, :", ids.length - 1)).argMax().getLong();
      Generator.Output out =
          generator.generate(params, manager, List.of(prompt), Generator.Sampling.greedy(1, null));
      assertThat(out.tokens().get(0)).containsExactly(expected);
    }
  }

  @Test
  void aStopTokenEndsItsRowOnly() {
    Generator.Sampling greedy = Generator.Sampling.greedy(10, Set.of());
    int firstOfRow0 = generator.generate(params, manager, PROMPTS, greedy).tokens().get(0)[0];
    Generator.Output out =
        generator.generate(
            params, manager, PROMPTS, Generator.Sampling.greedy(10, Set.of(firstOfRow0)));
    assertThat(out.tokens().get(0)).containsExactly(firstOfRow0);
    assertThat(out.tokens().stream().mapToInt(t -> t.length).max().getAsInt()).isGreaterThan(1);
  }

  @Test
  void samplingIsSeededAndATinyTopPIsGreedy() {
    Generator.Sampling hot = new Generator.Sampling(1.0, 0.9, 12, Set.of(), 42);
    Generator.Output a = generator.generate(params, manager, PROMPTS, hot);
    Generator.Output b = generator.generate(params, manager, PROMPTS, hot);
    for (int r = 0; r < PROMPTS.size(); r++) {
      assertThat(a.tokens().get(r)).containsExactly(b.tokens().get(r));
    }
    Generator.Output nucleusOfOne =
        generator.generate(
            params, manager, PROMPTS, new Generator.Sampling(1.0, 1e-6, 12, Set.of(), 1));
    Generator.Output greedy =
        generator.generate(params, manager, PROMPTS, Generator.Sampling.greedy(12, Set.of()));
    for (int r = 0; r < PROMPTS.size(); r++) {
      assertThat(nucleusOfOne.tokens().get(r)).containsExactly(greedy.tokens().get(r));
    }
  }
}
