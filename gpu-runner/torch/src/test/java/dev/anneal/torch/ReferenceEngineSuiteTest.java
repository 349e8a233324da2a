package dev.anneal.torch;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * The reference engine's own test suite ({@code tests/}, Python's unittest): two-rank DDP against
 * one rank on the synthetic corpus, exact resume from a checkpoint, SIGTERM, fault injection,
 * safetensors and token sets.
 */
class ReferenceEngineSuiteTest {

  @Test
  void thePythonSuitePasses() throws Exception {
    Python.assumeTorch();
    Python.Result r = Python.run(600, "-m", "unittest", "discover", "-s", "tests", "-t", ".", "-v");
    assertThat(r.code()).as(r.output()).isZero();
    assertThat(r.output()).contains("OK").doesNotContain("skipped");
  }
}
