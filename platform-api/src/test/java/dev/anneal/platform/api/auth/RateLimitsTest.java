package dev.anneal.platform.api.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.anneal.platform.api.ApiException;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.http.HttpStatus;

class RateLimitsTest {

  private static Caller caller() {
    return new Caller(UUID.randomUUID(), "anl_abcd", UUID.randomUUID(), "t", false, Set.of());
  }

  @Test
  void aTokenOverItsBurstIsAnswered429WithWhenToRetry() {
    RateLimits limits = new RateLimits(1, 3);
    Caller a = caller();
    for (int i = 0; i < 3; i++) limits.take(a);
    assertThatThrownBy(() -> limits.take(a))
        .isInstanceOfSatisfying(
            ApiException.class,
            e -> {
              assertThat(e.status()).isEqualTo(HttpStatus.TOO_MANY_REQUESTS);
              assertThat(e.type()).isEqualTo("rate-limited");
              assertThat(e.extra()).containsEntry("retryAfter", 1L).containsEntry("limit", 1L);
              assertThat(e.getMessage()).contains("anl_abcd").contains("retry in 1 s");
            });
    // another token has a bucket of its own
    limits.take(caller());
  }

  @Test
  void zeroTurnsTheLimitOff() {
    RateLimits off = new RateLimits(0, 0);
    Caller a = caller();
    for (int i = 0; i < 10_000; i++) off.take(a);
  }
}
