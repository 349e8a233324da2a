package dev.anneal.platform.api.datasets;

import dev.anneal.platform.api.ApiException;
import dev.anneal.platform.api.auth.Caller;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;
import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Map;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RequestPart;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.multipart.MultipartFile;

/** Upload, list, inspect and delete a team's JSONL and Parquet datasets. */
@RestController
@RequestMapping("/api/v1/datasets")
@Tag(
    name = "datasets",
    description = "JSONL and Parquet datasets, versioned, checked record by record")
public class DatasetsController {
  private final Datasets datasets;

  public DatasetsController(Datasets datasets) {
    this.datasets = datasets;
  }

  @PostMapping(path = "/{name}", consumes = MediaType.MULTIPART_FORM_DATA_VALUE)
  @Operation(summary = "Upload the next version of a dataset as a multipart form (part 'file')")
  public ResponseEntity<Datasets.Dataset> uploadForm(
      Caller caller,
      @PathVariable String name,
      @RequestParam(required = false) String format,
      @RequestPart("file") MultipartFile file)
      throws IOException {
    try (InputStream in = file.getInputStream()) {
      return created(datasets.upload(caller, name, format, in));
    }
  }

  @PostMapping(
      path = "/{name}",
      consumes = {
        "application/x-ndjson",
        "application/jsonl",
        "application/json",
        "application/vnd.apache.parquet",
        MediaType.APPLICATION_OCTET_STREAM_VALUE,
        MediaType.TEXT_PLAIN_VALUE
      })
  @Operation(
      summary =
          "Upload the next version of a dataset as the request body (streamed; JSONL or Parquet)")
  public ResponseEntity<Datasets.Dataset> uploadStream(
      Caller caller,
      @PathVariable String name,
      @RequestParam(required = false) String format,
      HttpServletRequest request)
      throws IOException {
    return created(datasets.upload(caller, name, format, request.getInputStream()));
  }

  private static ResponseEntity<Datasets.Dataset> created(Datasets.Dataset d) {
    return ResponseEntity.status(HttpStatus.CREATED).body(d);
  }

  @GetMapping
  @Operation(summary = "The newest live version of each dataset")
  public Map<String, List<Datasets.Dataset>> list(Caller caller) {
    return Map.of("datasets", datasets.latest(caller));
  }

  @GetMapping("/{name}")
  @Operation(summary = "Every version of a dataset, newest first")
  public Map<String, List<Datasets.Dataset>> versions(Caller caller, @PathVariable String name) {
    return Map.of("versions", datasets.versions(caller, name));
  }

  @GetMapping("/{name}/versions/{version}")
  @Operation(summary = "One version of a dataset")
  public Datasets.Dataset version(
      Caller caller, @PathVariable String name, @PathVariable int version) {
    return datasets.version(caller, name, version);
  }

  @DeleteMapping("/{name}/versions/{version}")
  @Operation(summary = "Delete one version (refused while an active pipeline reads it)")
  public ResponseEntity<Void> deleteVersion(
      Caller caller, @PathVariable String name, @PathVariable int version) {
    datasets.delete(caller, name, version);
    return ResponseEntity.noContent().build();
  }

  @DeleteMapping("/{name}")
  @Operation(summary = "Delete every version (refused while an active pipeline reads one)")
  public ResponseEntity<Void> delete(Caller caller, @PathVariable String name) {
    if (datasets.delete(caller, name, null).isEmpty()) {
      throw ApiException.notFound("dataset", name);
    }
    return ResponseEntity.noContent().build();
  }
}
