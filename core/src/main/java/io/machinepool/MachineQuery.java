package io.machinepool;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Which machines to list. Every criterion is optional; those given must all hold. Build one with
 * {@link #builder()}; {@link #all()} matches every machine.
 *
 * @param names only these machines; empty for any
 * @param machineTypes only these types; empty for any
 * @param locked only locked ({@code true}) or free ({@code false}) machines; {@code null} for both
 * @param up only up ({@code true}) or down ({@code false}) machines; {@code null} for both
 * @param owner only machines locked by this owner, or {@code null}
 * @param description only machines whose description equals this, or {@code null}
 * @param descriptionContains only machines whose description contains this, or {@code null}
 * @param osType only machines with this OS type, or {@code null}
 * @param osVersion only machines with this OS version, or {@code null}
 * @param vpsHost only VM slots on this VM host, or {@code null}
 */
public record MachineQuery(
    List<String> names,
    List<String> machineTypes,
    Boolean locked,
    Boolean up,
    String owner,
    String description,
    String descriptionContains,
    String osType,
    String osVersion,
    String vpsHost) {

  private static final MachineQuery ALL = builder().build();

  /** Validates every criterion. */
  public MachineQuery {
    names = Checks.machineNames(names == null ? List.of() : names);
    machineTypes =
        (machineTypes == null ? List.<String>of() : machineTypes)
            .stream().map(Checks::machineType).distinct().toList();
    if (owner != null) {
      Checks.owner(owner);
    }
    Checks.description(description);
    Checks.description(descriptionContains);
    Checks.osField(osType, "OS type");
    Checks.osField(osVersion, "OS version");
    Checks.optionalMachineName(vpsHost, "VM host name");
  }

  /**
   * A query matching every machine.
   *
   * @return the query
   */
  public static MachineQuery all() {
    return ALL;
  }

  /**
   * Starts a query that matches every machine until narrowed.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /** Builds a {@link MachineQuery}; every method returns this builder. */
  public static final class Builder {
    private final List<String> names = new ArrayList<>();
    private final List<String> machineTypes = new ArrayList<>();
    private Boolean locked;
    private Boolean up;
    private String owner;
    private String description;
    private String descriptionContains;
    private String osType;
    private String osVersion;
    private String vpsHost;

    private Builder() {}

    /**
     * Only these machines.
     *
     * @param value names
     * @return this builder
     */
    public Builder names(String... value) {
      Checks.notNull(value, "machine names");
      names.addAll(Arrays.asList(value));
      return this;
    }

    /**
     * Only these machines.
     *
     * @param value names
     * @return this builder
     */
    public Builder names(List<String> value) {
      Checks.notNull(value, "machine names");
      names.addAll(value);
      return this;
    }

    /**
     * Only this machine type (may be called again for several).
     *
     * @param value e.g. {@code vps}
     * @return this builder
     */
    public Builder machineType(String value) {
      machineTypes.add(value);
      return this;
    }

    /**
     * Only locked or only free machines.
     *
     * @param value {@code true} for locked
     * @return this builder
     */
    public Builder locked(boolean value) {
      this.locked = value;
      return this;
    }

    /**
     * Only up or only down machines.
     *
     * @param value {@code true} for up
     * @return this builder
     */
    public Builder up(boolean value) {
      this.up = value;
      return this;
    }

    /**
     * Only machines locked by this owner.
     *
     * @param value the owner
     * @return this builder
     */
    public Builder owner(String value) {
      this.owner = value;
      return this;
    }

    /**
     * Only machines with exactly this description.
     *
     * @param value the description
     * @return this builder
     */
    public Builder description(String value) {
      this.description = value;
      return this;
    }

    /**
     * Only machines whose description contains this text.
     *
     * @param value the text
     * @return this builder
     */
    public Builder descriptionContains(String value) {
      this.descriptionContains = value;
      return this;
    }

    /**
     * Only machines with this OS.
     *
     * @param type e.g. {@code ubuntu}
     * @param version e.g. {@code 22.04}, or {@code null} for any version
     * @return this builder
     */
    public Builder os(String type, String version) {
      this.osType = type;
      this.osVersion = version;
      return this;
    }

    /**
     * Only VM slots on this VM host.
     *
     * @param value the VM host's name
     * @return this builder
     */
    public Builder vpsHost(String value) {
      this.vpsHost = value;
      return this;
    }

    /**
     * Validates and builds the query.
     *
     * @return the query
     */
    public MachineQuery build() {
      return new MachineQuery(
          names,
          machineTypes,
          locked,
          up,
          owner,
          description,
          descriptionContains,
          osType,
          osVersion,
          vpsHost);
    }
  }
}
