package io.machinepool.junit5;

import io.machinepool.Lease;
import io.machinepool.MachinePool;
import java.lang.reflect.Constructor;
import java.lang.reflect.Executable;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ExtensionContext.Namespace;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.jupiter.api.extension.TestInstances;
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
 * lease of a static field in the store of the test run, with one use of it in the store of each
 * class running with it, the last of which unlocks it; the pool of each {@link PoolProvider} in the
 * store of the test run, created once even when tests run in parallel, and closed when the run
 * ends. All checks of the declarations of a test class run before anything is locked for it.
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
   * static ones (or joins the lease another class running now holds for the same field) and injects
   * them; under {@link TestInstance.Lifecycle#PER_CLASS} also those of the instance fields of the
   * class's one test instance.
   *
   * @param context the class's context
   */
  @Override
  public void beforeAll(ExtensionContext context) {
    List<FieldDeclaration> fields = fields(context.getRequiredTestClass());
    boolean perClass =
        context.getTestInstanceLifecycle().orElse(TestInstance.Lifecycle.PER_METHOD)
            == TestInstance.Lifecycle.PER_CLASS;
    List<Object> instances =
        perClass
            ? context.getTestInstances().map(TestInstances::getAllInstances).orElse(List.of())
            : List.of();
    Map<Object, List<FieldDeclaration>> instanceFields = new LinkedHashMap<>();
    for (Object instance : instances) {
      if (!isClassScoped(context, instance)) {
        instanceFields.put(instance, fields(instance.getClass())); // checked before any lock
      }
    }
    for (FieldDeclaration field : fields) {
      if (field.isStatic()) {
        shareStatic(context, field);
      }
    }
    instanceFields.forEach(
        (instance, declared) -> {
          context.getStore(NAMESPACE).put(new InstanceKey(instance), instance);
          for (FieldDeclaration field : declared) {
            if (!field.isStatic()) {
              field.inject(context, instance);
            }
          }
        });
  }

  /**
   * Locks the machines of the {@code @LockedMachines} instance fields and injects them, for each
   * test instance (the outer ones of a {@code @Nested} test too) that was not created for the whole
   * class ({@link TestInstance.Lifecycle#PER_CLASS}): those got their leases in {@link
   * #beforeAll(ExtensionContext)}.
   *
   * @param context the test's context
   */
  @Override
  public void beforeEach(ExtensionContext context) {
    for (Object instance : context.getRequiredTestInstances().getAllInstances()) {
      if (isClassScoped(context, instance)) {
        continue;
      }
      for (FieldDeclaration field : fields(instance.getClass())) {
        if (!field.isStatic()) {
          field.inject(context, instance);
        }
      }
    }
  }

  /** Whether an instance's fields got leases for a whole class, in this context or an outer one. */
  private static boolean isClassScoped(ExtensionContext context, Object instance) {
    return context.getStore(NAMESPACE).get(new InstanceKey(instance)) != null;
  }

  /**
   * Gives a class running now the lease of a static field: the one that another class using the
   * same field (a subclass of the class that declares it) holds now, else a new one; the class's
   * store lets go of it when the class is done, and the last class to let go unlocks it.
   */
  private static void shareStatic(ExtensionContext context, FieldDeclaration field) {
    StaticLease shared =
        context
            .getRoot()
            .getStore(NAMESPACE)
            .getOrComputeIfAbsent(
                new StaticKey(field.field()), key -> new StaticLease(field), StaticLease.class);
    shared.join(context);
    context.getStore(NAMESPACE).put(new StaticUseKey(field.field()), new StaticUse(shared));
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
      set(target, lock(context, declaration));
    }

    void set(Object target, Lease lease) {
      try {
        field.set(target, declaration.valueFor(lease));
      } catch (IllegalAccessException e) {
        throw new ExtensionConfigurationException(
            "@LockedMachines " + declaration.where() + " could not be set: " + e.getMessage(), e);
      }
    }
  }

  /** The store key marking a test instance whose instance fields hold leases for its class. */
  private static final class InstanceKey {
    private final Object instance;

    InstanceKey(Object instance) {
      this.instance = instance;
    }

    @Override
    public boolean equals(Object other) {
      return other instanceof InstanceKey key && key.instance == instance;
    }

    @Override
    public int hashCode() {
      return System.identityHashCode(instance);
    }
  }

  /** The run's store key of the lease of a static field. */
  private record StaticKey(Field field) {}

  /** A class's store key of its use of the lease of a static field. */
  private record StaticUseKey(Field field) {}

  /**
   * The lease of one static field, shared by the classes using it at the same time: locked when the
   * first of them starts, unlocked when the last of them is done. Its description names the class
   * that declares the field.
   */
  private static final class StaticLease {
    private final FieldDeclaration field;
    private Lease lease;
    private int users;

    StaticLease(FieldDeclaration field) {
      this.field = field;
    }

    /** Locks, unless a class running now holds the lease already, and sets the field. */
    synchronized void join(ExtensionContext context) {
      if (users == 0) {
        Lease locked =
            pool(context)
                .lock(field.declaration().request(name(field.field().getDeclaringClass())));
        try {
          field.set(null, locked);
        } catch (RuntimeException e) {
          locked.close();
          throw e;
        }
        lease = locked;
        log.debug("{} holds {}", field.declaration().where(), locked.names());
      } else {
        log.debug(
            "{} shares {} with {} other class(es)",
            field.declaration().where(),
            lease.names(),
            users);
      }
      users++;
    }

    /** Lets go of the lease; the last user unlocks it. */
    synchronized void leave() {
      users--;
      if (users == 0) {
        Lease held = lease;
        lease = null;
        held.close();
      }
    }
  }

  /** One class's use of a static field's lease, let go of when the class's store is closed. */
  @SuppressWarnings("deprecation")
  private record StaticUse(StaticLease shared)
      implements AutoCloseable, ExtensionContext.Store.CloseableResource {
    @Override
    public void close() {
      shared.leave();
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
