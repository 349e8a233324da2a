{{/* Names, labels and shared pieces of Anneal's chart. */}}

{{- define "anneal.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "anneal.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "anneal.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "anneal.labels" -}}
helm.sh/chart: {{ include "anneal.chart" . }}
app.kubernetes.io/name: {{ include "anneal.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: anneal
{{- end }}

{{/* selector labels of one component: api, worker, migrations */}}
{{- define "anneal.selectorLabels" -}}
app.kubernetes.io/name: {{ include "anneal.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "anneal.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{- define "anneal.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "anneal.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "anneal.trainingNamespace" -}}
{{- default .Release.Namespace .Values.training.namespace }}
{{- end }}

{{/* credentials for the platform's containers, all from existing Secrets */}}
{{- define "anneal.secretEnv" -}}
- name: SPRING_DATASOURCE_USERNAME
  valueFrom: {secretKeyRef: {name: {{ .Values.postgresql.existingSecret }}, key: {{ .Values.postgresql.usernameKey }}}}
- name: SPRING_DATASOURCE_PASSWORD
  valueFrom: {secretKeyRef: {name: {{ .Values.postgresql.existingSecret }}, key: {{ .Values.postgresql.passwordKey }}}}
- name: ANNEAL_S3_ACCESS_KEY
  valueFrom: {secretKeyRef: {name: {{ .Values.s3.existingSecret }}, key: {{ .Values.s3.accessKeyKey }}}}
- name: ANNEAL_S3_SECRET_KEY
  valueFrom: {secretKeyRef: {name: {{ .Values.s3.existingSecret }}, key: {{ .Values.s3.secretKeyKey }}}}
- name: ANNEAL_INGEST_SECRET
  valueFrom: {secretKeyRef: {name: {{ .Values.platform.existingSecret }}, key: {{ .Values.platform.ingestSecretKey }}}}
- name: ANNEAL_API_BOOTSTRAP_TOKEN
  valueFrom: {secretKeyRef: {name: {{ .Values.platform.existingSecret }}, key: {{ .Values.platform.bootstrapTokenKey }}, optional: true}}
- name: JAVA_TOOL_OPTIONS
  value: {{ printf "%s -Djava.io.tmpdir=/tmp" .Values.platform.javaOptions | quote }}
- name: SPRING_CONFIG_ADDITIONAL_LOCATION
  value: /config/
{{- end }}

{{/* the pod template shared by the API and the worker */}}
{{- define "anneal.platformPod" -}}
{{- $root := .root -}}
metadata:
  labels:
    {{- include "anneal.labels" $root | nindent 4 }}
    {{- include "anneal.selectorLabels" (dict "root" $root "component" .component) | nindent 4 }}
  annotations:
    checksum/config: {{ include (print $root.Template.BasePath "/configmap.yaml") $root | sha256sum }}
    {{- if $root.Values.metrics.podAnnotations }}
    prometheus.io/scrape: "true"
    prometheus.io/port: "8080"
    prometheus.io/path: /actuator/prometheus
    {{- end }}
spec:
  serviceAccountName: {{ include "anneal.serviceAccountName" $root }}
  # only the worker talks to the Kubernetes API (it launches training Jobs)
  automountServiceAccountToken: {{ eq .component "worker" }}
  {{- with $root.Values.imagePullSecrets }}
  imagePullSecrets: {{- toYaml . | nindent 4 }}
  {{- end }}
  securityContext: {{- toYaml $root.Values.podSecurityContext | nindent 4 }}
  containers:
    - name: {{ .component }}
      image: {{ include "anneal.image" $root }}
      imagePullPolicy: {{ $root.Values.image.pullPolicy }}
      args: ["serve", "--no-embedded"]
      env:
        - name: ANNEAL_TEMPORAL_WORKER_ENABLED
          value: {{ eq .component "worker" | quote }}
        {{- include "anneal.secretEnv" $root | nindent 8 }}
      ports:
        - {name: http, containerPort: 8080, protocol: TCP}
      startupProbe:
        httpGet: {path: /actuator/health/liveness, port: http}
        periodSeconds: 5
        failureThreshold: 60
      livenessProbe:
        httpGet: {path: /actuator/health/liveness, port: http}
        periodSeconds: 10
      readinessProbe:
        httpGet: {path: /actuator/health/readiness, port: http}
        periodSeconds: 10
      resources: {{- toYaml .values.resources | nindent 8 }}
      securityContext: {{- toYaml $root.Values.securityContext | nindent 8 }}
      volumeMounts:
        - {name: config, mountPath: /config, readOnly: true}
        - {name: tmp, mountPath: /tmp}
        {{- if $root.Values.temporal.tls.existingSecret }}
        - {name: temporal-tls, mountPath: /temporal-tls, readOnly: true}
        {{- end }}
  volumes:
    - name: config
      configMap: {name: {{ include "anneal.fullname" $root }}}
    - name: tmp
      emptyDir: {}
    {{- if $root.Values.temporal.tls.existingSecret }}
    - name: temporal-tls
      secret: {secretName: {{ $root.Values.temporal.tls.existingSecret }}, defaultMode: 0400}
    {{- end }}
  {{- with .values.nodeSelector }}
  nodeSelector: {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .values.tolerations }}
  tolerations: {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .values.affinity }}
  affinity: {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
