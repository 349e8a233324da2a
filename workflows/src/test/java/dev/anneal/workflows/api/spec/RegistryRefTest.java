package dev.anneal.workflows.api.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.anneal.workflows.api.spec.RegistryRef.Kind;
import org.junit.jupiter.api.Test;

class RegistryRefTest {

  @Test
  void referencesAreParsedWithAndWithoutAVersion() {
    assertThat(RegistryRef.parse(Kind.DATASET, "dataset:prose@v3"))
        .contains(new RegistryRef(Kind.DATASET, "prose", 3));
    assertThat(RegistryRef.parse(Kind.MODEL, "model:tiny-lm"))
        .contains(new RegistryRef(Kind.MODEL, "tiny-lm", null));
    assertThat(RegistryRef.parse(Kind.DATASET, "synthetic:prose")).isEmpty();
    assertThat(RegistryRef.parse(Kind.DATASET, "model:x")).isEmpty();
    assertThat(new RegistryRef(Kind.DATASET, "prose", 2).toString()).isEqualTo("dataset:prose@v2");
    assertThat(new RegistryRef(Kind.MODEL, "m", null).display()).isEqualTo("m");
  }

  @Test
  void aBadReferenceSaysWhatIsWrong() {
    assertThatThrownBy(() -> RegistryRef.parse(Kind.DATASET, "dataset:prose@vX"))
        .hasMessage("the version in 'dataset:prose@vX' is not a number");
    assertThatThrownBy(() -> RegistryRef.parse(Kind.MODEL, "model:@v2"))
        .hasMessage("model: needs a name");
    assertThatThrownBy(() -> RegistryRef.parse(Kind.DATASET, "dataset:p@v0"))
        .hasMessage("versions start at 1, not 0");
  }
}
