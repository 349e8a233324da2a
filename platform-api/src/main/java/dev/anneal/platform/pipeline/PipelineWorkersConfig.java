package dev.anneal.platform.pipeline;

import dev.anneal.activities.launch.JobLauncher;
import dev.anneal.activities.launch.KubernetesJobLauncher;
import dev.anneal.activities.launch.KubernetesSettings;
import dev.anneal.activities.launch.LocalProcessLauncher;
import dev.anneal.activities.metadata.MetadataStore;
import dev.anneal.activities.stage.StageActivitySet;
import dev.anneal.activities.store.ObjectStore;
import dev.anneal.platform.ingest.AttemptTokens;
import dev.anneal.platform.startup.StartupException;
import io.kubernetes.client.openapi.ApiClient;
import io.kubernetes.client.util.ClientBuilder;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Supplier;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;

/**
 * The stage activities the platform's Temporal worker hosts, on the launcher that {@code
 * anneal.launcher} names: {@code local} (child JVMs, the default) or {@code kubernetes} (a Job per
 * attempt).
 */
@Configuration(proxyBeanMethods = false)
class PipelineWorkersConfig {

  @Bean
  @ConditionalOnProperty(name = "anneal.launcher", havingValue = "local", matchIfMissing = true)
  LocalProcessLauncher localProcessLauncher(RunnerProperties runner, Environment env) {
    Path work =
        runner.workDir() != null
            ? Path.of(runner.workDir())
            : Path.of(env.getProperty("anneal.embedded.data-dir", ".anneal")).resolve("jobs");
    return new LocalProcessLauncher(Path.of(runner.jar()), work, runner.jvmOptions());
  }

  @Bean
  @ConditionalOnProperty(name = "anneal.launcher", havingValue = "kubernetes")
  KubernetesJobLauncher kubernetesJobLauncher(KubernetesProperties k) throws IOException {
    required(k.image(), "image", "set it to the runner image of CPU stages");
    required(
        k.cudaImage(),
        "cuda-image",
        "set it to the CUDA runner image that stages asking for GPUs run (the chart's"
            + " training.runner.cudaImage); the CPU image would see no GPU");
    required(
        k.eventsUrl(),
        "events-url",
        "set it to how runner pods reach this platform, e.g."
            + " http://anneal.anneal.svc:8080/internal/v1/events");
    ApiClient client =
        k.apiServer() == null
            ? ClientBuilder.standard().build()
            : new ClientBuilder().setBasePath(k.apiServer()).build();
    return new KubernetesJobLauncher(
        client,
        new KubernetesSettings(
            k.namespace(),
            k.image(),
            k.cudaImage(),
            k.torchImage(),
            k.torchCudaImage(),
            k.imagePullPolicy(),
            k.serviceAccount(),
            k.s3Secret(),
            k.jvmOptions(),
            k.ttlSecondsAfterFinished(),
            k.terminationGracePeriodSeconds(),
            k.labels(),
            k.jobDefaults()));
  }

  @Bean
  StageActivitySet stageActivities(
      ObjectStore store,
      MetadataStore meta,
      JobLauncher launcher,
      AttemptTokens tokens,
      Environment env) {
    // the web server's port is known only once it listens (0 picks a free one)
    Supplier<String> local =
        () ->
            "http://127.0.0.1:"
                + env.getProperty("local.server.port", env.getProperty("server.port", "8080"))
                + "/internal/v1/events";
    String configured = env.getProperty("anneal.kubernetes.events-url");
    Supplier<String> eventsUrl =
        launcher instanceof KubernetesJobLauncher && configured != null ? () -> configured : local;
    return StageActivitySet.create(
        store, meta, launcher, tokens::issue, eventsUrl, Duration.ofSeconds(1));
  }

  /** A property the Kubernetes launcher cannot start without. */
  private static void required(String value, String property, String fix) {
    if (value == null || value.isBlank()) {
      throw new StartupException(
          "Kubernetes launcher", "anneal.kubernetes." + property + " is not set", fix, null);
    }
  }
}
