package dev.anneal.activities.store;

/** An object-store call failed; the message names the endpoint, bucket and key. */
public class ObjectStoreException extends RuntimeException {
  public ObjectStoreException(String message, Throwable cause) {
    super(message, cause);
  }
}
