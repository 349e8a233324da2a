package dev.anneal.platform.cli;

import java.util.concurrent.Callable;
import org.springframework.context.ConfigurableApplicationContext;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

@Command(
    name = "serve",
    description = {
      "Start the platform: REST API, Temporal worker and console.",
      "With the embedded stack (the default) PostgreSQL, Temporal and S3 run inside this process,"
          + " with their data under the data dir."
    })
class ServeCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Mixin StartOptions options = new StartOptions();

  /** Set once the context is up; tests close it. */
  ConfigurableApplicationContext context;

  @Override
  public Integer call() {
    context = options.start(spec.commandLine().getErr());
    return context == null ? 1 : 0;
  }
}
