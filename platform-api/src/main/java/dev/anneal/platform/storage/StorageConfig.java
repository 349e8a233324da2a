package dev.anneal.platform.storage;

import dev.anneal.activities.store.ObjectStore;
import dev.anneal.activities.store.S3Settings;
import org.springframework.boot.actuate.health.AbstractHealthIndicator;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.HealthIndicator;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

@Configuration(proxyBeanMethods = false)
class StorageConfig {

  @Bean
  ObjectStore objectStore(S3Properties p) {
    return new ObjectStore(
        new S3Settings(p.endpoint(), p.accessKey(), p.secretKey(), p.bucket(), p.region()),
        p.publicEndpoint());
  }

  /** UP when the platform bucket exists and answers. */
  @Bean
  HealthIndicator objectStoreHealthIndicator(ObjectStore store) {
    return new AbstractHealthIndicator("object store health check failed") {
      @Override
      protected void doHealthCheck(Health.Builder builder) {
        builder
            .withDetail("endpoint", store.settings().endpoint())
            .withDetail("bucket", store.bucket());
        if (store.bucketExists()) {
          builder.up();
        } else {
          builder.down().withDetail("error", "bucket " + store.bucket() + " does not exist");
        }
      }
    };
  }
}
