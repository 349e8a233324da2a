package dev.anneal.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The builders say only what differs from the defaults, and check as the constructors do. */
class BuildersTest {

  @Test
  void unsetFieldsTakeTheDefaultsOfTheSpecFormat() {
    TrainingConfig t = TrainingConfig.builder().steps(100L).lr(1e-3).build();
    assertThat(t)
        .isEqualTo(
            new TrainingConfig(
                100L, null, null, null, 1e-3, null, null, null, null, null, null, null, null, null,
                null, null));
    assertThat(t.batchSize()).isEqualTo(8);
    assertThat(t.precision()).isEqualTo("fp32");
    RlConfig rl = RlConfig.builder().maxNewTokens(24).klCoef(0.1).build();
    assertThat(rl.maxNewTokens()).isEqualTo(24);
    assertThat(rl.klHorizon()).isEqualTo(10_000L);
  }

  @Test
  void toBuilderChangesOnlyWhatItIsTold() {
    TrainingConfig t = TrainingConfig.builder().steps(100L).seqLen(32).build();
    TrainingConfig fp16 = t.toBuilder().precision("fp16-mixed").build();
    assertThat(fp16.precision()).isEqualTo("fp16-mixed");
    assertThat(fp16.toBuilder().precision("fp32").build()).isEqualTo(t);
    RlConfig rl = RlConfig.builder().build();
    assertThat(rl.toBuilder().build()).isEqualTo(rl);
  }

  @Test
  void aBuilderChecksItsValuesAsTheJsonReaderDoes() {
    assertThatThrownBy(() -> TrainingConfig.builder().build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("steps");
    assertThatThrownBy(() -> TrainingConfig.builder().steps(10L).batchSize(0).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("batchSize");
  }
}
