package dev.anneal.runner.ckpt;

/** A checkpoint is missing, incomplete or corrupt; the message names the file. */
public class CheckpointException extends RuntimeException {
  public CheckpointException(String message) {
    super(message);
  }
}
