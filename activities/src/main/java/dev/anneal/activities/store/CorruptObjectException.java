package dev.anneal.activities.store;

/** An object's bytes do not match the sha256 recorded when it was written. */
public class CorruptObjectException extends ObjectStoreException {
  public CorruptObjectException(String message) {
    super(message, null);
  }
}
