package dev.anneal.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.minio.errors.ServerException;
import java.io.IOException;
import java.net.ConnectException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Which S3 failures are tried again, how long it waits between tries, and when it gives up. */
class S3RetryTest {
  private final List<Long> waits = new ArrayList<>();
  private long now;

  /** A retry on a fake clock that the waits move forward. */
  private S3Retry retry(long budgetMs) {
    return new S3Retry(
        budgetMs,
        ms -> {
          waits.add(ms);
          now += ms;
        },
        () -> now,
        new Random(7));
  }

  @Test
  void aFailureThatPassesIsTriedAgainWithJitteredDoublingWaits() {
    int[] calls = {0};
    String got =
        retry(120_000)
            .run(
                "cannot write k",
                () -> {
                  if (++calls[0] <= 4) throw new ConnectException("Connection refused");
                  return "stored";
                });
    assertThat(got).isEqualTo("stored");
    assertThat(calls[0]).isEqualTo(5);
    assertThat(waits).hasSize(4);
    // full jitter under a ceiling that doubles from 0.5 s
    for (int i = 0; i < waits.size(); i++) {
      assertThat(waits.get(i)).isBetween(0L, (S3Retry.FIRST_MS << i) - 1);
    }
  }

  @Test
  void aFailureThatWillNotPassIsNotTriedAgain() {
    int[] calls = {0};
    assertThatThrownBy(
            () ->
                retry(120_000)
                    .run(
                        "cannot write k",
                        () -> {
                          calls[0]++;
                          throw new ServerException("Forbidden", 403, "trace");
                        }))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("cannot write k: Forbidden");
    assertThat(calls[0]).isEqualTo(1);
    assertThat(waits).isEmpty();
  }

  @Test
  void itGivesUpOnceTheBudgetIsSpentSayingHowLongItTried() {
    assertThatThrownBy(
            () ->
                retry(30_000)
                    .run(
                        "cannot write k",
                        () -> {
                          throw new IOException("unexpected end of stream");
                        }))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith("cannot write k: unexpected end of stream (after ")
        .hasMessageEndingWith(" s)");
    long waited = waits.stream().mapToLong(Long::longValue).sum();
    assertThat(waited).isLessThanOrEqualTo(30_000);
    // the waits stay under the 8 s ceiling
    assertThat(waits).allMatch(w -> w < S3Retry.MAX_MS);
  }

  @Test
  void transientMeansIoErrorsAndServerSideStatuses() {
    assertThat(S3Retry.isTransient(new ServerException("busy", 503, "t"))).isTrue();
    assertThat(S3Retry.isTransient(new ServerException("slow down", 429, "t"))).isTrue();
    assertThat(S3Retry.isTransient(new ServerException("bad", 400, "t"))).isFalse();
    assertThat(S3Retry.isTransient(new RuntimeException(new ConnectException("refused")))).isTrue();
    assertThat(S3Retry.isTransient(new IllegalArgumentException("bucket name"))).isFalse();
  }
}
