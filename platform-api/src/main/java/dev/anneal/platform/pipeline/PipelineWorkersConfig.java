package dev.anneal.platform.pipeline;

import dev.anneal.activities.launch.LocalProcessLauncher;
import dev.anneal.activities.metadata.MetadataStore;
import dev.anneal.activities.stage.StageActivitiesImpl;
import dev.anneal.activities.store.ObjectStore;
import dev.anneal.platform.ingest.AttemptTokens;
import java.nio.file.Path;
import java.time.Duration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;

/** The stage activities the platform's Temporal worker hosts, on the local process launcher. */
@Configuration(proxyBeanMethods = false)
class PipelineWorkersConfig {

  @Bean
  LocalProcessLauncher localProcessLauncher(RunnerProperties runner, Environment env) {
    Path work =
        runner.workDir() != null
            ? Path.of(runner.workDir())
            : Path.of(env.getProperty("anneal.embedded.data-dir", ".anneal")).resolve("jobs");
    return new LocalProcessLauncher(Path.of(runner.jar()), work, runner.jvmOptions());
  }

  @Bean
  StageActivitiesImpl stageActivities(
      ObjectStore store,
      MetadataStore meta,
      LocalProcessLauncher launcher,
      AttemptTokens tokens,
      Environment env) {
    // the web server's port is known only once it listens (0 picks a free one)
    return new StageActivitiesImpl(
        store,
        meta,
        launcher,
        tokens::issue,
        () ->
            "http://127.0.0.1:"
                + env.getProperty("local.server.port", env.getProperty("server.port", "8080"))
                + "/internal/v1/events",
        Duration.ofSeconds(1));
  }
}
