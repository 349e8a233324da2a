package dev.anneal.platform.api.models;

import dev.anneal.platform.api.ApiException;
import dev.anneal.platform.api.auth.Caller;
import dev.anneal.platform.api.pipelines.CheckpointFiles;
import dev.anneal.platform.api.pipelines.CheckpointReads;
import dev.anneal.platform.api.pipelines.Pipelines;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RequestPart;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.multipart.MultipartFile;

/** Checkpoints (with their files) and the model registry. */
@RestController
@RequestMapping("/api/v1")
@Tag(name = "models", description = "checkpoints, downloads, the model registry and lineage")
public class ModelsController {
  private final Models models;
  private final Pipelines pipelines;
  private final CheckpointReads checkpoints;
  private final CheckpointFiles files;
  private final ModelImports imports;

  public ModelsController(
      Models models,
      Pipelines pipelines,
      CheckpointReads checkpoints,
      CheckpointFiles files,
      ModelImports imports) {
    this.imports = imports;
    this.models = models;
    this.pipelines = pipelines;
    this.checkpoints = checkpoints;
    this.files = files;
  }

  /**
   * Register a checkpoint: give {@code checkpointId}, or {@code pipelineId} and {@code stage} for
   * that stage's final checkpoint.
   */
  public record RegisterRequest(String name, UUID checkpointId, UUID pipelineId, String stage) {}

  public record PromoteRequest(String label) {}

  @GetMapping("/checkpoints/{id}")
  @Operation(summary = "One checkpoint: step, size, sha256 of its manifest, health figures")
  public CheckpointReads.Checkpoint checkpoint(Caller caller, @PathVariable UUID id) {
    return files.complete(List.of(checkpoints.checkpoint(caller, id))).get(0);
  }

  @GetMapping("/checkpoints/{id}/download")
  @Operation(summary = "Presigned URLs (1 hour) for every file of a checkpoint and its HF export")
  public CheckpointFiles.Download downloadCheckpoint(Caller caller, @PathVariable UUID id) {
    return files.download(checkpoints.checkpoint(caller, id));
  }

  @PostMapping(path = "/models/{name}/import", consumes = MediaType.MULTIPART_FORM_DATA_VALUE)
  @Operation(
      summary =
          "Import a Hugging Face checkpoint (parts 'file', one per file of its directory) as the"
              + " next version of a model")
  public ResponseEntity<Models.Model> importModel(
      Caller caller, @PathVariable String name, @RequestPart("file") List<MultipartFile> parts)
      throws IOException {
    List<ModelImports.Upload> uploads = new ArrayList<>();
    List<InputStream> open = new ArrayList<>();
    try {
      for (MultipartFile p : parts) {
        InputStream in = p.getInputStream();
        open.add(in);
        uploads.add(new ModelImports.Upload(p.getOriginalFilename(), in));
      }
      return ResponseEntity.status(HttpStatus.CREATED)
          .body(imports.importModel(caller, name, uploads));
    } finally {
      for (InputStream in : open) in.close();
    }
  }

  @PostMapping("/models")
  @Operation(summary = "Register a checkpoint as the next version of a model")
  public ResponseEntity<Models.Model> register(Caller caller, @RequestBody RegisterRequest body) {
    UUID checkpoint = body.checkpointId();
    if (checkpoint == null) {
      if (body.pipelineId() == null || body.stage() == null) {
        throw ApiException.badRequest(
            "give checkpointId, or pipelineId and stage (that stage's final checkpoint)",
            "checkpointId");
      }
      pipelines.row(caller, body.pipelineId());
      UUID stage = pipelines.stageId(body.pipelineId(), body.stage());
      checkpoint =
          checkpoints
              .finalCheckpointId(stage)
              .orElseThrow(
                  () ->
                      ApiException.unprocessable(
                          "stage: '" + body.stage() + "' has not finished with a final checkpoint",
                          "stage"));
    }
    return ResponseEntity.status(HttpStatus.CREATED)
        .body(models.register(caller, body.name(), checkpoint));
  }

  @GetMapping("/models")
  @Operation(summary = "The team's models, every version, newest first per name")
  public Map<String, List<Models.Model>> list(
      Caller caller, @RequestParam(required = false) String name) {
    return Map.of("models", models.list(caller, name));
  }

  @GetMapping("/models/{id}")
  @Operation(summary = "One model version with its lineage")
  public Models.Model get(Caller caller, @PathVariable UUID id) {
    return models.get(caller, id);
  }

  @PostMapping("/models/{id}/promote")
  @Operation(
      summary = "Label a version staging, production (archives the previous one) or archived")
  public Models.Model promote(
      Caller caller, @PathVariable UUID id, @RequestBody PromoteRequest body) {
    return models.promote(caller, id, body.label());
  }

  @GetMapping("/models/{id}/download")
  @Operation(
      summary =
          "Presigned URLs for the model's checkpoint files and HF export (an imported model:"
              + " its files)")
  public CheckpointFiles.Download download(Caller caller, @PathVariable UUID id) {
    Models.Model m = models.get(caller, id);
    if (m.checkpointId() == null && m.checkpoint().startsWith("hf:")) {
      return files.downloadImported(m.checkpoint());
    }
    if (m.checkpointId() == null) {
      throw ApiException.conflict(
          "model " + m.name() + "@v" + m.version() + " has no checkpoint any more");
    }
    return files.download(checkpoints.checkpoint(caller, m.checkpointId()));
  }
}
