package dev.anneal.activities.metadata;

import javax.sql.DataSource;

/**
 * The owner of the platform's metadata schema ({@code migrations}, V1 onwards): every write of the
 * pipelines, stages and attempts tables and of ingested runner events goes through one of its
 * writers, each on the one {@link Sql} helper. The API reads per feature; the activities read back
 * through {@link #reads()}.
 */
public final class MetadataStore {

  private final Sql sql;
  private final PipelineWriter pipelines;
  private final StageWriter stages;
  private final AttemptWriter attempts;
  private final EventIngestion ingestion;
  private final CheckpointCatalogWriter checkpoints;
  private final MetadataReads reads;
  private final SyntheticHistory syntheticHistory;

  public MetadataStore(DataSource ds) {
    this.sql = new Sql(ds);
    this.pipelines = new PipelineWriter(sql);
    this.stages = new StageWriter(sql);
    this.attempts = new AttemptWriter(sql);
    this.ingestion = new EventIngestion(sql);
    this.checkpoints = new CheckpointCatalogWriter(sql);
    this.reads = new MetadataReads(sql);
    this.syntheticHistory = new SyntheticHistory(sql);
  }

  /** Teams (bare rows), pipelines and what they use. */
  public PipelineWriter pipelines() {
    return pipelines;
  }

  /** Stages and the stage workflow's decisions. */
  public StageWriter stages() {
    return stages;
  }

  public AttemptWriter attempts() {
    return attempts;
  }

  /** Runner events, metrics and checkpoints. */
  public EventIngestion ingestion() {
    return ingestion;
  }

  /** What the catalog learns of a checkpoint after ingestion. */
  public CheckpointCatalogWriter checkpoints() {
    return checkpoints;
  }

  public MetadataReads reads() {
    return reads;
  }

  /** Bulk made-up history, for the API benchmark only. */
  public SyntheticHistory syntheticHistory() {
    return syntheticHistory;
  }

  /** The SQL helper, for a caller's own transaction around several writes (the launcher). */
  public Sql sql() {
    return sql;
  }
}
