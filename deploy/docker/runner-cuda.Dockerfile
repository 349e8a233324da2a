# The training runner, CUDA: the same jar, with DJL pointed at a CUDA build of libtorch instead of
# the CPU natives the jar bundles (PYTORCH_LIBRARY_PATH/PYTORCH_FLAVOR are DJL's switches).
# Not built in CI (no Docker engine there); see docs/deploy.md.
#   docker build -f deploy/docker/runner-cuda.Dockerfile -t anneal-runner:0.1.0-cuda .
FROM nvidia/cuda:12.8.1-cudnn-runtime-ubuntu22.04
ARG LIBTORCH_URL=https://download.pytorch.org/libtorch/cu128/libtorch-cxx11-abi-shared-with-deps-2.7.1%2Bcu128.zip
RUN apt-get update \
 && apt-get install -y --no-install-recommends openjdk-17-jre-headless curl unzip libgomp1 \
 && curl -fsSL "$LIBTORCH_URL" -o /tmp/libtorch.zip && unzip -q /tmp/libtorch.zip -d /opt && rm /tmp/libtorch.zip \
 && apt-get purge -y curl unzip && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 1000 runner \
 && useradd --system --uid 1000 --gid runner --home-dir /scratch --shell /usr/sbin/nologin runner
ENV PYTORCH_LIBRARY_PATH=/opt/libtorch/lib \
    PYTORCH_VERSION=2.7.1 \
    PYTORCH_FLAVOR=cu128 \
    DJL_CACHE_DIR=/scratch/.djl.ai
COPY gpu-runner/engine/target/anneal-runner.jar /opt/anneal/anneal-runner.jar
USER 1000:1000
WORKDIR /scratch
ENTRYPOINT ["java", "-jar", "/opt/anneal/anneal-runner.jar"]
