package dev.anneal.protocol;

import java.util.List;

/**
 * Everything one stage attempt needs: what to train, from where, to where. The platform writes it
 * to {@link ObjectKeys#spec}; the runner reads it and nothing else. Unknown fields are an error.
 */
public record RunSpec(
    String apiVersion,
    String team,
    String pipeline,
    StageKind stage,
    Integer attempt,
    String device,
    Long seed,
    ModelConfig model,
    TrainingConfig training,
    List<DatasetRef> datasets,
    List<CurriculumPhase> curriculum,
    TokenizerSpec tokenizer,
    CheckpointRef initFrom,
    CheckpointRef resumeFrom,
    CheckpointPolicy checkpoint,
    StabilityConfig stability,
    ObjectStoreTarget store,
    EventSink events,
    FaultInjection inject,
    CheckpointRef rewardFrom,
    RlConfig rl) {

  public static final String API_VERSION = "anneal.dev/runner/v1";

  public RunSpec {
    apiVersion = Checks.orDefault(apiVersion, API_VERSION);
    if (!API_VERSION.equals(apiVersion)) {
      throw new IllegalArgumentException(
          "apiVersion: must be '" + API_VERSION + "', got '" + apiVersion + "'");
    }
    ObjectKeys.segment("team", Checks.text("team", team));
    ObjectKeys.segment("pipeline", Checks.text("pipeline", pipeline));
    Checks.present("stage", stage);
    Checks.positive("attempt", Checks.present("attempt", attempt));
    device = Checks.orDefault(device, "cpu");
    if (!device.equals("cpu") && !device.matches("cuda(:\\d+)?")) {
      throw new IllegalArgumentException(
          "device: must be 'cpu', 'cuda' or 'cuda:N', got '" + device + "'");
    }
    seed = Checks.orDefault(seed, 1234L);
    model = Checks.orDefault(model, ModelConfig.preset("tiny"));
    Checks.present("training", training);
    datasets = datasets == null ? List.of() : List.copyOf(datasets);
    curriculum = curriculum == null ? List.of() : List.copyOf(curriculum);
    tokenizer = Checks.orDefault(tokenizer, TokenizerSpec.defaults());
    inject = Checks.orDefault(inject, FaultInjection.none());
    if (stage == StageKind.RLHF) {
      rl = Checks.orDefault(rl, RlConfig.defaults());
      if (rewardFrom == null) {
        throw new IllegalArgumentException(
            "rewardFrom: an rlhf stage needs the reward model's checkpoint");
      }
    } else if (rl != null || rewardFrom != null) {
      throw new IllegalArgumentException(
          (rl != null ? "rl" : "rewardFrom") + ": only an rlhf stage takes one");
    }
    checkpoint = Checks.orDefault(checkpoint, CheckpointPolicy.defaults());
    stability = Checks.orDefault(stability, StabilityConfig.defaults());
    Checks.present("store", store);
    if (stage == StageKind.PRETRAIN && datasets.isEmpty()) {
      throw new IllegalArgumentException("datasets: pretrain needs at least one dataset");
    }
    for (int i = 0; i < curriculum.size(); i++) {
      for (String name : curriculum.get(i).weights().keySet()) {
        if (datasets.stream().noneMatch(d -> d.name().equals(name))) {
          throw new IllegalArgumentException(
              "curriculum["
                  + i
                  + "].weights: names dataset '"
                  + name
                  + "', which is not among the datasets");
        }
      }
    }
  }

  /** A builder: unset fields are null and take their defaults, as in a spec file. */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder holding this run spec's values, to change a few of them. */
  public Builder toBuilder() {
    return new Builder()
        .apiVersion(apiVersion)
        .team(team)
        .pipeline(pipeline)
        .stage(stage)
        .attempt(attempt)
        .device(device)
        .seed(seed)
        .model(model)
        .training(training)
        .datasets(datasets)
        .curriculum(curriculum)
        .tokenizer(tokenizer)
        .initFrom(initFrom)
        .resumeFrom(resumeFrom)
        .checkpoint(checkpoint)
        .stability(stability)
        .store(store)
        .events(events)
        .inject(inject)
        .rewardFrom(rewardFrom)
        .rl(rl);
  }

  /** Builds a RunSpec field by field; {@link #build} checks it as the JSON reader does. */
  public static final class Builder {
    private String apiVersion;
    private String team;
    private String pipeline;
    private StageKind stage;
    private Integer attempt;
    private String device;
    private Long seed;
    private ModelConfig model;
    private TrainingConfig training;
    private List<DatasetRef> datasets;
    private List<CurriculumPhase> curriculum;
    private TokenizerSpec tokenizer;
    private CheckpointRef initFrom;
    private CheckpointRef resumeFrom;
    private CheckpointPolicy checkpoint;
    private StabilityConfig stability;
    private ObjectStoreTarget store;
    private EventSink events;
    private FaultInjection inject;
    private CheckpointRef rewardFrom;
    private RlConfig rl;

    private Builder() {}

    public Builder apiVersion(String apiVersion) {
      this.apiVersion = apiVersion;
      return this;
    }

    public Builder team(String team) {
      this.team = team;
      return this;
    }

    public Builder pipeline(String pipeline) {
      this.pipeline = pipeline;
      return this;
    }

    public Builder stage(StageKind stage) {
      this.stage = stage;
      return this;
    }

    public Builder attempt(Integer attempt) {
      this.attempt = attempt;
      return this;
    }

    public Builder device(String device) {
      this.device = device;
      return this;
    }

    public Builder seed(Long seed) {
      this.seed = seed;
      return this;
    }

    public Builder model(ModelConfig model) {
      this.model = model;
      return this;
    }

    public Builder training(TrainingConfig training) {
      this.training = training;
      return this;
    }

    public Builder datasets(List<DatasetRef> datasets) {
      this.datasets = datasets;
      return this;
    }

    public Builder curriculum(List<CurriculumPhase> curriculum) {
      this.curriculum = curriculum;
      return this;
    }

    public Builder tokenizer(TokenizerSpec tokenizer) {
      this.tokenizer = tokenizer;
      return this;
    }

    public Builder initFrom(CheckpointRef initFrom) {
      this.initFrom = initFrom;
      return this;
    }

    public Builder resumeFrom(CheckpointRef resumeFrom) {
      this.resumeFrom = resumeFrom;
      return this;
    }

    public Builder checkpoint(CheckpointPolicy checkpoint) {
      this.checkpoint = checkpoint;
      return this;
    }

    public Builder stability(StabilityConfig stability) {
      this.stability = stability;
      return this;
    }

    public Builder store(ObjectStoreTarget store) {
      this.store = store;
      return this;
    }

    public Builder events(EventSink events) {
      this.events = events;
      return this;
    }

    public Builder inject(FaultInjection inject) {
      this.inject = inject;
      return this;
    }

    public Builder rewardFrom(CheckpointRef rewardFrom) {
      this.rewardFrom = rewardFrom;
      return this;
    }

    public Builder rl(RlConfig rl) {
      this.rl = rl;
      return this;
    }

    public RunSpec build() {
      return new RunSpec(
          apiVersion,
          team,
          pipeline,
          stage,
          attempt,
          device,
          seed,
          model,
          training,
          datasets,
          curriculum,
          tokenizer,
          initFrom,
          resumeFrom,
          checkpoint,
          stability,
          store,
          events,
          inject,
          rewardFrom,
          rl);
    }
  }
}
