package dev.anneal.s3;

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
 *
 * <p>The runner wraps its checkpoint and dataset calls in it, and the platform its object store, so
 * both ride through the same outage the same way.
 */
public final class S3Retry {
  private static final Logger log = LoggerFactory.getLogger(S3Retry.class);
  static final long FIRST_MS = 500;
  static final long MAX_MS = 8_000;
  public static final long DEFAULT_BUDGET_MS = 120_000;
  private static final Set<String> TRANSIENT_CODES =
      Set.of(
          "SlowDown",
          "RequestTimeout",
          "InternalError",
          "ServiceUnavailable",
          "RequestTimeTooSkewed");

  @FunctionalInterface
  public interface Call<T> {
    T call() throws Exception;
  }

  @FunctionalInterface
  public interface Sleeper {
    void sleep(long ms) throws InterruptedException;
  }

  private final long budgetMs;
  private final Sleeper sleeper;
  private final LongSupplier clock;
  private final Random random;

  public S3Retry(long budgetMs, Sleeper sleeper, LongSupplier clock, Random random) {
    this.budgetMs = budgetMs;
    this.sleeper = sleeper;
    this.clock = clock;
    this.random = random;
  }

  /** Two minutes of tries, on the wall clock. */
  public static S3Retry standard() {
    return new S3Retry(DEFAULT_BUDGET_MS, Thread::sleep, System::currentTimeMillis, new Random());
  }

  /** One try and no retry, for checks that must answer at once (health, start-up preflight). */
  public static S3Retry once() {
    return new S3Retry(-1, Thread::sleep, System::currentTimeMillis, new Random());
  }

  /** {@code call}'s result; {@code what} ("cannot write s3://…") starts the error that ends it. */
  public <T> T run(String what, Call<T> call) {
    return run(
        what, call, (e, after) -> new IllegalStateException(what + ": " + message(e) + after, e));
  }

  /** Makes the exception that ends the tries from the last failure and a note of the tries. */
  @FunctionalInterface
  public interface Failure<X extends RuntimeException> {
    /**
     * @param after empty after one try, else " (after N tries over M s)"
     */
    X of(Exception last, String after);
  }

  /**
   * {@code call}'s result, or the exception {@code failure} makes of the last failure; {@code what}
   * names the call in the warning logged before each retry.
   */
  public <T, X extends RuntimeException> T run(String what, Call<T> call, Failure<X> failure) {
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
          throw failure.of(e, after);
        }
        log.warn("{}: {}; try {} again in {} ms", what, message(e), tries + 1, delay);
        try {
          sleeper.sleep(delay);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          throw failure.of(e, " (interrupted while waiting to retry)");
        }
        ceiling = Math.min(MAX_MS, ceiling * 2);
      }
    }
  }

  /** Whether the failure may pass: an I/O error, a 5xx, 408 or 429, or S3's codes that say so. */
  public static boolean isTransient(Throwable e) {
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
