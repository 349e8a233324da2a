package dev.anneal.platform.cli.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import picocli.CommandLine.Option;

/**
 * Where the API is and which token to use. The server: {@code --server}, {@code ANNEAL_SERVER}, the
 * saved login, or http://localhost:8080. The token: {@code --token}, {@code ANNEAL_TOKEN}, the
 * saved login for that server, or — for a server on this machine — the bootstrap token the embedded
 * platform wrote to {@code <data-dir>/bootstrap-token}.
 */
public class ClientOptions {
  public static final String DEFAULT_SERVER = "http://localhost:8080";

  @Option(
      names = "--server",
      description = "the Anneal API (default: the saved login, or " + DEFAULT_SERVER + ")")
  String server;

  @Option(
      names = "--token",
      description = "an API token (default: ANNEAL_TOKEN or the saved login)")
  String token;

  @Option(
      names = "--data-dir",
      description = "the embedded platform's data dir, for its bootstrap token (default .anneal)")
  Path dataDir;

  /** The saved login: ANNEAL_CONFIG, or ~/.config/anneal/credentials.json. */
  public static Path credentialsFile() {
    String env = System.getenv("ANNEAL_CONFIG");
    if (env != null && !env.isBlank()) return Path.of(env);
    String prop = System.getProperty("anneal.config");
    if (prop != null) return Path.of(prop);
    return Path.of(System.getProperty("user.home"), ".config", "anneal", "credentials.json");
  }

  static JsonNode saved() {
    Path f = credentialsFile();
    if (!Files.isRegularFile(f)) return null;
    try {
      return ApiClient.JSON.readTree(f.toFile());
    } catch (IOException e) {
      return null;
    }
  }

  public static void save(String server, String token) throws IOException {
    Path f = credentialsFile();
    if (f.getParent() != null) Files.createDirectories(f.getParent());
    ObjectNode n = ApiClient.JSON.createObjectNode().put("server", server).put("token", token);
    Files.writeString(f, n.toPrettyString() + "\n");
    try {
      Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
    } catch (UnsupportedOperationException e) {
      // not POSIX
    }
  }

  public String server() {
    if (server != null) return server;
    String env = System.getenv("ANNEAL_SERVER");
    if (env != null && !env.isBlank()) return env;
    JsonNode s = saved();
    if (s != null && s.hasNonNull("server")) return s.get("server").asText();
    return DEFAULT_SERVER;
  }

  public String token() {
    if (token != null) return token;
    String env = System.getenv("ANNEAL_TOKEN");
    if (env != null && !env.isBlank()) return env.trim();
    JsonNode s = saved();
    String srv = server();
    if (s != null && s.hasNonNull("token") && srv.equals(s.path("server").asText())) {
      return s.get("token").asText();
    }
    return localBootstrapToken(srv);
  }

  /** The embedded platform's bootstrap token, for a server on this machine. */
  String localBootstrapToken(String srv) {
    if (!srv.contains("://localhost") && !srv.contains("://127.0.0.1")) return null;
    Path dir =
        dataDir != null
            ? dataDir
            : Path.of(System.getProperty("anneal.home", ".")).resolve(".anneal");
    Path f = dir.resolve("bootstrap-token");
    try {
      return Files.isRegularFile(f) ? Files.readString(f).trim() : null;
    } catch (IOException e) {
      return null;
    }
  }

  public ApiClient client() {
    return new ApiClient(server(), token());
  }
}
