package dev.anneal.activities.store;

/** Where the object store is and how to sign requests to it. */
public record S3Settings(
    String endpoint, String accessKey, String secretKey, String bucket, String region) {
  public S3Settings {
    if (endpoint == null || endpoint.isBlank()) {
      throw new IllegalArgumentException("anneal.s3.endpoint is required");
    }
    if (bucket == null || bucket.isBlank()) {
      throw new IllegalArgumentException("anneal.s3.bucket is required");
    }
    region = region == null || region.isBlank() ? "us-east-1" : region;
  }

  @Override
  public String toString() {
    return "S3Settings[endpoint=" + endpoint + ", bucket=" + bucket + ", region=" + region + "]";
  }
}
