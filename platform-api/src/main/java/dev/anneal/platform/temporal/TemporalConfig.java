package dev.anneal.platform.temporal;

import dev.anneal.activities.stage.StageActivitySet;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowClientOptions;
import io.temporal.serviceclient.SimpleSslContextBuilder;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import io.temporal.worker.WorkerFactory;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

@Configuration(proxyBeanMethods = false)
class TemporalConfig {

  @Bean(destroyMethod = "")
  WorkflowServiceStubs workflowServiceStubs(TemporalProperties props) {
    WorkflowServiceStubsOptions.Builder options =
        WorkflowServiceStubsOptions.newBuilder()
            .setTarget(props.target())
            .setRpcTimeout(Duration.ofSeconds(10));
    if (props.tlsCert() != null && !props.tlsCert().isBlank()) {
      if (props.tlsKey() == null || props.tlsKey().isBlank()) {
        throw new IllegalStateException(
            "anneal.temporal.tls-cert is set but anneal.temporal.tls-key is not: mutual TLS needs"
                + " both");
      }
      try (InputStream cert = Files.newInputStream(Path.of(props.tlsCert()));
          InputStream key = Files.newInputStream(Path.of(props.tlsKey()))) {
        options.setSslContext(SimpleSslContextBuilder.forPKCS8(cert, key).build());
      } catch (IOException e) {
        throw new IllegalStateException(
            "cannot read Temporal's TLS client certificate or key ("
                + props.tlsCert()
                + ", "
                + props.tlsKey()
                + "): "
                + e.getMessage(),
            e);
      }
    }
    return WorkflowServiceStubs.newServiceStubs(options.build());
  }

  @Bean
  WorkflowClient workflowClient(WorkflowServiceStubs stubs, TemporalProperties props) {
    return WorkflowClient.newInstance(
        stubs, WorkflowClientOptions.newBuilder().setNamespace(props.namespace()).build());
  }

  @Bean
  WorkerFactory workerFactory(WorkflowClient client) {
    return WorkerFactory.newInstance(client);
  }

  @Bean
  TemporalWorkers temporalWorkers(
      WorkerFactory factory,
      WorkflowServiceStubs stubs,
      TemporalProperties props,
      StageActivitySet activities) {
    return new TemporalWorkers(factory, stubs, props.workerEnabled() ? activities : null);
  }

  @Bean
  TemporalHealthIndicator temporalHealthIndicator(
      WorkflowServiceStubs stubs, TemporalProperties props) {
    return new TemporalHealthIndicator(stubs, props);
  }
}
