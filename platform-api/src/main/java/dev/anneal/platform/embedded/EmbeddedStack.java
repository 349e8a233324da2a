package dev.anneal.platform.embedded;

import dev.anneal.activities.store.ObjectStore;
import dev.anneal.activities.store.S3Settings;
import dev.anneal.platform.startup.Ports;
import dev.anneal.platform.startup.StartupException;
import dev.anneal.s3.S3Retry;
import io.temporal.testserver.TestServer;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.flywaydb.core.Flyway;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.nio2blob.FilesystemNio2BlobStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts, in this order, PostgreSQL (zonky, data under {@code <dataDir>/postgres}), the Flyway
 * migrations, Temporal's port-bound server, and s3proxy on a filesystem store under {@code
 * <dataDir>/s3} with the platform bucket; {@link #close} stops them in reverse. PostgreSQL and S3
 * data survive a restart; the embedded Temporal server keeps its state in memory.
 */
public final class EmbeddedStack implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(EmbeddedStack.class);

  /** How to reach the started components; becomes the platform's connection properties. */
  public record Endpoints(
      String jdbcUrl,
      String dbUser,
      String temporalTarget,
      String s3Endpoint,
      String s3AccessKey,
      String s3SecretKey,
      String bucket,
      Path dataDir) {}

  private final EmbeddedProperties props;
  private DataDir dir;
  private EmbeddedPostgres postgres;
  private TestServer.PortBoundTestServer temporal;
  private S3Proxy s3;
  private Endpoints endpoints;
  private String ingestSecret;
  private boolean closed;

  private EmbeddedStack(EmbeddedProperties props) {
    this.props = props;
  }

  /**
   * Starts every component, or none: on failure whatever was started is stopped again and a {@link
   * StartupException} names the component, the address and what to do.
   *
   * @param apiPort the HTTP port Spring will bind next, checked up front (0 or less: skip)
   */
  public static EmbeddedStack start(EmbeddedProperties props, int apiPort) {
    EmbeddedStack stack = new EmbeddedStack(props);
    try {
      stack.startAll(apiPort);
      return stack;
    } catch (RuntimeException e) {
      stack.close();
      throw e;
    }
  }

  public Endpoints endpoints() {
    return endpoints;
  }

  /** The properties that point the platform at this stack. */
  public Map<String, Object> springProperties() {
    Map<String, Object> p = new LinkedHashMap<>();
    p.put("spring.datasource.url", endpoints.jdbcUrl());
    p.put("spring.datasource.username", endpoints.dbUser());
    p.put("spring.datasource.password", "");
    // the stack has already migrated the schema, before anything else touched it
    p.put("spring.flyway.enabled", "false");
    p.put("anneal.temporal.target", endpoints.temporalTarget());
    p.put("anneal.s3.endpoint", endpoints.s3Endpoint());
    p.put("anneal.s3.access-key", endpoints.s3AccessKey());
    p.put("anneal.s3.secret-key", endpoints.s3SecretKey());
    p.put("anneal.s3.bucket", endpoints.bucket());
    p.put("anneal.ingest.secret", ingestSecret);
    // the one data dir in use, resolved once (a ${random.uuid} in it would differ per read)
    p.put("anneal.embedded.data-dir", endpoints.dataDir().toString());
    return p;
  }

  private void startAll(int apiPort) {
    long t0 = System.nanoTime();
    dir = DataDir.open(props.dataDir().toAbsolutePath().normalize());
    Path dataDir = dir.path();
    // before the port checks: a server left running by a killed 'anneal serve' holds its port
    OrphanPostgres.stop(dataDir.resolve("postgres"), 30_000);
    String host = props.bindAddress();
    // a configured port is checked up front, so a clash is named before anything starts; a port
    // of 0 is picked just before its component binds, and picked again if another process takes
    // it in between (the other components' own connections draw from the same ephemeral range)
    int pgPort = props.postgresPort();
    int temporalPort = props.temporalPort();
    int s3Port = props.s3Port();
    if (pgPort > 0) {
      Ports.requireFree("PostgreSQL", host, pgPort, "--pg-port or anneal.embedded.postgres-port");
    }
    if (temporalPort > 0) {
      Ports.requireFree(
          "Temporal", host, temporalPort, "--temporal-port or anneal.embedded.temporal-port");
    }
    if (s3Port > 0) {
      Ports.requireFree("S3", host, s3Port, "--s3-port or anneal.embedded.s3-port");
    }
    if (apiPort > 0) {
      Ports.requireFree("API", "0.0.0.0", apiPort, "--port or server.port");
    }

    String jdbcUrl = startPostgres(dataDir, pgPort > 0 ? pgPort : Ports.pickFree(host));
    migrate(jdbcUrl);
    String temporalTarget = Ports.startOn(host, temporalPort, port -> startTemporal(host, port));
    String[] keys = dir.s3Credentials();
    ingestSecret = dir.ingestSecret();
    String s3Endpoint = Ports.startOn(host, s3Port, port -> startS3(dataDir, host, port, keys));
    if (props.s3Endpoint() != null && !props.s3Endpoint().isBlank()) {
      log.info("S3 reached through {} (anneal.embedded.s3-endpoint)", props.s3Endpoint());
      s3Endpoint = props.s3Endpoint();
    }
    endpoints =
        new Endpoints(
            jdbcUrl,
            "postgres",
            temporalTarget,
            s3Endpoint,
            keys[0],
            keys[1],
            props.bucket(),
            dataDir);
    log.info(
        "embedded stack up in {} ms (data in {})",
        Duration.ofNanos(System.nanoTime() - t0).toMillis(),
        dataDir);
  }

  private String startPostgres(Path dataDir, int port) {
    long t0 = System.nanoTime();
    try {
      Path pgData = dataDir.resolve("postgres");
      Path runtime = dataDir.resolve("runtime/postgres");
      Files.createDirectories(runtime);
      postgres =
          EmbeddedPostgres.builder()
              .setDataDirectory(pgData)
              .setCleanDataDirectory(false)
              .setOverrideWorkingDirectory(runtime.toFile())
              .setPort(port)
              .setPGStartupWait(Duration.ofSeconds(60))
              .start();
    } catch (IOException | RuntimeException e) {
      throw new StartupException(
          "PostgreSQL",
          "the embedded server did not start on "
              + props.bindAddress()
              + ":"
              + port
              + " ("
              + rootMessage(e)
              + ")",
          "see "
              + dataDir.resolve("postgres")
              + " and its log; delete that folder to start"
              + " with an empty database",
          e);
    }
    log.info(
        "PostgreSQL up on port {} in {} ms",
        port,
        Duration.ofNanos(System.nanoTime() - t0).toMillis());
    return postgres.getJdbcUrl("postgres", "postgres");
  }

  private void migrate(String jdbcUrl) {
    try {
      var result =
          Flyway.configure()
              .dataSource(postgres.getPostgresDatabase())
              .locations("classpath:db/migration")
              .failOnMissingLocations(true)
              .load()
              .migrate();
      log.info(
          "schema at version {} ({} migration(s) applied)",
          result.targetSchemaVersion,
          result.migrationsExecuted);
    } catch (RuntimeException e) {
      throw new StartupException(
          "migrations",
          "Flyway could not migrate " + jdbcUrl + " (" + rootMessage(e) + ")",
          "the database may hold a schema from a newer Anneal; use that version or a new"
              + " --data-dir",
          e);
    }
  }

  private String startTemporal(String host, int port) {
    try {
      // true locks time skipping: the server runs on real time, as a cluster does
      temporal = TestServer.createPortBoundServer(port, true);
    } catch (RuntimeException e) {
      throw new StartupException(
          "Temporal",
          "the embedded server did not start on port " + port + " (" + rootMessage(e) + ")",
          "choose another port with --temporal-port",
          e);
    }
    log.info("Temporal up on port {}", port);
    return host + ":" + port;
  }

  private String startS3(Path dataDir, String host, int port, String[] keys) {
    String endpoint = "http://" + host + ":" + port;
    try {
      Path blobs = dataDir.resolve("s3");
      Files.createDirectories(blobs);
      s3 =
          S3Proxy.builder()
              .blobStore(new FilesystemNio2BlobStore(blobs.toString()))
              .endpoint(URI.create(endpoint))
              .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, keys[0], keys[1])
              .build();
      s3.start();
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (!"STARTED".equals(s3.getState())) {
        if ("FAILED".equals(s3.getState()) || System.nanoTime() > deadline) {
          throw new IllegalStateException("s3proxy state " + s3.getState());
        }
        Thread.sleep(10);
      }
      new ObjectStore(
              new S3Settings(endpoint, keys[0], keys[1], props.bucket(), null),
              null,
              S3Retry.once())
          .ensureBucket();
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      stopS3();
      throw new StartupException(
          "S3",
          "the embedded server did not start on " + endpoint + " (" + rootMessage(e) + ")",
          "choose another port with --s3-port, or check " + dataDir.resolve("s3"),
          e);
    }
    log.info("S3 up at {} (bucket {})", endpoint, props.bucket());
    return endpoint;
  }

  private static String rootMessage(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    return root.getClass().getSimpleName()
        + (root.getMessage() == null
            ? ""
            : ": " + root.getMessage().lines().findFirst().orElse(""));
  }

  private void stopS3() {
    if (s3 != null) {
      try {
        s3.stop();
      } catch (Exception e) {
        log.warn("S3 did not stop cleanly: {}", e.toString());
      }
      s3 = null;
    }
  }

  /** Stops S3, Temporal and PostgreSQL, in that order, then releases the data dir. Idempotent. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    stopS3();
    if (temporal != null) {
      try {
        temporal.close();
      } catch (RuntimeException e) {
        log.warn("Temporal did not stop cleanly: {}", e.toString());
      }
    }
    if (postgres != null) {
      try {
        postgres.close();
      } catch (IOException | RuntimeException e) {
        log.warn("PostgreSQL did not stop cleanly: {}", e.toString());
      }
    }
    try {
      if (dir != null) {
        dir.close();
      }
    } catch (IOException e) {
      log.warn("cannot release the data dir lock: {}", e.toString());
    }
    if (endpoints != null) {
      log.info("embedded stack stopped");
    }
  }
}
