package dev.anneal.protocol;

/**
 * The S3 endpoint and bucket the runner reads inputs from and commits checkpoints to. Credentials
 * come from the environment ({@code ANNEAL_S3_ACCESS_KEY}, {@code ANNEAL_S3_SECRET_KEY}).
 */
public record ObjectStoreTarget(String endpoint, String bucket, String region) {
  public static final String ACCESS_KEY_ENV = "ANNEAL_S3_ACCESS_KEY";
  public static final String SECRET_KEY_ENV = "ANNEAL_S3_SECRET_KEY";

  public ObjectStoreTarget {
    Checks.text("endpoint", endpoint);
    Checks.text("bucket", bucket);
    region = Checks.orDefault(region, "us-east-1");
  }
}
