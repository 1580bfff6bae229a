package io.machinepool;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * Which machines to list. Every criterion is optional; those given must all hold. Build one with
 * {@link #builder()}; {@link #all()} matches every machine. Two queries are equal when every
 * criterion is.
 */
public final class MachineQuery {
  private static final MachineQuery ALL = builder().build();

  private final List<String> names;
  private final List<String> machineTypes;
  private final Boolean locked;
  private final Boolean up;
  private final String owner;
  private final String description;
  private final String descriptionContains;
  private final String osType;
  private final String osVersion;
  private final String vpsHost;

  /** Validates every criterion: the one place the rules of a query are checked. */
  private MachineQuery(Builder builder) {
    this.names = Checks.machineNames(builder.names);
    this.machineTypes = builder.machineTypes.stream().map(Checks::machineType).distinct().toList();
    if (builder.owner != null) {
      Checks.owner(builder.owner);
    }
    Checks.description(builder.description);
    Checks.description(builder.descriptionContains);
    Checks.osField(builder.osType, "OS type");
    Checks.osField(builder.osVersion, "OS version");
    Checks.optionalMachineName(builder.vpsHost, "VM host name");
    this.locked = builder.locked;
    this.up = builder.up;
    this.owner = builder.owner;
    this.description = builder.description;
    this.descriptionContains = builder.descriptionContains;
    this.osType = builder.osType;
    this.osVersion = builder.osVersion;
    this.vpsHost = builder.vpsHost;
  }

  /**
   * The criterion: only these machines.
   *
   * @return the names; empty for any
   */
  public List<String> names() {
    return names;
  }

  /**
   * The criterion: only these machine types.
   *
   * @return the types; empty for any
   */
  public List<String> machineTypes() {
    return machineTypes;
  }

  /**
   * The criterion: only locked or only free machines.
   *
   * @return {@code true} for locked machines only, {@code false} for free ones, {@code null} for
   *     both
   */
  public Boolean locked() {
    return locked;
  }

  /**
   * The criterion: only up or only down machines.
   *
   * @return {@code true} for up machines only, {@code false} for down ones, {@code null} for both
   */
  public Boolean up() {
    return up;
  }

  /**
   * The criterion: only machines locked by this owner.
   *
   * @return the owner, or {@code null}
   */
  public String owner() {
    return owner;
  }

  /**
   * The criterion: only machines whose description equals this.
   *
   * @return the description, or {@code null}
   */
  public String description() {
    return description;
  }

  /**
   * The criterion: only machines whose description contains this.
   *
   * @return the text, or {@code null}
   */
  public String descriptionContains() {
    return descriptionContains;
  }

  /**
   * The criterion: only machines with this OS type.
   *
   * @return the OS type, or {@code null}
   */
  public String osType() {
    return osType;
  }

  /**
   * The criterion: only machines with this OS version.
   *
   * @return the OS version, or {@code null}
   */
  public String osVersion() {
    return osVersion;
  }

  /**
   * The criterion: only VM slots on this VM host.
   *
   * @return the VM host's name, or {@code null}
   */
  public String vpsHost() {
    return vpsHost;
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

  /**
   * Whether the other object is a query with equal criteria.
   *
   * @param other the object to compare with
   * @return {@code true} when every criterion is equal
   */
  @Override
  public boolean equals(Object other) {
    return other instanceof MachineQuery that
        && names.equals(that.names)
        && machineTypes.equals(that.machineTypes)
        && Objects.equals(locked, that.locked)
        && Objects.equals(up, that.up)
        && Objects.equals(owner, that.owner)
        && Objects.equals(description, that.description)
        && Objects.equals(descriptionContains, that.descriptionContains)
        && Objects.equals(osType, that.osType)
        && Objects.equals(osVersion, that.osVersion)
        && Objects.equals(vpsHost, that.vpsHost);
  }

  @Override
  public int hashCode() {
    return Objects.hash(
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

  /**
   * Every criterion, in the form a record prints.
   *
   * @return e.g. {@code MachineQuery[names=[], machineTypes=[smithi], locked=true, ...]}
   */
  @Override
  public String toString() {
    return "MachineQuery[names="
        + names
        + ", machineTypes="
        + machineTypes
        + ", locked="
        + locked
        + ", up="
        + up
        + ", owner="
        + owner
        + ", description="
        + description
        + ", descriptionContains="
        + descriptionContains
        + ", osType="
        + osType
        + ", osVersion="
        + osVersion
        + ", vpsHost="
        + vpsHost
        + "]";
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
      return new MachineQuery(this);
    }
  }
}
