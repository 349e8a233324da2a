package dev.anneal.platform.storage;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The object store ({@code anneal.s3.*}); the embedded stack fills these in. {@code
 * publicEndpoint}: the address download links (presigned URLs) carry, when users reach the S3
 * server by another name than the platform does (an Ingress in front of MinIO).
 */
@ConfigurationProperties("anneal.s3")
public record S3Properties(
    @DefaultValue("http://127.0.0.1:9000") String endpoint,
    String accessKey,
    String secretKey,
    @DefaultValue("anneal") String bucket,
    @DefaultValue("us-east-1") String region,
    String publicEndpoint) {

  @Override
  public String toString() {
    return "S3Properties[endpoint=" + endpoint + ", bucket=" + bucket + "]";
  }
}
