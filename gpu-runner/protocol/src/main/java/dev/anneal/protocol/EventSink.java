package dev.anneal.protocol;

/**
 * Where the runner posts its events. The bearer token is scoped to one attempt and travels in the
 * environment variable {@link #TOKEN_ENV}, never in the spec (specs are stored in S3).
 */
public record EventSink(String url, Integer batchSize, Integer flushMillis) {
  public static final String TOKEN_ENV = "ANNEAL_RUNNER_TOKEN";

  public EventSink {
    Checks.text("url", url);
    if (!url.startsWith("http://") && !url.startsWith("https://")) {
      throw new IllegalArgumentException("url: must be an http(s) URL, got '" + url + "'");
    }
    batchSize = Checks.orDefault(batchSize, 64);
    flushMillis = Checks.orDefault(flushMillis, 1000);
    Checks.positive("batchSize", batchSize);
    Checks.positive("flushMillis", flushMillis);
  }
}
