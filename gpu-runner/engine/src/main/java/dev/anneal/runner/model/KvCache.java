package dev.anneal.runner.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;

/**
 * Per layer, the rotated keys and the values seen so far, in buffers of {@code [B, kvHeads,
 * capacity, headDim]} allocated once in the generation's manager and written in place, so a new
 * token costs no copy of what is cached.
 */
public final class KvCache {
  private final NDArray[] keys;
  private final NDArray[] values;
  private final NDManager manager;
  private final int capacity;
  private long length;

  public KvCache(int layers, NDManager manager, int capacity) {
    this.keys = new NDArray[layers];
    this.values = new NDArray[layers];
    this.manager = manager;
    this.capacity = capacity;
  }

  public long length() {
    return length;
  }

  /** Marks the {@code t} positions just written by every layer as part of the cache. */
  public void advance(long t) {
    length += t;
  }

  /** Writes this step's keys and values after the cached ones; returns the views so far. */
  NDArray[] append(int layer, NDArray k, NDArray v) {
    long t = k.getShape().get(2);
    if (length + t > capacity) {
      throw new IllegalStateException(
          "KV cache of " + capacity + " positions is full (" + length + " + " + t + ")");
    }
    if (keys[layer] == null) {
      Shape s = new Shape(k.getShape().get(0), k.getShape().get(1), capacity, k.getShape().get(3));
      keys[layer] = manager.zeros(s, k.getDataType());
      values[layer] = manager.zeros(s, v.getDataType());
    }
    NDIndex slot = new NDIndex(":, :, {}:{}, :", length, length + t);
    keys[layer].set(slot, k);
    values[layer].set(slot, v);
    NDIndex seen = new NDIndex(":, :, :{}, :", length + t);
    return new NDArray[] {keys[layer].get(seen), values[layer].get(seen)};
  }
}
