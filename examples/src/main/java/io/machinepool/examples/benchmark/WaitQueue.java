package io.machinepool.examples.benchmark;

import io.machinepool.LockRequest;
import io.machinepool.MachinePool;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * What the starvation benchmark needs of a library that may or may not have a queue of waiting lock
 * requests and request priorities, found by reflection, so that the benchmark compiles and runs on
 * both: {@code MachinePool.waiters()} (a list of records with {@code position()}, 1 for the head,
 * and {@code owner()}) and {@code LockRequest.Builder.priority(int)}.
 */
public final class WaitQueue {
  private WaitQueue() {}

  /**
   * One waiting request, as far as the benchmark looks at it.
   *
   * @param position its place in the queue: 1 for the one served first
   * @param owner who asked
   */
  public record Entry(int position, String owner) {}

  /**
   * A reader of a pool's queue through {@code pool.waiters()}, where the library has that method.
   *
   * @param pool the pool to ask
   * @return the reader, or empty when {@code MachinePool} has no {@code waiters()}
   */
  public static Optional<Supplier<List<Entry>>> reflective(MachinePool pool) {
    Method waiters;
    try {
      waiters = MachinePool.class.getMethod("waiters");
    } catch (NoSuchMethodException e) {
      return Optional.empty();
    }
    return Optional.of(
        () -> {
          List<Entry> entries = new ArrayList<>();
          for (Object waiter : (List<?>) invoke(waiters, pool)) {
            Class<?> type = waiter.getClass();
            entries.add(
                new Entry(
                    (Integer) invoke(accessor(type, "position"), waiter),
                    (String) invoke(accessor(type, "owner"), waiter)));
          }
          return entries;
        });
  }

  /**
   * Whether the library's requests have a priority.
   *
   * @return {@code true} when {@code LockRequest.Builder} has {@code priority(int)}
   */
  public static boolean hasPriority() {
    try {
      LockRequest.Builder.class.getMethod("priority", int.class);
      return true;
    } catch (NoSuchMethodException e) {
      return false;
    }
  }

  /**
   * Sets a request's priority, where the library has priorities.
   *
   * @param builder the request being built
   * @param priority its priority
   * @return the builder
   * @throws IllegalStateException when {@code LockRequest.Builder} has no {@code priority(int)}
   */
  public static LockRequest.Builder priority(LockRequest.Builder builder, int priority) {
    Method method;
    try {
      method = LockRequest.Builder.class.getMethod("priority", int.class);
    } catch (NoSuchMethodException e) {
      throw new IllegalStateException(
          "a priority was asked for, but this machinepool's LockRequest.Builder has no"
              + " priority(int)",
          e);
    }
    invoke(method, builder, priority);
    return builder;
  }

  private static Method accessor(Class<?> type, String name) {
    try {
      return type.getMethod(name);
    } catch (NoSuchMethodException e) {
      throw new IllegalStateException(type.getName() + " has no " + name + "()", e);
    }
  }

  private static Object invoke(Method method, Object target, Object... args) {
    try {
      return method.invoke(target, args);
    } catch (InvocationTargetException e) {
      if (e.getCause() instanceof RuntimeException runtime) {
        throw runtime;
      }
      throw new IllegalStateException(method + " failed", e.getCause());
    } catch (IllegalAccessException e) {
      throw new IllegalStateException("cannot call " + method, e);
    }
  }
}
