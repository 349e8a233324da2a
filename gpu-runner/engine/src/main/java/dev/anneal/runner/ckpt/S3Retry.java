package dev.anneal.runner.ckpt;

import io.minio.errors.ErrorResponseException;
import io.minio.errors.InsufficientDataException;
import io.minio.errors.InvalidResponseException;
import io.minio.errors.ServerException;
import java.io.IOException;
import java.util.Random;
import java.util.Set;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Retries an S3 call that failed for a reason that passes — the server unreachable or cut off, a
 * 5xx, 408 or 429 — with exponential backoff and full jitter (0.5 s doubling to 8 s), for at most a
 * time budget (two minutes by default, so an object store that is away for half a minute costs a
 * checkpoint upload its wait, not the run). Anything else (403, a missing bucket, a bad request)
 * fails at once. The error that ends it says how many tries over how long.
 */
final class S3Retry {
  private static final Logger log = LoggerFactory.getLogger(S3Retry.class);
  static final long FIRST_MS = 500;
  static final long MAX_MS = 8_000;
  static final long DEFAULT_BUDGET_MS = 120_000;
  private static final Set<String> TRANSIENT_CODES =
      Set.of(
          "SlowDown",
          "RequestTimeout",
          "InternalError",
          "ServiceUnavailable",
          "RequestTimeTooSkewed");

  @FunctionalInterface
  interface Call<T> {
    T call() throws Exception;
  }

  @FunctionalInterface
  interface Sleeper {
    void sleep(long ms) throws InterruptedException;
  }

  private final long budgetMs;
  private final Sleeper sleeper;
  private final LongSupplier clock;
  private final Random random;

  S3Retry(long budgetMs, Sleeper sleeper, LongSupplier clock, Random random) {
    this.budgetMs = budgetMs;
    this.sleeper = sleeper;
    this.clock = clock;
    this.random = random;
  }

  static S3Retry standard() {
    return new S3Retry(DEFAULT_BUDGET_MS, Thread::sleep, System::currentTimeMillis, new Random());
  }

  /** {@code call}'s result; {@code what} ("cannot write s3://…") starts the error that ends it. */
  <T> T run(String what, Call<T> call) {
    long start = clock.getAsLong();
    long ceiling = FIRST_MS;
    for (int tries = 1; ; tries++) {
      try {
        return call.call();
      } catch (Exception e) {
        long elapsed = clock.getAsLong() - start;
        long delay = (long) (random.nextDouble() * ceiling);
        if (!isTransient(e) || elapsed + delay > budgetMs) {
          String after =
              tries == 1
                  ? ""
                  : " (after " + tries + " tries over " + Math.round(elapsed / 1000.0) + " s)";
          throw new IllegalStateException(what + ": " + message(e) + after, e);
        }
        log.warn("{}: {}; try {} again in {} ms", what, message(e), tries + 1, delay);
        try {
          sleeper.sleep(delay);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException(what + ": interrupted while waiting to retry", e);
        }
        ceiling = Math.min(MAX_MS, ceiling * 2);
      }
    }
  }

  /** Whether the failure may pass: an I/O error, a 5xx, 408 or 429, or S3's codes that say so. */
  static boolean isTransient(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof ErrorResponseException r) {
        int status = r.response() == null ? 0 : r.response().code();
        return status >= 500
            || status == 408
            || status == 429
            || TRANSIENT_CODES.contains(r.errorResponse().code());
      }
      if (t instanceof ServerException s) {
        return s.statusCode() >= 500 || s.statusCode() == 408 || s.statusCode() == 429;
      }
      if (t instanceof IOException
          || t instanceof InsufficientDataException
          || t instanceof InvalidResponseException) {
        return true;
      }
    }
    return false;
  }

  private static String message(Throwable e) {
    String m = e.getMessage();
    return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
  }
}
