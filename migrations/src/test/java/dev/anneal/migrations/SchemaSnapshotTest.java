package dev.anneal.migrations;

import static org.assertj.core.api.Assertions.assertThat;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Migrates a real, empty PostgreSQL and compares the resulting schema with the committed snapshot
 * {@code src/test/resources/schema-snapshot.txt}. A migration that changes the schema must update
 * the snapshot in the same commit: run with {@code -Danneal.updateSchemaSnapshot=true}.
 */
class SchemaSnapshotTest {

  private static final Path SNAPSHOT = Path.of("src/test/resources/schema-snapshot.txt");

  private static EmbeddedPostgres postgres;
  private static DataSource dataSource;
  private static MigrateResult result;

  @BeforeAll
  static void migrate() throws Exception {
    postgres = EmbeddedPostgres.builder().start();
    dataSource = postgres.getPostgresDatabase();
    result =
        Flyway.configure()
            .dataSource(dataSource)
            .locations("classpath:db/migration")
            .failOnMissingLocations(true)
            .load()
            .migrate();
  }

  @AfterAll
  static void stop() throws Exception {
    if (postgres != null) {
      postgres.close();
    }
  }

  @Test
  void migrationsApplyToAnEmptyDatabase() {
    assertThat(result.success).isTrue();
    assertThat(result.migrationsExecuted).isGreaterThanOrEqualTo(1);
  }

  @Test
  void migratedSchemaMatchesTheCommittedSnapshot() throws Exception {
    String actual = describeSchema();
    if (Boolean.getBoolean("anneal.updateSchemaSnapshot")) {
      Files.writeString(SNAPSHOT, actual, StandardCharsets.UTF_8);
    }
    assertThat(SNAPSHOT).as("committed schema snapshot").exists();
    assertThat(actual)
        .as("schema after migrations (update with -Danneal.updateSchemaSnapshot=true)")
        .isEqualTo(Files.readString(SNAPSHOT, StandardCharsets.UTF_8));
  }

  @Test
  void migratingAgainIsANoOp() {
    MigrateResult again =
        Flyway.configure()
            .dataSource(dataSource)
            .locations("classpath:db/migration")
            .load()
            .migrate();
    assertThat(again.migrationsExecuted).isZero();
  }

  private static String describeSchema() throws Exception {
    List<String> lines = new ArrayList<>();
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement()) {
      try (ResultSet rs =
          s.executeQuery(
              """
              SELECT table_name, column_name, data_type, is_nullable,
                     coalesce(column_default, '') AS dflt
              FROM information_schema.columns
              WHERE table_schema = 'public' AND table_name <> 'flyway_schema_history'
              ORDER BY table_name, ordinal_position
              """)) {
        while (rs.next()) {
          lines.add(
              String.format(
                  "column %s.%s %s%s%s",
                  rs.getString(1),
                  rs.getString(2),
                  rs.getString(3),
                  "NO".equals(rs.getString(4)) ? " not null" : "",
                  rs.getString(5).isEmpty() ? "" : " default " + rs.getString(5)));
        }
      }
      try (ResultSet rs =
          s.executeQuery(
              """
              SELECT cl.relname, con.conname, pg_get_constraintdef(con.oid)
              FROM pg_constraint con JOIN pg_class cl ON cl.oid = con.conrelid
              JOIN pg_namespace ns ON ns.oid = cl.relnamespace
              WHERE ns.nspname = 'public' AND cl.relname <> 'flyway_schema_history'
              ORDER BY cl.relname, con.conname
              """)) {
        while (rs.next()) {
          lines.add(
              String.format(
                  "constraint %s.%s %s", rs.getString(1), rs.getString(2), rs.getString(3)));
        }
      }
      try (ResultSet rs =
          s.executeQuery(
              """
              SELECT tablename, indexname, indexdef FROM pg_indexes
              WHERE schemaname = 'public' AND tablename <> 'flyway_schema_history'
              ORDER BY tablename, indexname
              """)) {
        while (rs.next()) {
          lines.add(
              String.format("index %s.%s %s", rs.getString(1), rs.getString(2), rs.getString(3)));
        }
      }
    }
    return String.join("\n", lines) + "\n";
  }
}
