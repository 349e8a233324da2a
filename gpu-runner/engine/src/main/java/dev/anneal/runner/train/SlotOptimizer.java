package dev.anneal.runner.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What every optimizer here shares: its own manager for state tensors, the update count, and state
 * kept as named slots per parameter ({@code <param>.<slot>} in checkpoints, one slot after the
 * other), so saving and restoring is written once and a checkpoint with a tensor no slot claims is
 * refused by name.
 */
abstract class SlotOptimizer implements Optimizer {

  final NDManager manager;
  private final Map<String, Map<String, NDArray>> slots = new LinkedHashMap<>();
  private long t;

  SlotOptimizer(NDManager parent, List<String> slotNames) {
    this.manager = parent.newSubManager();
    for (String s : slotNames) slots.put(s, new LinkedHashMap<>());
  }

  /** Counts an update and returns its number, from 1. */
  final long nextStep() {
    return ++t;
  }

  /** The slot's tensor for a parameter, zeros of {@code shape} like {@code p} the first time. */
  final NDArray slot(String slot, String param, NDArray p, Shape shape) {
    return slots
        .get(slot)
        .computeIfAbsent(param, k -> manager.zeros(shape, p.getDataType(), p.getDevice()));
  }

  /** The slot's tensor for a parameter, zeros like {@code p} the first time. */
  final NDArray slot(String slot, String param, NDArray p) {
    return slot(slot, param, p, p.getShape());
  }

  @Override
  public final long steps() {
    return t;
  }

  @Override
  public final Map<String, NDArray> state() {
    Map<String, NDArray> s = new LinkedHashMap<>();
    slots.forEach((slot, byParam) -> byParam.forEach((p, a) -> s.put(p + "." + slot, a)));
    return s;
  }

  @Override
  public final void load(Map<String, NDArray> state, long steps) {
    state.forEach(
        (k, a) -> {
          int dot = k.lastIndexOf('.');
          Map<String, NDArray> byParam = dot < 0 ? null : slots.get(k.substring(dot + 1));
          if (byParam == null) {
            throw new IllegalArgumentException(
                "optimizer state: unexpected tensor " + k + " (slots: " + slots.keySet() + ")");
          }
          NDArray copy = a.duplicate();
          copy.attach(manager);
          byParam.put(k.substring(0, dot), copy);
        });
    this.t = steps;
  }

  @Override
  public final void close() {
    manager.close();
  }
}
