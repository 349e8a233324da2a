package dev.anneal.platform;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * The module boundaries of ARCHITECTURE.md, checked twice: on the Maven graph (every module's
 * declared dependencies on other Anneal modules) and on the compiled classes (ArchUnit).
 */
class ModuleBoundariesTest {

  /** Which Anneal modules each module may depend on (compile or runtime scope). */
  private static final Map<String, Set<String>> ALLOWED =
      Map.of(
          "anneal-runner-protocol", Set.of(),
          // the dataset files both the platform and the runner read (Parquet)
          "anneal-datafiles", Set.of(),
          // the one S3 retry policy of the platform and the runner
          "anneal-s3", Set.of(),
          "anneal-runner", Set.of("anneal-runner-protocol", "anneal-datafiles", "anneal-s3"),
          // Python; its Java tests use the built-in engine, at test scope only
          "anneal-torch-engine", Set.of(),
          "anneal-workflows", Set.of("anneal-runner-protocol"),
          "anneal-activities", Set.of("anneal-workflows", "anneal-runner-protocol", "anneal-s3"),
          "anneal-migrations", Set.of(),
          "anneal-web-ui", Set.of(),
          "anneal-platform",
              Set.of(
                  "anneal-workflows",
                  "anneal-activities",
                  "anneal-migrations",
                  "anneal-web-ui",
                  "anneal-runner-protocol",
                  "anneal-datafiles"));

  private static final JavaClasses CLASSES =
      new ClassFileImporter()
          .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
          .importPackages("dev.anneal");

  @Test
  void mavenModulesDependOnlyOnWhatTheArchitectureAllows() throws Exception {
    Path root = Path.of("..").toAbsolutePath().normalize();
    Map<String, Set<String>> actual = new TreeMap<>();
    try (Stream<Path> poms = Files.walk(root, 3)) {
      for (Path pom :
          poms.filter(p -> p.getFileName().toString().equals("pom.xml"))
              .filter(p -> !p.startsWith(root.resolve("web-ui/node_modules")))
              .filter(p -> !p.equals(root.resolve("pom.xml")))
              .toList()) {
        Document doc =
            DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(pom.toFile());
        String artifact = directChild(doc.getDocumentElement(), "artifactId");
        Set<String> deps = new TreeSet<>();
        NodeList list = doc.getElementsByTagName("dependency");
        for (int i = 0; i < list.getLength(); i++) {
          Element d = (Element) list.item(i);
          if ("dev.anneal".equals(directChild(d, "groupId"))
              && !"test".equals(directChild(d, "scope"))) {
            deps.add(directChild(d, "artifactId"));
          }
        }
        actual.put(artifact, deps);
      }
    }
    assertThat(actual.keySet()).containsExactlyInAnyOrderElementsOf(ALLOWED.keySet());
    actual.forEach(
        (module, deps) ->
            assertThat(ALLOWED.get(module))
                .as("allowed dependencies of %s", module)
                .containsAll(deps));
  }

  @Test
  void workflowCodeDoesNoIo() {
    noClasses()
        .that()
        .resideInAPackage("dev.anneal.workflows..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(
            "java.sql..",
            "javax.sql..",
            "io.minio..",
            "okhttp3..",
            "io.kubernetes..",
            "org.springframework..",
            "org.postgresql..",
            "dev.anneal.activities..",
            "dev.anneal.platform..")
        .check(CLASSES);
  }

  @Test
  void theProtocolDependsOnJacksonOnly() {
    classes()
        .that()
        .resideInAPackage("dev.anneal.protocol..")
        .should()
        .onlyDependOnClassesThat()
        .resideInAnyPackage("java..", "com.fasterxml.jackson..", "dev.anneal.protocol..")
        .check(CLASSES);
  }

  @Test
  void onlyThePlatformUsesActivities() {
    noClasses()
        .that()
        .resideOutsideOfPackages("dev.anneal.activities..", "dev.anneal.platform..")
        .should()
        .dependOnClassesThat()
        .resideInAPackage("dev.anneal.activities..")
        .check(CLASSES);
  }

  @Test
  void activitiesDoNotReachIntoThePlatform() {
    noClasses()
        .that()
        .resideInAPackage("dev.anneal.activities..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage("dev.anneal.platform..", "org.springframework..")
        .check(CLASSES);
  }

  private static String directChild(Element parent, String name) {
    NodeList children = parent.getChildNodes();
    for (int i = 0; i < children.getLength(); i++) {
      if (children.item(i) instanceof Element e && e.getTagName().equals(name)) {
        return e.getTextContent().trim();
      }
    }
    return null;
  }
}
