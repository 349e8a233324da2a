package dev.anneal.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ExportConfigTest {

  @Test
  void sizesReadAsTransformersWritesThem() {
    assertThat(ExportConfig.defaults().maxShardBytes()).isEqualTo(5_000_000_000L);
    assertThat(ExportConfig.defaults().bf16()).isFalse();
    assertThat(new ExportConfig("bfloat16", "500MB", null, null).maxShardBytes())
        .isEqualTo(500_000_000L);
    assertThat(new ExportConfig(null, "2GiB", null, null).maxShardBytes()).isEqualTo(2L << 30);
    assertThat(new ExportConfig(null, "20 kb", null, null).maxShardBytes()).isEqualTo(20_000L);
    assertThat(new ExportConfig(null, "4096", null, null).maxShardBytes()).isEqualTo(4096L);
  }

  @Test
  void badValuesNameTheField() {
    assertThatThrownBy(() -> new ExportConfig("fp8", null, null, null))
        .hasMessage("dtype: must be 'float32' or 'bfloat16', got 'fp8'");
    assertThatThrownBy(() -> new ExportConfig(null, "5G", null, null))
        .hasMessage("maxShardSize: a size such as 500MB, 5GB or 2GiB, got '5G'");
    assertThatThrownBy(() -> new ExportConfig(null, "0MB", null, null))
        .hasMessageStartingWith("maxShardSize:");
    assertThatThrownBy(() -> new ExportConfig(null, null, "Apache License 2.0", null))
        .hasMessageStartingWith("license: an SPDX-style id");
    assertThatThrownBy(() -> new ExportConfig(null, null, null, "x\ny"))
        .hasMessageStartingWith("baseModel:");
  }

  @Test
  void defaultsFillOnlyWhatIsNotGiven() {
    ExportConfig e = new ExportConfig(null, null, "mit", null).orDefaults("apache-2.0", "m@v1");
    assertThat(e.license()).isEqualTo("mit");
    assertThat(e.baseModel()).isEqualTo("m@v1");
  }
}
