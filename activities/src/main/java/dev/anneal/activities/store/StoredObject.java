package dev.anneal.activities.store;

/** An object's key, size and the sha256 recorded in its user metadata (null if none). */
public record StoredObject(String key, long bytes, String sha256) {}
