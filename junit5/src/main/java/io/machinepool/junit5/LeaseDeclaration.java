package io.machinepool.junit5;

import io.machinepool.InvalidRequestException;
import io.machinepool.Lease;
import io.machinepool.LockRequest;
import io.machinepool.Machine;
import io.machinepool.Targets;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.time.Duration;
import java.util.List;
import java.util.function.BiFunction;

/**
 * One {@link LockedMachines @LockedMachines} field or parameter, checked: what to lock, and what to
 * inject once the lease is held. Every check runs before anything is locked.
 */
final class LeaseDeclaration {
  /** The longest {@link LockedMachines#waitUpTo()}: a day. */
  static final long MAX_WAIT_SECONDS = 86_400;

  private static final String TYPES = "Lease, List<Machine>, Machine (for one machine) or Targets";

  /** What a field or parameter receives. */
  enum Kind {
    LEASE,
    MACHINES,
    MACHINE,
    TARGETS;

    Object from(Lease lease) {
      return switch (this) {
        case LEASE -> lease;
        case MACHINES -> lease.machines();
        case MACHINE -> lease.machines().get(0);
        case TARGETS -> lease.targets();
      };
    }
  }

  private final String where;
  private final LockedMachines spec;
  private final Kind kind;
  private final BiFunction<String, Throwable, ? extends RuntimeException> failure;

  private LeaseDeclaration(
      String where,
      LockedMachines spec,
      Kind kind,
      BiFunction<String, Throwable, ? extends RuntimeException> failure) {
    this.where = where;
    this.spec = spec;
    this.kind = kind;
    this.failure = failure;
  }

  /**
   * Checks a declaration.
   *
   * @param spec the annotation
   * @param type the declared type of the field or parameter
   * @param where what to call it in messages, e.g. {@code field SuiteTest.cluster}
   * @param failure makes the exception to throw from a message and a cause (or {@code null})
   * @return the checked declaration
   */
  static LeaseDeclaration of(
      LockedMachines spec,
      Type type,
      String where,
      BiFunction<String, Throwable, ? extends RuntimeException> failure) {
    String prefix = "@LockedMachines " + where;
    Kind kind = kind(type);
    if (kind == null) {
      String declared = type.getTypeName().replaceAll("\\b[a-z][\\w]*\\.", "");
      throw fail(
          failure,
          type == List.class
              ? prefix + " is a raw List; declare it as List<Machine>"
              : prefix
                  + " has type "
                  + declared
                  + ", which cannot receive a lease; declare it as "
                  + TYPES);
    }
    if (spec.names().length > 0 && spec.machineType().length > 0) {
      throw fail(
          failure,
          prefix
              + " gives both names and machineType; lock either named machines (names = ...) or"
              + " a number of a machine type (machineType = ..., count = ...)");
    }
    if (spec.names().length == 0 && spec.machineType().length == 0) {
      throw fail(
          failure,
          prefix
              + " says neither what machine type nor which machines to lock; add machineType ="
              + " \"smithi\" (and count = N), or names = {\"smithi001...\"}");
    }
    if (spec.count() < 1) {
      throw fail(failure, prefix + " has count = " + spec.count() + "; count must be at least 1");
    }
    if (spec.names().length > 0 && spec.count() != 1) {
      throw fail(
          failure,
          prefix
              + " names "
              + spec.names().length
              + " machines and gives count = "
              + spec.count()
              + "; leave count out when naming machines");
    }
    int machines = spec.names().length > 0 ? spec.names().length : spec.count();
    if (kind == Kind.MACHINE && machines != 1) {
      throw fail(
          failure,
          prefix
              + " is a Machine but asks for "
              + machines
              + " machines; declare it as List<Machine> or Lease, or ask for one machine");
    }
    if (!spec.osVersion().isEmpty() && spec.os().isEmpty()) {
      throw fail(
          failure,
          prefix
              + " gives osVersion = \""
              + spec.osVersion()
              + "\" without os; add os = \"ubuntu\" (say)");
    }
    if (spec.waitUpTo() < 0 || spec.waitUpTo() > MAX_WAIT_SECONDS) {
      throw fail(
          failure,
          prefix
              + " has waitUpTo = "
              + spec.waitUpTo()
              + "; give 0 (fail at once) to "
              + MAX_WAIT_SECONDS
              + " seconds");
    }
    LeaseDeclaration declaration = new LeaseDeclaration(where, spec, kind, failure);
    declaration.request("check"); // the rules of LockRequest, before anything is locked
    return declaration;
  }

  private static RuntimeException fail(
      BiFunction<String, Throwable, ? extends RuntimeException> failure, String message) {
    return failure.apply(message, null);
  }

  private static Kind kind(Type type) {
    if (type == Lease.class) {
      return Kind.LEASE;
    }
    if (type == Machine.class) {
      return Kind.MACHINE;
    }
    if (type == Targets.class) {
      return Kind.TARGETS;
    }
    if (type instanceof ParameterizedType p
        && p.getRawType() == List.class
        && p.getActualTypeArguments()[0] == Machine.class) {
      return Kind.MACHINES;
    }
    return null;
  }

  /**
   * The request to lock.
   *
   * @param defaultDescription the description when the annotation gives none
   * @return the request
   */
  LockRequest request(String defaultDescription) {
    LockRequest.Builder builder =
        LockRequest.builder()
            .description(spec.description().isEmpty() ? defaultDescription : spec.description())
            .waitUpTo(Duration.ofSeconds(spec.waitUpTo()));
    if (!spec.owner().isEmpty()) {
      builder.owner(spec.owner());
    }
    if (spec.names().length > 0) {
      builder.names(spec.names());
    } else {
      builder.machineTypes(spec.machineType()).count(spec.count());
    }
    if (!spec.os().isEmpty()) {
      builder.os(spec.os(), spec.osVersion().isEmpty() ? null : spec.osVersion());
    }
    if (!spec.arch().isEmpty()) {
      builder.arch(spec.arch());
    }
    try {
      return builder.build();
    } catch (InvalidRequestException e) {
      throw failure.apply("@LockedMachines " + where + ": " + e.getMessage(), e);
    }
  }

  /** What the field or parameter receives from a lease. */
  Object valueFor(Lease lease) {
    return kind.from(lease);
  }

  /** E.g. {@code field SuiteTest.cluster}. */
  String where() {
    return where;
  }
}
