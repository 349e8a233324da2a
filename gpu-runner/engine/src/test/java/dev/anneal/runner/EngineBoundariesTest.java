package dev.anneal.runner;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/** ARCHITECTURE.md: the GPU runner never depends on Temporal or Spring. */
class EngineBoundariesTest {

  private final JavaClasses runner =
      new ClassFileImporter()
          .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
          .importPackages("dev.anneal.runner", "dev.anneal.protocol");

  @Test
  void runnerDoesNotDependOnTheControlPlane() {
    noClasses()
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(
            "io.temporal..",
            "org.springframework..",
            "dev.anneal.workflows..",
            "dev.anneal.activities..",
            "dev.anneal.platform..",
            "java.sql..")
        .check(runner);
  }

  /**
   * Trainers are parts assembled upwards: {@code train/} (the supervised trainer and the shared
   * parts) knows nothing of {@code rlhf/}, and neither knows the stage kinds above them.
   */
  @Test
  void trainersDoNotReachUpToTheStageKinds() {
    noClasses()
        .that()
        .resideInAnyPackage("dev.anneal.runner.train..", "dev.anneal.runner.rlhf..")
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage("dev.anneal.runner.stage..")
        .check(runner);
    noClasses()
        .that()
        .resideInAPackage("dev.anneal.runner.train..")
        .should()
        .dependOnClassesThat()
        .resideInAPackage("dev.anneal.runner.rlhf..")
        .check(runner);
  }
}
