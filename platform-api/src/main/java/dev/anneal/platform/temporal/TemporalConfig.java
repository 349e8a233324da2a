package dev.anneal.platform.temporal;

import dev.anneal.workflows.api.stage.StageActivities;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowClientOptions;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import io.temporal.worker.WorkerFactory;
import java.time.Duration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

@Configuration(proxyBeanMethods = false)
class TemporalConfig {

  @Bean(destroyMethod = "")
  WorkflowServiceStubs workflowServiceStubs(TemporalProperties props) {
    return WorkflowServiceStubs.newServiceStubs(
        WorkflowServiceStubsOptions.newBuilder()
            .setTarget(props.target())
            .setRpcTimeout(Duration.ofSeconds(10))
            .build());
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
      StageActivities activities) {
    return new TemporalWorkers(factory, stubs, props.workerEnabled(), activities);
  }

  @Bean
  TemporalHealthIndicator temporalHealthIndicator(
      WorkflowServiceStubs stubs, TemporalProperties props) {
    return new TemporalHealthIndicator(stubs, props);
  }
}
