{{/*
Names, labels and small computed values shared by the templates.
*/}}

{{/* The chart name, or nameOverride. */}}
{{- define "mlcost.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The prefix of every object name: fullnameOverride, else the release name (with the chart name appended unless
the release name already contains it), truncated to 63 characters (the DNS label limit).
*/}}
{{- define "mlcost.fullname" -}}
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

{{/*
The name of one part: <fullname>-<component>, within 63 characters (the prefix is cut, never the component, so
the names of the parts stay distinct). Called with (dict "root" $ "component" "agent").
*/}}
{{- define "mlcost.componentName" -}}
{{- $suffix := printf "-%s" .component }}
{{- $prefix := include "mlcost.fullname" .root | trunc (int (sub 63 (len $suffix))) | trimSuffix "-" }}
{{- printf "%s%s" $prefix $suffix }}
{{- end }}

{{/* chart-version, for the helm.sh/chart label. */}}
{{- define "mlcost.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every object. */}}
{{- define "mlcost.labels" -}}
helm.sh/chart: {{ include "mlcost.chart" . }}
{{ include "mlcost.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: mlcost
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Labels that select this release's pods: never the chart or app version, which change on upgrade. */}}
{{- define "mlcost.selectorLabels" -}}
app.kubernetes.io/name: {{ include "mlcost.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels of one part's objects. Called with (dict "root" $ "component" "collector"). */}}
{{- define "mlcost.componentLabels" -}}
{{ include "mlcost.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* Selector labels of one part's pods. Called with (dict "root" $ "component" "collector"). */}}
{{- define "mlcost.componentSelectorLabels" -}}
{{ include "mlcost.selectorLabels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* The service account one part runs as. Called with (dict "root" $ "component" "agent"). */}}
{{- define "mlcost.serviceAccountName" -}}
{{- $values := index .root.Values .component }}
{{- if $values.serviceAccount.create }}
{{- default (include "mlcost.componentName" .) $values.serviceAccount.name }}
{{- else }}
{{- default "default" $values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The image reference: repository@digest when a digest is given, else repository:tag (tag default appVersion). */}}
{{- define "mlcost.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* The Secret holding the shared ingest token (token mode). */}}
{{- define "mlcost.ingestSecretName" -}}
{{- default (include "mlcost.componentName" (dict "root" . "component" "ingest")) .Values.auth.existingSecret }}
{{- end }}

{{/* The collector's in-cluster URL, which the agents send batches to. */}}
{{- define "mlcost.collectorUrl" -}}
{{- printf "http://%s.%s.svc:%d" (include "mlcost.componentName" (dict "root" . "component" "collector")) .Release.Namespace (int .Values.collector.service.port) }}
{{- end }}

{{/* The agent's sources (agent.sources), from the switches that turn them on. */}}
{{- define "mlcost.agentSources" -}}
{{- $sources := list "pods" "kubelet" }}
{{- if .Values.agent.podResources.enabled }}{{ $sources = append $sources "pod-resources" }}{{ end }}
{{- if .Values.agent.dcgm.enabled }}{{ $sources = append $sources "dcgm" }}{{ end }}
{{- if .Values.agent.nvidiaRuntime }}{{ $sources = append $sources "nvidia-smi" }}{{ end }}
{{- if .Values.agent.modelServers.enabled }}{{ $sources = append $sources "model-servers" }}{{ end }}
{{- join "," $sources }}
{{- end }}

{{/* Where the agent's projected ingest token is mounted (tokenreview mode). */}}
{{- define "mlcost.agentTokenDir" -}}
/var/run/secrets/mlcost/ingest
{{- end }}

{{/*
The object name for one embedded file (a rules file, a dashboard): <fullname>[-<kind>]-<file>, where <file> is the
file name without its suffix, lower-cased, non-name characters as "-", and a leading "mlcost" dropped
(alerts/mlcost.rules.yaml becomes PrometheusRule "mlcost", dashboards/mlcost-overview.json ConfigMap
"mlcost-dashboard-overview"). Called with (dict "root" $ "path" $path "suffix" ".json" "kind" "dashboard").
*/}}
{{- define "mlcost.fileObjectName" -}}
{{- $base := regexReplaceAll "[^a-z0-9-]+" (base .path | trimSuffix .suffix | lower) "-" }}
{{- $base = regexReplaceAll "^mlcost" $base "" | trimAll "-" }}
{{- $parts := compact (list .kind $base) }}
{{- if $parts }}
{{- include "mlcost.componentName" (dict "root" .root "component" (join "-" $parts)) }}
{{- else }}
{{- include "mlcost.fullname" .root }}
{{- end }}
{{- end }}
