package dev.anneal.platform.cli;

import dev.anneal.platform.AnnealApplication;
import dev.anneal.platform.startup.StartupException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.springframework.boot.SpringApplication;
import org.springframework.context.ConfigurableApplicationContext;
import picocli.CommandLine.Option;

/** The options of every command that starts the platform, and the start itself. */
class StartOptions {

  @Option(names = "--port", description = "HTTP port of the API and console (default 8080)")
  Integer port;

  @Option(
      names = "--data-dir",
      description = "where the embedded stack keeps its data (default .anneal)")
  Path dataDir;

  @Option(names = "--pg-port", description = "embedded PostgreSQL port (default 15432)")
  Integer pgPort;

  @Option(names = "--temporal-port", description = "embedded Temporal port (default 7233)")
  Integer temporalPort;

  @Option(names = "--s3-port", description = "embedded S3 port (default 9000)")
  Integer s3Port;

  @Option(names = "--no-embedded", description = "use external services (cluster mode)")
  boolean noEmbedded;

  @Option(names = "--debug", description = "print stack traces of start-up failures")
  boolean debug;

  @Option(
      names = "--set",
      paramLabel = "KEY=VALUE",
      description = "any Spring or anneal.* property")
  List<String> properties = new ArrayList<>();

  List<String> springArgs() {
    List<String> args = new ArrayList<>();
    if (port != null) args.add("--server.port=" + port);
    if (dataDir != null) args.add("--anneal.embedded.data-dir=" + dataDir);
    if (pgPort != null) args.add("--anneal.embedded.postgres-port=" + pgPort);
    if (temporalPort != null) args.add("--anneal.embedded.temporal-port=" + temporalPort);
    if (s3Port != null) args.add("--anneal.embedded.s3-port=" + s3Port);
    if (noEmbedded) args.add("--anneal.embedded.enabled=false");
    for (String p : properties) {
      args.add("--" + p);
    }
    if (!debug) {
      // the CLI prints one line about a failed start instead of Boot's report
      args.add(
          "--logging.level.org.springframework.boot.diagnostics.LoggingFailureAnalysisReporter=OFF");
    }
    return args;
  }

  /** Starts the platform, or prints one line saying why not and returns null. */
  ConfigurableApplicationContext start(PrintWriter err) {
    try {
      return new SpringApplication(AnnealApplication.class)
          .run(springArgs().toArray(String[]::new));
    } catch (RuntimeException e) {
      StartupException startup = find(e, StartupException.class);
      if (startup != null) {
        err.println("anneal: cannot start: " + startup.getMessage());
      } else {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
          root = root.getCause();
        }
        err.println(
            "anneal: cannot start: "
                + root.getClass().getSimpleName()
                + ": "
                + String.valueOf(root.getMessage()).lines().findFirst().orElse("")
                + (debug ? "" : " (run with --debug for details)"));
      }
      if (debug) {
        e.printStackTrace(err);
      }
      err.flush();
      return null;
    }
  }

  private static <T extends Throwable> T find(Throwable e, Class<T> type) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (type.isInstance(t)) {
        return type.cast(t);
      }
    }
    return null;
  }
}
