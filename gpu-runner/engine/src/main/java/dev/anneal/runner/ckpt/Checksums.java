package dev.anneal.runner.ckpt;

import dev.anneal.protocol.Sha256;

/** SHA-256 of byte arrays, as lower-case hex (what manifests and dataset records hold). */
public final class Checksums {
  private Checksums() {}

  public static String sha256(byte[] data) {
    return Sha256.hex(data);
  }
}
