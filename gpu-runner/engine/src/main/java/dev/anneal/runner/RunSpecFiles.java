package dev.anneal.runner;

import dev.anneal.protocol.ExitCode;
import dev.anneal.protocol.ObjectStoreTarget;
import dev.anneal.protocol.ProtocolException;
import dev.anneal.protocol.ProtocolJson;
import dev.anneal.protocol.RunSpec;
import dev.anneal.runner.ckpt.S3Store;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** Where the runner's commands read their RunSpec: a file or {@code s3://bucket/key}, validated. */
final class RunSpecFiles {
  private RunSpecFiles() {}

  /** A spec, or the exit code of the reason there is none (already reported on stderr). */
  record Loaded(RunSpec spec, int exit) {}

  /** Reads and validates a spec from a file or {@code s3://bucket/key}. */
  static Loaded load(String where, PrintStream err) {
    String json;
    try {
      if (where.startsWith("s3://")) {
        String rest = where.substring(5);
        int slash = rest.indexOf('/');
        String endpoint = System.getenv("ANNEAL_S3_ENDPOINT");
        if (endpoint == null || slash < 0) {
          err.println(
              "anneal-runner: reading "
                  + where
                  + " needs ANNEAL_S3_ENDPOINT and a key after the bucket");
          return new Loaded(null, ExitCode.INPUT_MISSING.code());
        }
        S3Store s3 =
            new S3Store(
                endpoint,
                System.getenv(ObjectStoreTarget.ACCESS_KEY_ENV),
                System.getenv(ObjectStoreTarget.SECRET_KEY_ENV),
                rest.substring(0, slash),
                "us-east-1");
        byte[] bytes = s3.get(rest.substring(slash + 1)).orElse(null);
        if (bytes == null) {
          err.println("anneal-runner: spec " + where + " does not exist");
          return new Loaded(null, ExitCode.INPUT_MISSING.code());
        }
        json = new String(bytes, StandardCharsets.UTF_8);
      } else {
        json = Files.readString(Path.of(where));
      }
    } catch (NoSuchFileException e) {
      err.println("anneal-runner: spec file " + where + " does not exist");
      return new Loaded(null, ExitCode.INPUT_MISSING.code());
    } catch (IOException e) {
      err.println("anneal-runner: cannot read spec " + where + ": " + e.getMessage());
      return new Loaded(null, ExitCode.INPUT_MISSING.code());
    }
    RunSpec spec;
    try {
      spec = ProtocolJson.readSpec(json);
    } catch (ProtocolException e) {
      err.println("anneal-runner: invalid spec " + where + ": " + e.getMessage());
      return new Loaded(null, ExitCode.INVALID_SPEC.code());
    }
    return new Loaded(spec, ExitCode.SUCCESS.code());
  }

  /** The spec {@code --spec} names, which a command cannot do without. */
  static Loaded required(Args a, PrintStream err) {
    String where = a.get("spec", null);
    if (where == null) {
      throw new IllegalArgumentException("--spec FILE|s3://BUCKET/KEY is required");
    }
    return load(where, err);
  }
}
