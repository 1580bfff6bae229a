package io.machinepool.examples.packaging;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.xml.sax.SAXException;

/**
 * {@code machinepool-bom} against the build it belongs to, read from the POMs in the source tree:
 * it manages every library artifact (a module of the build with a {@code module-info.java}) at the
 * build's version, and nothing else; the BOM and {@code consumer-check}, which have no parent,
 * carry the build's version.
 */
class BomTest {

  private static final Path ROOT = Path.of(System.getProperty("basedir", ".")).getParent();

  @Test
  void theBomManagesEveryLibraryArtifactOfTheBuildAndNothingElse() throws Exception {
    Element parent = pom(ROOT.resolve("pom.xml"));
    List<String> libraries = new ArrayList<>();
    for (String module : texts(child(parent, "modules"), "module")) {
      Path dir = ROOT.resolve(module);
      if (Files.exists(dir.resolve("src/main/java/module-info.java"))) {
        libraries.add(text(pom(dir.resolve("pom.xml")), "artifactId"));
      }
    }
    Map<String, String> managed = managedVersions(pom(ROOT.resolve("bom/pom.xml")));

    assertThat(libraries)
        .as("library modules of the build")
        .contains("machinepool-core", "machinepool-junit5");
    assertThat(managed.keySet()).containsExactlyInAnyOrderElementsOf(libraries);
    assertThat(managed.values()).containsOnly("${project.version}");
  }

  @Test
  void theBomAndTheConsumerCheckCarryTheBuildsVersion() throws Exception {
    String version = text(pom(ROOT.resolve("pom.xml")), "version");
    Element consumer = pom(ROOT.resolve("consumer-check/pom.xml"));

    assertThat(text(pom(ROOT.resolve("bom/pom.xml")), "version")).isEqualTo(version);
    assertThat(text(consumer, "version")).isEqualTo(version);
    assertThat(managedVersions(consumer))
        .as("consumer-check imports the BOM of its own version")
        .containsEntry("machinepool-bom", "${project.version}");
  }

  /** The artifact ids of a POM's dependencyManagement, with the versions it gives them. */
  private static Map<String, String> managedVersions(Element pom) {
    Map<String, String> managed = new TreeMap<>();
    Element management = child(pom, "dependencyManagement");
    for (Element dependency : children(child(management, "dependencies"), "dependency")) {
      managed.put(text(dependency, "artifactId"), text(dependency, "version"));
    }
    return managed;
  }

  private static Element pom(Path file)
      throws ParserConfigurationException, IOException, SAXException {
    DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
    factory.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
    factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
    Document document = factory.newDocumentBuilder().parse(file.toFile());
    return document.getDocumentElement();
  }

  private static Element child(Element parent, String name) {
    List<Element> found = children(parent, name);
    assertThat(found).as("<%s> in <%s>", name, parent.getTagName()).hasSize(1);
    return found.get(0);
  }

  private static List<Element> children(Element parent, String name) {
    List<Element> found = new ArrayList<>();
    for (Node node = parent.getFirstChild(); node != null; node = node.getNextSibling()) {
      if (node instanceof Element element && element.getTagName().equals(name)) {
        found.add(element);
      }
    }
    return found;
  }

  private static String text(Element parent, String name) {
    return child(parent, name).getTextContent().strip();
  }

  private static List<String> texts(Element parent, String name) {
    return children(parent, name).stream().map(e -> e.getTextContent().strip()).toList();
  }
}
