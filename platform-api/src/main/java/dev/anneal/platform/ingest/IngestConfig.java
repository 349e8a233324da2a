package dev.anneal.platform.ingest;

import dev.anneal.activities.metadata.MetadataStore;
import javax.sql.DataSource;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

@Configuration(proxyBeanMethods = false)
class IngestConfig {

  @Bean
  MetadataStore metadataStore(DataSource dataSource) {
    return new MetadataStore(dataSource);
  }

  @Bean
  AttemptTokens attemptTokens(IngestProperties props) {
    return new AttemptTokens(props.secret());
  }
}
