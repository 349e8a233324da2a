package dev.anneal.platform.api.auth;

import dev.anneal.platform.api.ApiException;
import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.Bucket;
import io.github.bucket4j.ConsumptionProbe;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.http.HttpStatus;

/**
 * A request rate limit per API token ({@code anneal.api.rate-limit.*}): a token bucket (bucket4j)
 * of {@code burst} requests, refilled at {@code perSecond}. A request over it is answered 429 with
 * {@code Retry-After} (whole seconds until the next request would pass) and the figures; a {@code
 * perSecond} of 0 turns the limit off. Buckets live in this process: with several API replicas each
 * enforces its own share.
 */
public final class RateLimits {

  private final long perSecond;
  private final long burst;
  private final Map<UUID, Bucket> buckets = new ConcurrentHashMap<>();

  public RateLimits(long perSecond, long burst) {
    if (perSecond < 0 || burst < 0) {
      throw new IllegalArgumentException("anneal.api.rate-limit.per-second and burst must be >= 0");
    }
    this.perSecond = perSecond;
    this.burst = Math.max(burst, perSecond);
  }

  /** Takes one request from the caller's bucket, or throws the 429 that says when to retry. */
  public void take(Caller caller) {
    if (perSecond == 0 || caller.tokenId() == null) return;
    Bucket b =
        buckets.computeIfAbsent(
            caller.tokenId(),
            id ->
                Bucket.builder()
                    .addLimit(
                        Bandwidth.builder()
                            .capacity(burst)
                            .refillGreedy(perSecond, Duration.ofSeconds(1))
                            .build())
                    .build());
    ConsumptionProbe p = b.tryConsumeAndReturnRemaining(1);
    if (!p.isConsumed()) {
      long seconds = Math.max(1, (p.getNanosToWaitForRefill() + 999_999_999L) / 1_000_000_000L);
      throw new ApiException(
              HttpStatus.TOO_MANY_REQUESTS,
              "rate-limited",
              "token "
                  + caller.tokenPrefix()
                  + " sent more than "
                  + perSecond
                  + " requests a second (bursts up to "
                  + burst
                  + "); retry in "
                  + seconds
                  + " s")
          .with("retryAfter", seconds)
          .with("limit", perSecond)
          .with("burst", burst);
    }
  }
}
