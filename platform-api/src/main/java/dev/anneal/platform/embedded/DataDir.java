package dev.anneal.platform.embedded;

import dev.anneal.platform.startup.StartupException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Properties;

/**
 * The embedded stack's data dir, held under an exclusive lock ({@code anneal.lock}, holding the
 * owner's pid) from {@link #open} to {@link #close}, with the secrets made once per data dir: the
 * local S3 keys and the ingest secret that signs runner tokens.
 */
final class DataDir implements AutoCloseable {

  private final Path path;
  private final FileChannel lockChannel;
  private final FileLock lock;

  private DataDir(Path path, FileChannel lockChannel, FileLock lock) {
    this.path = path;
    this.lockChannel = lockChannel;
    this.lock = lock;
  }

  Path path() {
    return path;
  }

  /**
   * Creates the directory if needed, checks that it is writable and takes its lock; fails with a
   * {@link StartupException} naming the holder if another Anneal process has it.
   */
  static DataDir open(Path dataDir) {
    try {
      Files.createDirectories(dataDir);
      Path probe = Files.createTempFile(dataDir, ".write-probe", ".tmp");
      Files.delete(probe);
    } catch (IOException | SecurityException e) {
      throw new StartupException(
          "data dir",
          dataDir
              + " is not writable ("
              + e.getClass().getSimpleName()
              + ": "
              + e.getMessage()
              + ")",
          "fix its permissions or choose another with --data-dir or anneal.embedded.data-dir",
          e);
    }
    Path lockFile = dataDir.resolve("anneal.lock");
    try {
      FileChannel lockChannel =
          FileChannel.open(
              lockFile,
              StandardOpenOption.CREATE,
              StandardOpenOption.READ,
              StandardOpenOption.WRITE);
      FileLock lock;
      try {
        lock = lockChannel.tryLock();
      } catch (OverlappingFileLockException e) {
        lock = null; // held by another stack in this very JVM
      }
      if (lock == null) {
        String holder = new String(Files.readAllBytes(lockFile), StandardCharsets.UTF_8).trim();
        lockChannel.close();
        throw new StartupException(
            "data dir",
            dataDir
                + " is in use by another Anneal process"
                + (holder.isEmpty() ? "" : " (" + holder + ")"),
            "stop that process first, or give this one its own --data-dir",
            null);
      }
      lockChannel.truncate(0);
      lockChannel.write(
          ByteBuffer.wrap(
              ("pid " + ProcessHandle.current().pid()).getBytes(StandardCharsets.UTF_8)));
      lockChannel.force(true);
      return new DataDir(dataDir, lockChannel, lock);
    } catch (IOException e) {
      throw new StartupException(
          "data dir",
          "cannot lock " + lockFile + ": " + e.getMessage(),
          "check the file system, or choose another --data-dir",
          e);
    }
  }

  /** Local S3 keys, made once per data dir so that nothing else on the machine can guess them. */
  String[] s3Credentials() {
    Path file = path.resolve("s3-credentials.properties");
    Properties p = new Properties();
    try {
      if (Files.exists(file)) {
        try (InputStream in = Files.newInputStream(file)) {
          p.load(in);
        }
      }
      if (p.getProperty("accessKey") == null || p.getProperty("secretKey") == null) {
        SecureRandom random = new SecureRandom();
        byte[] a = new byte[10];
        byte[] s = new byte[24];
        random.nextBytes(a);
        random.nextBytes(s);
        p.setProperty("accessKey", "anneal" + HexFormat.of().formatHex(a));
        p.setProperty("secretKey", HexFormat.of().formatHex(s));
        try (OutputStream out = Files.newOutputStream(file)) {
          p.store(out, "S3 keys of the embedded object store");
        }
      }
    } catch (IOException e) {
      throw new StartupException(
          "S3",
          "cannot read or write " + file + ": " + e.getMessage(),
          "check the data dir's permissions",
          e);
    }
    return new String[] {p.getProperty("accessKey"), p.getProperty("secretKey")};
  }

  /** A random secret made once per data dir (the runners' attempt tokens are signed with it). */
  String ingestSecret() {
    Path file = path.resolve("ingest-secret");
    try {
      if (Files.exists(file)) {
        return Files.readString(file).trim();
      }
      byte[] b = new byte[32];
      new SecureRandom().nextBytes(b);
      String s = HexFormat.of().formatHex(b);
      Files.writeString(file, s);
      return s;
    } catch (IOException e) {
      throw new StartupException(
          "data dir",
          "cannot read or write " + file + ": " + e.getMessage(),
          "check the data dir's permissions",
          e);
    }
  }

  /** Releases the lock. */
  @Override
  public void close() throws IOException {
    try {
      lock.release();
    } finally {
      lockChannel.close();
    }
  }
}
