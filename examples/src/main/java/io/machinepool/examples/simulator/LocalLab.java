package io.machinepool.examples.simulator;

import io.machinepool.MachineSpec;
import io.machinepool.config.TeuthologyConfig;
import io.machinepool.downburst.DownburstProvisioner;
import io.machinepool.downburst.LibvirtAliases;
import io.machinepool.examples.support.Directories;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.config.keys.writer.openssh.OpenSSHKeyPairResourceWriter;
import org.apache.sshd.common.keyprovider.KeyPairProvider;
import org.apache.sshd.common.util.security.SecurityUtils;

/**
 * A test lab on this machine, for the quickstart and for tests: VM hosts with VM slots, and a
 * stand-in for {@code downburst} ({@link #downburst()}) whose {@code create} starts a real SSH
 * server for the VM on a loopback port with fresh host keys, and whose {@code destroy} stops it. A
 * {@code DownburstProvisioner} runs it exactly as it runs the real tool.
 *
 * <pre>{@code
 * try (LocalLab lab = LocalLab.builder()
 *         .vmHost("mira001", "vpm011", "vpm012")
 *         .vmHost("mira002", "vpm021")
 *         .build();
 *     MachinePool pool = MachinePool.builder()
 *         .dataSource(ds)
 *         .provisioner(lab.provisioner())
 *         .hostKeyScanner(JschHostKeyScanner.builder().hostAddress(lab::address).build())
 *         .build()) {
 *   pool.inventory().addAll(lab.inventory());
 *   ...
 * }
 * }</pre>
 *
 * <p>Every VM runs in a JVM of its own and stops when it is destroyed, when the lab is {@linkplain
 * #close() closed}, or when the process that built the lab exits (even when it is killed), so no
 * process outlives the lab. Names without a dot are completed with the lab domain. Thread-safe.
 */
public final class LocalLab implements AutoCloseable {
  /** The user that logs in to the VMs, as on teuthology's VMs. */
  public static final String USER = "ubuntu";

  /** The address every VM listens on. */
  public static final String ADDRESS = "127.0.0.1";

  private final LabDirectory dir;
  private final boolean ownsDirectory;
  private final LabDirectory.Lab lab;
  private final String hostMachineType;
  private final String vmMachineType;
  private final TeuthologyConfig config;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final Thread shutdownHook;

  private LocalLab(Builder b, LabDirectory dir, LabDirectory.Lab lab) {
    this.dir = dir;
    this.ownsDirectory = b.directory == null;
    this.lab = lab;
    this.hostMachineType = b.hostMachineType;
    this.vmMachineType = b.vmMachineType;
    this.config = TeuthologyConfig.load(dir.teuthologyConfig());
    this.shutdownHook = new Thread(this::close, "machinepool-lab-shutdown");
    Runtime.getRuntime().addShutdownHook(shutdownHook);
  }

  /**
   * Starts describing a lab.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /** The lab's state directory. */
  public Path directory() {
    return dir.root();
  }

  /** The simulated {@code downburst} executable. */
  public Path downburst() {
    return dir.launcher();
  }

  /** A {@code libvirt.conf} with a URI alias for every VM host. */
  public Path libvirtConfig() {
    return dir.libvirtConfig();
  }

  /**
   * A teuthology config file for tools such as the command-line tool: the lab domain, {@code
   * downburst}, {@code ssh_key}, and in {@code machine_pool} the {@code --nokey} create argument
   * and this lab's {@code libvirt.conf}.
   */
  public Path teuthologyConfigFile() {
    return dir.teuthologyConfig();
  }

  /** The teuthology config of {@link #teuthologyConfigFile()}. */
  public TeuthologyConfig teuthologyConfig() {
    return config;
  }

  /** The private key user {@value #USER} logs in to every VM with (OpenSSH format). */
  public Path clientKey() {
    return dir.clientKey();
  }

  /** The VM hosts' full names, sorted. */
  public List<String> vmHosts() {
    return lab.hosts().stream().map(this::fullName).toList();
  }

  /** The VM slots' full names, sorted. */
  public List<String> vmSlots() {
    return lab.slots().stream().map(LabDirectory.Slot::name).toList();
  }

  /**
   * The machines to add to a pool's inventory: every VM host (a physical machine of the host
   * machine type, marked down so that it is never handed out) and every VM slot (with its MAC
   * address and SSH port).
   *
   * @return the specs, VM hosts first
   */
  public List<MachineSpec> inventory() {
    List<MachineSpec> specs = new ArrayList<>();
    for (String host : vmHosts()) {
      specs.add(MachineSpec.physical(host, hostMachineType).withUp(false));
    }
    for (LabDirectory.Slot slot : lab.slots()) {
      specs.add(
          MachineSpec.vm(slot.name(), vmMachineType, fullName(slot.host()))
              .withMacAddress(slot.mac())
              .withSshPort(slot.port()));
    }
    return specs;
  }

  /**
   * Where a machine of this lab is reached: {@value #ADDRESS} for its VM slots, the name itself for
   * anything else.
   *
   * @param machineName a full or short name
   * @return the address to connect to
   */
  public String address(String machineName) {
    String shortName = LabDirectory.shortName(machineName);
    return lab.slot(shortName).isPresent() ? ADDRESS : machineName;
  }

  /**
   * A downburst provisioner for this lab: its {@link #teuthologyConfig()} (the simulated {@code
   * downburst}, its {@code libvirt.conf}, and {@code --nokey}, which the simulator needs as the
   * real tool does without network access), with short timeouts and pauses.
   *
   * @return the provisioner
   */
  public DownburstProvisioner provisioner() {
    return DownburstProvisioner.builder()
        .config(config)
        .createTimeout(Duration.ofMinutes(2))
        .destroyTimeout(Duration.ofMinutes(1))
        .retryPause(Duration.ofMillis(500))
        .build();
  }

  /** The full names of the VMs whose SSH server process runs now, sorted. */
  public List<String> runningVms() {
    List<String> running = new ArrayList<>();
    for (String vm : dir.existingVms()) {
      boolean alive =
          dir.pid(vm)
              .flatMap(ProcessHandle::of)
              .filter(p -> p.isAlive() && SimulatedVm.isVmOf(p, dir))
              .isPresent();
      if (alive) {
        running.add(lab.slot(vm).map(LabDirectory.Slot::name).orElse(vm));
      }
    }
    return running;
  }

  /**
   * Stops every VM and, when the lab made its own directory, deletes it. Idempotent; also runs at
   * JVM exit.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    for (String vm : dir.existingVms()) {
      dir.pid(vm).ifPresent(pid -> SimulatedVm.stop(pid, dir));
      Directories.deleteTree(dir.vm(vm));
    }
    if (ownsDirectory) {
      Directories.deleteTree(dir.root());
    }
    if (Thread.currentThread() != shutdownHook) {
      try {
        Runtime.getRuntime().removeShutdownHook(shutdownHook);
      } catch (IllegalStateException e) {
        // the JVM is shutting down: the hook runs or has run
      }
    }
  }

  private String fullName(String name) {
    return name.contains(".") ? name : name + "." + lab.labDomain();
  }

  @Override
  public String toString() {
    return "LocalLab[" + dir.root() + ", " + vmSlots().size() + " VM slots]";
  }

  /** Describes a {@link LocalLab}. */
  public static final class Builder {
    private Path directory;
    private String labDomain = "front.sepia.ceph.com";
    private String hostMachineType = "mira";
    private String vmMachineType = "vps";
    private final Map<String, List<String>> hosts = new LinkedHashMap<>();

    private Builder() {}

    /**
     * Where the lab keeps its state (default: a new temporary directory, deleted on close).
     *
     * @param value an existing or new directory; kept on close
     * @return this builder
     */
    public Builder directory(Path value) {
      this.directory = value;
      return this;
    }

    /**
     * The domain that completes short names (default {@code front.sepia.ceph.com}).
     *
     * @param value the domain
     * @return this builder
     */
    public Builder labDomain(String value) {
      this.labDomain = value;
      return this;
    }

    /**
     * The machine type of the VM hosts (default {@code mira}).
     *
     * @param value the type
     * @return this builder
     */
    public Builder hostMachineType(String value) {
      this.hostMachineType = value;
      return this;
    }

    /**
     * The machine type of the VM slots (default {@code vps}).
     *
     * @param value the type
     * @return this builder
     */
    public Builder vmMachineType(String value) {
      this.vmMachineType = value;
      return this;
    }

    /**
     * Adds a VM host with its VM slots.
     *
     * @param host the VM host's name, e.g. {@code mira001}
     * @param vms its VM slots' names, e.g. {@code vpm011}
     * @return this builder
     */
    public Builder vmHost(String host, String... vms) {
      hosts.computeIfAbsent(host, h -> new ArrayList<>()).addAll(List.of(vms));
      return this;
    }

    /**
     * Creates the lab's directory: the simulator's launcher, {@code libvirt.conf}, a teuthology
     * config, the client key, and the VM slots with a free loopback port each.
     *
     * @return the lab, with no VM running yet
     * @throws IllegalArgumentException when no VM host was added or names are not host names
     * @throws UncheckedIOException when the directory cannot be written
     */
    public LocalLab build() {
      if (hosts.isEmpty()) {
        throw new IllegalArgumentException("a lab needs at least one vmHost(host, vms...)");
      }
      if (labDomain == null || !labDomain.matches("[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)*")) {
        throw new IllegalArgumentException("lab domain '" + labDomain + "' is not a domain name");
      }
      try {
        Path root = directory != null ? directory : Files.createTempDirectory("machinepool-lab");
        LabDirectory dir = new LabDirectory(root);
        Files.createDirectories(dir.launcher().getParent());
        Files.createDirectories(dir.clientKey().getParent());
        Files.createDirectories(dir.vms());
        String publicKey = writeClientKey(dir.clientKey());
        LabDirectory.Lab lab =
            new LabDirectory.Lab(ProcessHandle.current().pid(), labDomain, publicKey, slots());
        dir.write(lab);
        writeLauncher(dir);
        List<String> fullHosts =
            lab.hosts().stream().map(h -> h.contains(".") ? h : h + "." + labDomain).toList();
        Files.writeString(dir.libvirtConfig(), LibvirtAliases.render(fullHosts));
        Files.writeString(
            dir.teuthologyConfig(),
            "lab_domain: "
                + labDomain
                + "\ndownburst:\n  path: '"
                + dir.launcher()
                + "'\nssh_key: '"
                + dir.clientKey()
                + "'\nmachine_pool:\n  downburst_create_args: [--nokey]\n  libvirt_config: '"
                + dir.libvirtConfig()
                + "'\n  ssh_addresses:\n"
                + lab.slots().stream()
                    .map(slot -> "    " + slot.name() + ": " + ADDRESS + "\n")
                    .collect(java.util.stream.Collectors.joining()));
        return new LocalLab(this, dir, lab);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot set up the lab: " + e.getMessage(), e);
      }
    }

    private List<LabDirectory.Slot> slots() throws IOException {
      List<LabDirectory.Slot> slots = new ArrayList<>();
      int n = 0;
      for (Map.Entry<String, List<String>> host : hosts.entrySet()) {
        String hostShort = hostName(host.getKey());
        for (String vm : host.getValue()) {
          n++;
          String name = vm.contains(".") ? vm : vm + "." + labDomain;
          hostName(name);
          String mac = String.format(Locale.ROOT, "52:54:00:%02x:%02x:%02x", 0, n / 256, n % 256);
          slots.add(new LabDirectory.Slot(name, hostShort, freePort(), mac));
        }
      }
      return slots;
    }

    private static String hostName(String name) {
      if (!name.matches("[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)*")) {
        throw new IllegalArgumentException("'" + name + "' is not a host name");
      }
      return LabDirectory.shortName(name);
    }

    private static int freePort() throws IOException {
      try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(ADDRESS))) {
        return socket.getLocalPort();
      }
    }

    /** Writes a new client key pair; returns the public key line. */
    private static String writeClientKey(Path file) throws IOException {
      try {
        KeyPair pair =
            SecurityUtils.isEDDSACurveSupported()
                ? KeyUtils.generateKeyPair(KeyPairProvider.SSH_ED25519, 256)
                : KeyUtils.generateKeyPair(KeyPairProvider.ECDSA_SHA2_NISTP256, 256);
        Files.deleteIfExists(file);
        Files.createFile(
            file,
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try (OutputStream out = Files.newOutputStream(file)) {
          OpenSSHKeyPairResourceWriter.INSTANCE.writePrivateKey(pair, "machinepool-lab", null, out);
        }
        String publicKey = PublicKeyEntry.toString(pair.getPublic()) + " machinepool-lab";
        Files.writeString(file.resolveSibling(file.getFileName() + ".pub"), publicKey + "\n");
        return publicKey;
      } catch (GeneralSecurityException e) {
        throw new IOException("cannot generate the lab's client key: " + e.getMessage(), e);
      }
    }

    /**
     * The launcher: a script that runs the simulator in this JVM's Java with this JVM's class path.
     */
    private static void writeLauncher(LabDirectory dir) throws IOException {
      String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      String script =
          "#!/bin/sh\n"
              + "# machinepool lab simulator: a stand-in for downburst, written by LocalLab\n"
              + "exec "
              + quoted(java)
              + " -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto -Xmx96m "
              + quoted("-D" + LabDirectory.PROPERTY + "=" + dir.root())
              + " -cp "
              + quoted(System.getProperty("java.class.path"))
              + " "
              + DownburstSimulator.class.getName()
              + " \"$@\"\n";
      Files.writeString(dir.launcher(), script);
      Files.setPosixFilePermissions(dir.launcher(), PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    /** A word in single quotes for sh, with single quotes inside escaped. */
    private static String quoted(String word) {
      return "'" + word.replace("'", "'\\''") + "'";
    }
  }
}
