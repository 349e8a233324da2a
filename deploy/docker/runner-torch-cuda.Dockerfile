# The training runner for stages on engine: torch, GPUs: PyTorch's CUDA image (NCCL for the
# ranks' all-reduce) with a JRE for the wrapper. The reference engine was written against
# Debian's PyTorch 1.13 and uses only APIs that 2.x keeps; it has not run on this image or on a GPU
# here (no Docker engine, no GPU). Not built in CI.
#   docker build -f deploy/docker/runner-torch-cuda.Dockerfile -t anneal-runner-torch:0.1.0-cuda .
FROM pytorch/pytorch:2.7.1-cuda12.8-cudnn9-runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends openjdk-17-jre-headless util-linux \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 1000 runner \
 && useradd --system --uid 1000 --gid runner --home-dir /scratch --shell /usr/sbin/nologin runner
ENV ANNEAL_PYTHON=/opt/conda/bin/python \
    DJL_CACHE_DIR=/scratch/.djl.ai
COPY gpu-runner/engine/target/anneal-runner.jar /opt/anneal/anneal-runner.jar
USER 1000:1000
WORKDIR /scratch
ENTRYPOINT ["java", "-jar", "/opt/anneal/anneal-runner.jar"]
