package dev.anneal.platform.startup;

import dev.anneal.activities.store.ObjectStore;
import dev.anneal.activities.store.ObjectStoreException;
import dev.anneal.activities.store.S3Settings;
import dev.anneal.s3.S3Retry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;
import org.springframework.core.env.Environment;

/**
 * Cluster mode: before the context starts, check that PostgreSQL, Temporal and the object store
 * answer, and say in one line which one does not, where it was looked for, and what to check.
 */
final class ClusterPreflight {

  private static final int TIMEOUT_SECONDS = 5;

  private ClusterPreflight() {}

  static void check(Environment env) {
    checkDatabase(env);
    checkTemporal(env.getProperty("anneal.temporal.target", "127.0.0.1:7233"));
    checkObjectStore(env);
    String secret = env.getProperty("anneal.ingest.secret");
    if (secret == null || secret.length() < 16) {
      throw new StartupException(
          "ingest",
          "anneal.ingest.secret is not set (or shorter than 16 characters)",
          "set it to a long random string shared by every platform replica; it signs the runners'"
              + " attempt tokens",
          null);
    }
  }

  /** A setting the cluster mode cannot start without; missing: "{@code what} is configured". */
  private static String required(
      Environment env, String key, String component, String what, String fix) {
    String value = env.getProperty(key);
    if (value == null || value.isBlank()) {
      throw new StartupException(
          component, what + " is configured (" + key + " is empty)", fix, null);
    }
    return value;
  }

  private static void checkDatabase(Environment env) {
    String url =
        required(
            env,
            "spring.datasource.url",
            "PostgreSQL",
            "no database",
            "set spring.datasource.url, or run with the embedded stack (anneal.embedded.enabled=true)");
    Properties p = new Properties();
    String user = env.getProperty("spring.datasource.username");
    String password = env.getProperty("spring.datasource.password");
    if (user != null) p.setProperty("user", user);
    if (password != null) p.setProperty("password", password);
    p.setProperty("connectTimeout", String.valueOf(TIMEOUT_SECONDS));
    p.setProperty("loginTimeout", String.valueOf(TIMEOUT_SECONDS));
    try (Connection c = DriverManager.getConnection(url, p)) {
      c.isValid(TIMEOUT_SECONDS);
    } catch (SQLException e) {
      throw new StartupException(
          "PostgreSQL",
          "cannot connect to " + url + " (" + firstLine(e.getMessage()) + ")",
          "check spring.datasource.url, username and password, and that the server is reachable",
          e);
    }
  }

  private static void checkTemporal(String target) {
    int colon = target.lastIndexOf(':');
    if (colon < 1) {
      throw new StartupException(
          "Temporal",
          "anneal.temporal.target '" + target + "' is not host:port",
          "set it to the frontend address, e.g. temporal-frontend:7233",
          null);
    }
    String host = target.substring(0, colon);
    int port;
    try {
      port = Integer.parseInt(target.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new StartupException(
          "Temporal",
          "anneal.temporal.target '" + target + "' has no numeric port",
          "set it to the frontend address, e.g. temporal-frontend:7233",
          e);
    }
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(host, port), TIMEOUT_SECONDS * 1000);
    } catch (IOException e) {
      throw new StartupException(
          "Temporal",
          "cannot reach " + target + " (" + e.getMessage() + ")",
          "check anneal.temporal.target and that the Temporal frontend is running",
          e);
    }
  }

  private static void checkObjectStore(Environment env) {
    String endpoint =
        required(
            env,
            "anneal.s3.endpoint",
            "S3",
            "no object store",
            "set anneal.s3.endpoint, access-key and secret-key");
    String bucket = env.getProperty("anneal.s3.bucket", "anneal");
    try {
      new ObjectStore(
              new S3Settings(
                  endpoint,
                  env.getProperty("anneal.s3.access-key"),
                  env.getProperty("anneal.s3.secret-key"),
                  bucket,
                  env.getProperty("anneal.s3.region")),
              null,
              S3Retry.once()) // the preflight says now what is wrong; the pod's restart retries
          .ensureBucket();
    } catch (ObjectStoreException e) {
      throw new StartupException(
          "S3",
          firstLine(e.getMessage()),
          "check anneal.s3.endpoint, the access and secret keys, and that the bucket may be"
              + " created or already exists",
          e);
    }
  }

  private static String firstLine(String s) {
    return s == null ? "" : s.lines().findFirst().orElse("");
  }
}
