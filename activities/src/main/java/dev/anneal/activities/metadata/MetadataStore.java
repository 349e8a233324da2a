package dev.anneal.activities.metadata;

import javax.sql.DataSource;

/**
 * The owner of the platform's metadata schema ({@code migrations}, V1 onwards): every write of the
 * pipelines, stages, attempts and checkpoints tables and of ingested runner events goes through one
 * of its writers, each on the one {@link Sql} helper. The API reads per feature; the activities
 * read back through {@link #reads()}.
 *
 * @param pipelines teams (bare rows), pipelines and what they use
 * @param stages stages and the stage workflow's decisions
 * @param attempts attempts and what each was told
 * @param ingestion runner events, metrics and checkpoints
 * @param checkpoints what the catalog learns of a checkpoint after ingestion
 * @param reads what the activities, demo and benchmarks read back
 * @param syntheticHistory bulk made-up history, for the API benchmark only
 * @param sql the helper, for a caller's own transaction around several writes (the launcher)
 */
public record MetadataStore(
    PipelineWriter pipelines,
    StageWriter stages,
    AttemptWriter attempts,
    EventIngestion ingestion,
    CheckpointCatalogWriter checkpoints,
    MetadataReads reads,
    SyntheticHistory syntheticHistory,
    Sql sql) {

  public MetadataStore(DataSource ds) {
    this(new Sql(ds));
  }

  private MetadataStore(Sql sql) {
    this(
        new PipelineWriter(sql),
        new StageWriter(sql),
        new AttemptWriter(sql),
        new EventIngestion(sql),
        new CheckpointCatalogWriter(sql),
        new MetadataReads(sql),
        new SyntheticHistory(sql),
        sql);
  }
}
