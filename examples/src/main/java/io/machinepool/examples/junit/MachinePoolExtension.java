package io.machinepool.examples.junit;

import io.machinepool.Lease;
import io.machinepool.MachinePool;
import java.lang.reflect.Constructor;
import java.lang.reflect.Executable;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ExtensionContext.Namespace;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.platform.commons.support.AnnotationSupport;
import org.junit.platform.commons.support.HierarchyTraversalMode;
import org.junit.platform.commons.support.ReflectionSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The JUnit 5 extension behind {@link MachinePoolTest @MachinePoolTest}: locks the machines that
 * {@link LockedMachines @LockedMachines} fields and parameters ask for, injects the leases, and
 * unlocks them when their scope ends (see {@link LockedMachines} for the scopes).
 *
 * <p>Everything it holds lives in JUnit's {@link ExtensionContext.Store}: each lease in the store
 * of the class or test it belongs to, closed (unlocked) when that class or test is done, whether it
 * passed, failed or threw, and also when a later field of the same scope could not be locked; the
 * pool of each {@link PoolProvider} in the store of the test run, created once even when tests run
 * in parallel, and closed when the run ends. All checks of the declarations of a test class run
 * before anything is locked for it.
 *
 * <p>Use it through {@link MachinePoolTest @MachinePoolTest};
 * {@code @ExtendWith(MachinePoolExtension.class)} alone uses the {@link DefaultPoolProvider}.
 */
public final class MachinePoolExtension
    implements BeforeAllCallback, BeforeEachCallback, ParameterResolver {
  private static final Logger log = LoggerFactory.getLogger(MachinePoolExtension.class);
  private static final Namespace NAMESPACE = Namespace.create(MachinePoolExtension.class);

  /** Creates the extension; JUnit does. */
  public MachinePoolExtension() {}

  /**
   * Checks every {@code @LockedMachines} field of the test class, then locks the machines of the
   * static ones and injects them.
   *
   * @param context the class's context
   */
  @Override
  public void beforeAll(ExtensionContext context) {
    for (FieldDeclaration field : fields(context.getRequiredTestClass())) {
      if (field.isStatic()) {
        field.inject(context, null);
      }
    }
  }

  /**
   * Locks the machines of the {@code @LockedMachines} instance fields and injects them, for each
   * test instance (the outer ones of a {@code @Nested} test too).
   *
   * @param context the test's context
   */
  @Override
  public void beforeEach(ExtensionContext context) {
    for (Object instance : context.getRequiredTestInstances().getAllInstances()) {
      for (FieldDeclaration field : fields(instance.getClass())) {
        if (!field.isStatic()) {
          field.inject(context, instance);
        }
      }
    }
  }

  /**
   * Whether a parameter asks for machines.
   *
   * @param parameter the parameter
   * @param context the context it is resolved in
   * @return {@code true} when it is annotated {@code @LockedMachines}
   */
  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    return parameter.isAnnotated(LockedMachines.class);
  }

  /**
   * Locks the machines a parameter asks for, for as long as the test method (for a parameter of a
   * {@code @BeforeAll} or {@code @AfterAll} method: the class) runs.
   *
   * @param parameter the parameter
   * @param context the context it is resolved in
   * @return the lease, its machines, its machine or its targets
   * @throws ParameterResolutionException when the declaration is wrong
   */
  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    Executable executable = parameter.getDeclaringExecutable();
    String where =
        "parameter "
            + (parameter.getIndex() + 1)
            + " of "
            + name(executable.getDeclaringClass())
            + (executable instanceof Constructor ? "'s constructor" : "#" + executable.getName());
    if (executable instanceof Constructor) {
      throw new ParameterResolutionException(
          "@LockedMachines "
              + where
              + " cannot be injected: annotate a field instead (static for one lease per class,"
              + " an instance field for one per test) or a parameter of a test or lifecycle method");
    }
    LeaseDeclaration declaration =
        LeaseDeclaration.of(
            parameter.findAnnotation(LockedMachines.class).orElseThrow(),
            parameter.getParameter().getParameterizedType(),
            where,
            ParameterResolutionException::new);
    return declaration.valueFor(lock(context, declaration));
  }

  /** Checks every annotated field of a class and its superclasses, static and instance. */
  private static List<FieldDeclaration> fields(Class<?> type) {
    List<FieldDeclaration> declared = new ArrayList<>();
    for (Field field :
        AnnotationSupport.findAnnotatedFields(
            type, LockedMachines.class, f -> true, HierarchyTraversalMode.TOP_DOWN)) {
      declared.add(FieldDeclaration.of(field));
    }
    return declared;
  }

  /**
   * Locks what a declaration asks for and puts the lease into the context's store, which unlocks it
   * when the context is closed. The lease is returned only once it is held in full.
   */
  private static Lease lock(ExtensionContext context, LeaseDeclaration declaration) {
    MachinePool pool = pool(context);
    Lease lease = pool.lock(declaration.request(description(context)));
    context.getStore(NAMESPACE).put(new LeaseKey(lease.token()), new HeldLease(lease));
    log.debug("{} holds {} for {}", declaration.where(), lease.names(), context.getUniqueId());
    return lease;
  }

  /** The pool of the test's provider, opened once per test run. */
  private static MachinePool pool(ExtensionContext context) {
    Class<? extends PoolProvider> provider = providerOf(context);
    ExtensionContext run = context.getRoot();
    return run.getStore(NAMESPACE)
        .getOrComputeIfAbsent(
            new PoolKey(provider), key -> SharedPool.open(provider, run), SharedPool.class)
        .pool();
  }

  /** The provider of the nearest {@code @MachinePoolTest}, looking out from a nested class. */
  private static Class<? extends PoolProvider> providerOf(ExtensionContext context) {
    Class<?> type = context.getTestClass().orElse(null);
    while (type != null) {
      Optional<MachinePoolTest> annotation =
          AnnotationSupport.findAnnotation(type, MachinePoolTest.class);
      if (annotation.isPresent()) {
        return annotation.get().pool();
      }
      boolean inner = type.getEnclosingClass() != null && !Modifier.isStatic(type.getModifiers());
      type = inner ? type.getEnclosingClass() : null;
    }
    return DefaultPoolProvider.class;
  }

  /** The default description: {@code Class} for the class, {@code Class#method} for a test. */
  private static String description(ExtensionContext context) {
    return name(context.getRequiredTestClass())
        + context.getTestMethod().map(method -> "#" + method.getName()).orElse("");
  }

  /** A class's name without its package, nested classes as {@code Outer.Inner}. */
  static String name(Class<?> type) {
    String name = type.getCanonicalName() != null ? type.getCanonicalName() : type.getName();
    String pkg = type.getPackageName();
    return pkg.isEmpty() ? name : name.substring(pkg.length() + 1);
  }

  /** An annotated field, checked. */
  private record FieldDeclaration(Field field, LeaseDeclaration declaration) {
    static FieldDeclaration of(Field field) {
      String where = "field " + name(field.getDeclaringClass()) + "." + field.getName();
      if (Modifier.isFinal(field.getModifiers())) {
        throw new ExtensionConfigurationException(
            "@LockedMachines "
                + where
                + " is final; remove final so that the lease can be injected");
      }
      LeaseDeclaration declaration =
          LeaseDeclaration.of(
              field.getAnnotation(LockedMachines.class),
              field.getGenericType(),
              where,
              ExtensionConfigurationException::new);
      try {
        field.setAccessible(true);
      } catch (RuntimeException e) {
        throw new ExtensionConfigurationException(
            "@LockedMachines " + where + " cannot be made accessible: " + e.getMessage(), e);
      }
      return new FieldDeclaration(field, declaration);
    }

    boolean isStatic() {
      return Modifier.isStatic(field.getModifiers());
    }

    void inject(ExtensionContext context, Object target) {
      Lease lease = lock(context, declaration);
      try {
        field.set(target, declaration.valueFor(lease));
      } catch (IllegalAccessException e) {
        throw new ExtensionConfigurationException(
            "@LockedMachines " + declaration.where() + " could not be set: " + e.getMessage(), e);
      }
    }
  }

  /** The store key of a lease. */
  private record LeaseKey(String token) {}

  /** The store key of the pool of a provider. */
  private record PoolKey(Class<? extends PoolProvider> provider) {}

  /**
   * A lease in a store, unlocked when the store's context is closed. It is both {@link
   * AutoCloseable}, which JUnit 5.13 and later close, and a {@link
   * ExtensionContext.Store.CloseableResource}, which they close when closing {@code AutoCloseable}
   * values is turned off; JUnit closes such a value once.
   */
  @SuppressWarnings("deprecation")
  private record HeldLease(Lease lease)
      implements AutoCloseable, ExtensionContext.Store.CloseableResource {
    @Override
    public void close() {
      lease.close();
    }
  }

  /**
   * The pool of one provider for the test run, or why it could not be opened: each test that needs
   * it then fails with that reason, and the provider is not asked again.
   */
  @SuppressWarnings("deprecation")
  private static final class SharedPool
      implements AutoCloseable, ExtensionContext.Store.CloseableResource {
    private final Class<? extends PoolProvider> type;
    private final PoolProvider provider;
    private final MachinePool pool;
    private final Exception failure;

    private SharedPool(
        Class<? extends PoolProvider> type,
        PoolProvider provider,
        MachinePool pool,
        Exception failure) {
      this.type = type;
      this.provider = provider;
      this.pool = pool;
      this.failure = failure;
    }

    static SharedPool open(Class<? extends PoolProvider> type, ExtensionContext run) {
      PoolProvider provider;
      try {
        provider = ReflectionSupport.newInstance(type);
      } catch (RuntimeException e) {
        return new SharedPool(type, null, null, e);
      }
      try {
        MachinePool pool = provider.open(run);
        if (pool == null) {
          throw new IllegalStateException(type.getName() + ".open returned null");
        }
        log.debug("opened the pool of {}", type.getName());
        return new SharedPool(type, provider, pool, null);
      } catch (Exception e) {
        try {
          provider.close();
        } catch (Exception cleanup) {
          e.addSuppressed(cleanup);
        }
        return new SharedPool(type, null, null, e);
      }
    }

    MachinePool pool() {
      if (failure != null) {
        throw new ExtensionConfigurationException(
            "the pool of "
                + type.getName()
                + " could not be opened, so no machines can be locked: "
                + failure,
            failure);
      }
      return pool;
    }

    /** Closes the pool, which releases its open leases, then the provider. */
    @Override
    public void close() {
      if (pool == null) {
        return;
      }
      try {
        pool.close();
      } finally {
        try {
          provider.close();
        } catch (RuntimeException e) {
          throw e;
        } catch (Exception e) {
          throw new IllegalStateException("closing " + type.getName() + " failed: " + e, e);
        }
      }
    }
  }
}
