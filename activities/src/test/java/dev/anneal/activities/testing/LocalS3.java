package dev.anneal.activities.testing;

import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.nio2blob.FilesystemNio2BlobStore;

/** A real S3 server for tests: s3proxy on a filesystem store, on a free loopback port, AWS v4. */
public final class LocalS3 implements AutoCloseable {
  public static final String ACCESS_KEY = "test-access";
  public static final String SECRET_KEY = "test-secret";

  private final Path dir;
  private final String endpoint;
  private S3Proxy proxy;

  private LocalS3(Path dir, String endpoint) {
    this.dir = dir;
    this.endpoint = endpoint;
  }

  public static LocalS3 start(Path dir) throws Exception {
    Files.createDirectories(dir);
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    LocalS3 s3 = new LocalS3(dir, "http://127.0.0.1:" + port);
    s3.up();
    return s3;
  }

  /** Starts the server (again) on its endpoint, over the same objects. */
  public void up() throws Exception {
    proxy =
        S3Proxy.builder()
            .blobStore(new FilesystemNio2BlobStore(dir.toString()))
            .endpoint(URI.create(endpoint))
            .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY)
            .build();
    proxy.start();
    while (!"STARTED".equals(proxy.getState())) {
      Thread.sleep(10);
    }
  }

  /** Stops the server, keeping its objects, as an outage does; {@link #up} brings it back. */
  public void down() throws Exception {
    proxy.stop();
  }

  public String endpoint() {
    return endpoint;
  }

  @Override
  public void close() throws Exception {
    proxy.stop();
  }
}
