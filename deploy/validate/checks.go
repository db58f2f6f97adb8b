// The checks beyond strict decoding: a subset of what the API server's validation refuses, chosen for what a
// Helm chart typically gets wrong (names, labels, selectors that miss their own template, mounts of volumes
// that do not exist, duplicate names, keys a ConfigMap cannot hold, roles bound to nothing).
package main

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	nodev1 "k8s.io/api/node/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	storagev1 "k8s.io/api/storage/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// kubernetesRelease is the release whose API types (k8s.io/api v0.37.x) this validator is built from.
const kubernetesRelease = "1.37"

var builtinSchemes = []func(*runtime.Scheme) error{
	corev1.AddToScheme, appsv1.AddToScheme, batchv1.AddToScheme, rbacv1.AddToScheme,
	networkingv1.AddToScheme, policyv1.AddToScheme, schedulingv1.AddToScheme, storagev1.AddToScheme,
	autoscalingv2.AddToScheme, admissionregistrationv1.AddToScheme, nodev1.AddToScheme,
	coordinationv1.AddToScheme, discoveryv1.AddToScheme,
}

// clusterScoped lists the known kinds that have no namespace; every other known kind needs one.
var clusterScoped = map[string]bool{
	"Namespace": true, "Node": true, "PersistentVolume": true, "ClusterRole": true, "ClusterRoleBinding": true,
	"StorageClass": true, "CSIDriver": true, "CSINode": true, "VolumeAttachment": true, "PriorityClass": true,
	"RuntimeClass": true, "IngressClass": true, "ValidatingWebhookConfiguration": true,
	"MutatingWebhookConfiguration": true, "ValidatingAdmissionPolicy": true,
	"ValidatingAdmissionPolicyBinding": true,
}

// Prometheus durations as the monitoring.coreos.com CRDs' OpenAPI schemas pattern them.
var promDuration = regexp.MustCompile(`^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$`)

func checkObject(object runtime.Object) []string {
	var errs field.ErrorList
	if accessor, ok := object.(metav1.Object); ok {
		kind := object.GetObjectKind().GroupVersionKind().Kind
		nameFn := apivalidation.NameIsDNSSubdomain
		if kind == "Service" {
			nameFn = apivalidation.NameIsDNS1035Label
		}
		errs = append(errs, apivalidation.ValidateObjectMetaAccessor(accessor, !clusterScoped[kind], nameFn, field.NewPath("metadata"))...)
	}

	switch o := object.(type) {
	case *appsv1.Deployment:
		errs = append(errs, checkWorkload(o.Spec.Selector, &o.Spec.Template, field.NewPath("spec"))...)
		if o.Spec.Strategy.Type == appsv1.RecreateDeploymentStrategyType && o.Spec.Strategy.RollingUpdate != nil {
			errs = append(errs, field.Forbidden(field.NewPath("spec", "strategy", "rollingUpdate"), "may not be specified when strategy `type` is 'Recreate'"))
		}
	case *appsv1.DaemonSet:
		errs = append(errs, checkWorkload(o.Spec.Selector, &o.Spec.Template, field.NewPath("spec"))...)
		if o.Spec.Template.Spec.RestartPolicy != "" && o.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyAlways {
			errs = append(errs, field.NotSupported(field.NewPath("spec", "template", "spec", "restartPolicy"), o.Spec.Template.Spec.RestartPolicy, []string{"Always"}))
		}
	case *appsv1.StatefulSet:
		errs = append(errs, checkWorkload(o.Spec.Selector, &o.Spec.Template, field.NewPath("spec"))...)
	case *batchv1.Job:
		errs = append(errs, checkPodSpec(&o.Spec.Template.Spec, field.NewPath("spec", "template", "spec"))...)
	case *corev1.Pod:
		errs = append(errs, checkPodSpec(&o.Spec, field.NewPath("spec"))...)
	case *corev1.Service:
		errs = append(errs, checkService(o)...)
	case *corev1.ConfigMap:
		errs = append(errs, checkDataKeys(keysOf(o.Data), keysOf(o.BinaryData), field.NewPath("data"))...)
		size := 0
		for key, value := range o.Data {
			size += len(key) + len(value)
		}
		for key, value := range o.BinaryData {
			size += len(key) + len(value)
		}
		if size > corev1.MaxSecretSize {
			errs = append(errs, field.TooLong(field.NewPath("data"), "", corev1.MaxSecretSize))
		}
	case *corev1.Secret:
		errs = append(errs, checkDataKeys(keysOf(o.StringData), keysOf(o.Data), field.NewPath("data"))...)
	case *corev1.PersistentVolumeClaim:
		path := field.NewPath("spec")
		if len(o.Spec.AccessModes) == 0 {
			errs = append(errs, field.Required(path.Child("accessModes"), "at least 1 access mode is required"))
		}
		if storage, ok := o.Spec.Resources.Requests[corev1.ResourceStorage]; !ok || storage.Sign() <= 0 {
			errs = append(errs, field.Required(path.Child("resources", "requests", "storage"), "a positive storage request is required"))
		}
	case *rbacv1.ClusterRole:
		errs = append(errs, checkPolicyRules(o.Rules, field.NewPath("rules"))...)
	case *rbacv1.Role:
		errs = append(errs, checkPolicyRules(o.Rules, field.NewPath("rules"))...)
	case *rbacv1.ClusterRoleBinding:
		errs = append(errs, checkRoleBinding(o.RoleRef, o.Subjects, true)...)
	case *rbacv1.RoleBinding:
		errs = append(errs, checkRoleBinding(o.RoleRef, o.Subjects, false)...)
	case *networkingv1.NetworkPolicy:
		errs = append(errs, checkNetworkPolicy(o)...)
	case *monitoringv1.ServiceMonitor:
		errs = append(errs, checkSelector(&o.Spec.Selector, field.NewPath("spec", "selector"))...)
		if len(o.Spec.Endpoints) == 0 {
			errs = append(errs, field.Required(field.NewPath("spec", "endpoints"), "at least one endpoint"))
		}
		for i, endpoint := range o.Spec.Endpoints {
			path := field.NewPath("spec", "endpoints").Index(i)
			errs = append(errs, checkPromDuration(string(endpoint.Interval), path.Child("interval"))...)
			errs = append(errs, checkPromDuration(string(endpoint.ScrapeTimeout), path.Child("scrapeTimeout"))...)
		}
	case *monitoringv1.PodMonitor:
		errs = append(errs, checkSelector(&o.Spec.Selector, field.NewPath("spec", "selector"))...)
		for i, endpoint := range o.Spec.PodMetricsEndpoints {
			path := field.NewPath("spec", "podMetricsEndpoints").Index(i)
			errs = append(errs, checkPromDuration(string(endpoint.Interval), path.Child("interval"))...)
			errs = append(errs, checkPromDuration(string(endpoint.ScrapeTimeout), path.Child("scrapeTimeout"))...)
		}
	case *monitoringv1.PrometheusRule:
		errs = append(errs, checkRuleGroups(o)...)
	}
	return toStrings(errs)
}

func checkWorkload(selector *metav1.LabelSelector, template *corev1.PodTemplateSpec, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if selector == nil || (len(selector.MatchLabels) == 0 && len(selector.MatchExpressions) == 0) {
		errs = append(errs, field.Required(path.Child("selector"), "a non-empty selector is required"))
	} else {
		errs = append(errs, checkSelector(selector, path.Child("selector"))...)
		if s, err := metav1.LabelSelectorAsSelector(selector); err == nil && !s.Matches(labelSet(template.Labels)) {
			errs = append(errs, field.Invalid(path.Child("template", "metadata", "labels"), template.Labels, "`selector` does not match template `labels`"))
		}
	}
	errs = append(errs, metav1validation.ValidateLabels(template.Labels, path.Child("template", "metadata", "labels"))...)
	errs = append(errs, apivalidation.ValidateAnnotations(template.Annotations, path.Child("template", "metadata", "annotations"))...)
	errs = append(errs, checkPodSpec(&template.Spec, path.Child("template", "spec"))...)
	return errs
}

func checkSelector(selector *metav1.LabelSelector, path *field.Path) field.ErrorList {
	return metav1validation.ValidateLabelSelector(selector, metav1validation.LabelSelectorValidationOptions{}, path)
}

type labelSet map[string]string

func (l labelSet) Has(key string) bool              { _, ok := l[key]; return ok }
func (l labelSet) Get(key string) string            { return l[key] }
func (l labelSet) Lookup(key string) (string, bool) { v, ok := l[key]; return v, ok }

func checkPodSpec(spec *corev1.PodSpec, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	volumes := map[string]bool{}
	for i, volume := range spec.Volumes {
		vpath := path.Child("volumes").Index(i)
		for _, msg := range validation.IsDNS1123Label(volume.Name) {
			errs = append(errs, field.Invalid(vpath.Child("name"), volume.Name, msg))
		}
		if volumes[volume.Name] {
			errs = append(errs, field.Duplicate(vpath.Child("name"), volume.Name))
		}
		volumes[volume.Name] = true
		if n := countSources(volume.VolumeSource); n != 1 {
			errs = append(errs, field.Invalid(vpath, volume.Name, fmt.Sprintf("must specify exactly one volume source, found %d", n)))
		}
		if volume.Projected != nil {
			for j, source := range volume.Projected.Sources {
				if token := source.ServiceAccountToken; token != nil {
					tpath := vpath.Child("projected", "sources").Index(j).Child("serviceAccountToken")
					if token.Path == "" {
						errs = append(errs, field.Required(tpath.Child("path"), ""))
					}
					if token.ExpirationSeconds != nil && (*token.ExpirationSeconds < 600 || *token.ExpirationSeconds > 1<<32) {
						errs = append(errs, field.Invalid(tpath.Child("expirationSeconds"), *token.ExpirationSeconds, "may not be less than 10 minutes or more than 2^32 seconds"))
					}
				}
			}
		}
	}
	if len(spec.Containers) == 0 {
		errs = append(errs, field.Required(path.Child("containers"), "at least one container"))
	}
	names := map[string]bool{}
	check := func(container *corev1.Container, cpath *field.Path) {
		for _, msg := range validation.IsDNS1123Label(container.Name) {
			errs = append(errs, field.Invalid(cpath.Child("name"), container.Name, msg))
		}
		if names[container.Name] {
			errs = append(errs, field.Duplicate(cpath.Child("name"), container.Name))
		}
		names[container.Name] = true
		if container.Image == "" {
			errs = append(errs, field.Required(cpath.Child("image"), ""))
		}
		ports := map[string]bool{}
		for i, port := range container.Ports {
			ppath := cpath.Child("ports").Index(i)
			for _, msg := range validation.IsValidPortNum(int(port.ContainerPort)) {
				errs = append(errs, field.Invalid(ppath.Child("containerPort"), port.ContainerPort, msg))
			}
			if port.Name != "" {
				for _, msg := range validation.IsValidPortName(port.Name) {
					errs = append(errs, field.Invalid(ppath.Child("name"), port.Name, msg))
				}
				if ports[port.Name] {
					errs = append(errs, field.Duplicate(ppath.Child("name"), port.Name))
				}
				ports[port.Name] = true
			}
		}
		for i, env := range container.Env {
			epath := cpath.Child("env").Index(i)
			for _, msg := range validation.IsRelaxedEnvVarName(env.Name) {
				errs = append(errs, field.Invalid(epath.Child("name"), env.Name, msg))
			}
			if env.Value != "" && env.ValueFrom != nil {
				errs = append(errs, field.Invalid(epath.Child("valueFrom"), "", "may not be specified when `value` is not empty"))
			}
		}
		mounts := map[string]bool{}
		for i, mount := range container.VolumeMounts {
			mpath := cpath.Child("volumeMounts").Index(i)
			if !volumes[mount.Name] {
				errs = append(errs, field.NotFound(mpath.Child("name"), mount.Name))
			}
			if mount.MountPath == "" {
				errs = append(errs, field.Required(mpath.Child("mountPath"), ""))
			}
			if mounts[mount.MountPath] {
				errs = append(errs, field.Invalid(mpath.Child("mountPath"), mount.MountPath, "must be unique"))
			}
			mounts[mount.MountPath] = true
		}
		for name, limit := range container.Resources.Limits {
			if request, ok := container.Resources.Requests[name]; ok && request.Cmp(limit) > 0 {
				errs = append(errs, field.Invalid(cpath.Child("resources", "requests").Key(string(name)), request.String(), fmt.Sprintf("must be less than or equal to %s limit of %s", name, limit.String())))
			}
		}
		for _, probe := range []struct {
			name  string
			probe *corev1.Probe
		}{{"livenessProbe", container.LivenessProbe}, {"readinessProbe", container.ReadinessProbe}, {"startupProbe", container.StartupProbe}} {
			if probe.probe == nil {
				continue
			}
			if get := probe.probe.HTTPGet; get != nil && get.Port.Type == intstr.String && !ports[get.Port.StrVal] {
				errs = append(errs, field.NotFound(cpath.Child(probe.name, "httpGet", "port"), get.Port.StrVal))
			}
		}
	}
	for i := range spec.InitContainers {
		check(&spec.InitContainers[i], path.Child("initContainers").Index(i))
	}
	for i := range spec.Containers {
		check(&spec.Containers[i], path.Child("containers").Index(i))
	}
	if spec.ServiceAccountName != "" {
		for _, msg := range validation.IsDNS1123Subdomain(spec.ServiceAccountName) {
			errs = append(errs, field.Invalid(path.Child("serviceAccountName"), spec.ServiceAccountName, msg))
		}
	}
	for i, toleration := range spec.Tolerations {
		tpath := path.Child("tolerations").Index(i)
		if toleration.Operator == corev1.TolerationOpExists && toleration.Value != "" {
			errs = append(errs, field.Invalid(tpath.Child("operator"), toleration.Operator, "value must be empty when `operator` is 'Exists'"))
		}
		if toleration.Key == "" && toleration.Operator != corev1.TolerationOpExists {
			errs = append(errs, field.Invalid(tpath.Child("operator"), toleration.Operator, "operator must be Exists when `key` is empty"))
		}
	}
	return errs
}

// countSources counts the volume sources set in one volume (exactly one is allowed).
func countSources(source corev1.VolumeSource) int {
	data, _ := json.Marshal(source)
	var fields map[string]json.RawMessage
	_ = json.Unmarshal(data, &fields)
	return len(fields)
}

func checkService(service *corev1.Service) field.ErrorList {
	var errs field.ErrorList
	path := field.NewPath("spec", "ports")
	if len(service.Spec.Ports) == 0 && service.Spec.Type != corev1.ServiceTypeExternalName && service.Spec.ClusterIP != corev1.ClusterIPNone {
		errs = append(errs, field.Required(path, ""))
	}
	names := map[string]bool{}
	for i, port := range service.Spec.Ports {
		ppath := path.Index(i)
		if len(service.Spec.Ports) > 1 && port.Name == "" {
			errs = append(errs, field.Required(ppath.Child("name"), "required when more than one port"))
		}
		if port.Name != "" {
			for _, msg := range validation.IsDNS1123Label(port.Name) {
				errs = append(errs, field.Invalid(ppath.Child("name"), port.Name, msg))
			}
			if names[port.Name] {
				errs = append(errs, field.Duplicate(ppath.Child("name"), port.Name))
			}
			names[port.Name] = true
		}
		for _, msg := range validation.IsValidPortNum(int(port.Port)) {
			errs = append(errs, field.Invalid(ppath.Child("port"), port.Port, msg))
		}
		if port.TargetPort.Type == intstr.String {
			for _, msg := range validation.IsValidPortName(port.TargetPort.StrVal) {
				errs = append(errs, field.Invalid(ppath.Child("targetPort"), port.TargetPort.StrVal, msg))
			}
		}
	}
	for key, value := range service.Spec.Selector {
		errs = append(errs, metav1validation.ValidateLabels(map[string]string{key: value}, field.NewPath("spec", "selector"))...)
	}
	return errs
}

func checkDataKeys(a, b []string, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	seen := map[string]bool{}
	for _, key := range append(a, b...) {
		for _, msg := range validation.IsConfigMapKey(key) {
			errs = append(errs, field.Invalid(path.Key(key), key, msg))
		}
		if seen[key] {
			errs = append(errs, field.Duplicate(path.Key(key), key))
		}
		seen[key] = true
	}
	return errs
}

func keysOf[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for key := range m {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	return keys
}

func checkPolicyRules(rules []rbacv1.PolicyRule, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, rule := range rules {
		rpath := path.Index(i)
		if len(rule.Verbs) == 0 {
			errs = append(errs, field.Required(rpath.Child("verbs"), "verbs must contain at least one value"))
		}
		if len(rule.NonResourceURLs) > 0 {
			if len(rule.APIGroups) > 0 || len(rule.Resources) > 0 {
				errs = append(errs, field.Invalid(rpath.Child("nonResourceURLs"), rule.NonResourceURLs, "rules cannot apply to both regular resources and non-resource URLs"))
			}
			continue
		}
		if len(rule.APIGroups) == 0 {
			errs = append(errs, field.Required(rpath.Child("apiGroups"), "resource rules must supply at least one api group"))
		}
		if len(rule.Resources) == 0 {
			errs = append(errs, field.Required(rpath.Child("resources"), "resource rules must supply at least one resource"))
		}
	}
	return errs
}

func checkRoleBinding(ref rbacv1.RoleRef, subjects []rbacv1.Subject, cluster bool) field.ErrorList {
	var errs field.ErrorList
	path := field.NewPath("roleRef")
	if ref.APIGroup != rbacv1.GroupName {
		errs = append(errs, field.NotSupported(path.Child("apiGroup"), ref.APIGroup, []string{rbacv1.GroupName}))
	}
	if cluster && ref.Kind != "ClusterRole" {
		errs = append(errs, field.NotSupported(path.Child("kind"), ref.Kind, []string{"ClusterRole"}))
	}
	if !cluster && ref.Kind != "ClusterRole" && ref.Kind != "Role" {
		errs = append(errs, field.NotSupported(path.Child("kind"), ref.Kind, []string{"ClusterRole", "Role"}))
	}
	if ref.Name == "" {
		errs = append(errs, field.Required(path.Child("name"), ""))
	}
	for i, subject := range subjects {
		spath := field.NewPath("subjects").Index(i)
		if subject.Kind == rbacv1.ServiceAccountKind {
			if subject.Namespace == "" {
				errs = append(errs, field.Required(spath.Child("namespace"), ""))
			}
			if subject.APIGroup != "" {
				errs = append(errs, field.NotSupported(spath.Child("apiGroup"), subject.APIGroup, []string{""}))
			}
		}
		if subject.Name == "" {
			errs = append(errs, field.Required(spath.Child("name"), ""))
		}
	}
	return errs
}

func checkNetworkPolicy(policy *networkingv1.NetworkPolicy) field.ErrorList {
	var errs field.ErrorList
	errs = append(errs, checkSelector(&policy.Spec.PodSelector, field.NewPath("spec", "podSelector"))...)
	for i, kind := range policy.Spec.PolicyTypes {
		if kind != networkingv1.PolicyTypeIngress && kind != networkingv1.PolicyTypeEgress {
			errs = append(errs, field.NotSupported(field.NewPath("spec", "policyTypes").Index(i), kind, []string{"Ingress", "Egress"}))
		}
	}
	checkPorts := func(ports []networkingv1.NetworkPolicyPort, path *field.Path) {
		for i, port := range ports {
			if port.Port != nil && port.Port.Type == intstr.Int {
				for _, msg := range validation.IsValidPortNum(int(port.Port.IntVal)) {
					errs = append(errs, field.Invalid(path.Index(i).Child("port"), port.Port.IntVal, msg))
				}
			}
			if port.Protocol != nil && *port.Protocol != corev1.ProtocolTCP && *port.Protocol != corev1.ProtocolUDP && *port.Protocol != corev1.ProtocolSCTP {
				errs = append(errs, field.NotSupported(path.Index(i).Child("protocol"), *port.Protocol, []string{"TCP", "UDP", "SCTP"}))
			}
		}
	}
	checkPeers := func(peers []networkingv1.NetworkPolicyPeer, path *field.Path) {
		for i, peer := range peers {
			ppath := path.Index(i)
			set := 0
			if peer.PodSelector != nil || peer.NamespaceSelector != nil {
				set++
			}
			if peer.IPBlock != nil {
				set++
				if peer.IPBlock.CIDR == "" {
					errs = append(errs, field.Required(ppath.Child("ipBlock", "cidr"), ""))
				}
			}
			if set != 1 {
				errs = append(errs, field.Invalid(ppath, "", "must specify either podSelector/namespaceSelector or ipBlock"))
			}
			if peer.PodSelector != nil {
				errs = append(errs, checkSelector(peer.PodSelector, ppath.Child("podSelector"))...)
			}
			if peer.NamespaceSelector != nil {
				errs = append(errs, checkSelector(peer.NamespaceSelector, ppath.Child("namespaceSelector"))...)
			}
		}
	}
	for i, rule := range policy.Spec.Ingress {
		path := field.NewPath("spec", "ingress").Index(i)
		checkPorts(rule.Ports, path.Child("ports"))
		checkPeers(rule.From, path.Child("from"))
	}
	for i, rule := range policy.Spec.Egress {
		path := field.NewPath("spec", "egress").Index(i)
		checkPorts(rule.Ports, path.Child("ports"))
		checkPeers(rule.To, path.Child("to"))
	}
	return errs
}

func checkPromDuration(value string, path *field.Path) field.ErrorList {
	if value == "" || promDuration.MatchString(value) {
		return nil
	}
	return field.ErrorList{field.Invalid(path, value, "must be a Prometheus duration such as 30s or 1m")}
}

func checkRuleGroups(rule *monitoringv1.PrometheusRule) field.ErrorList {
	var errs field.ErrorList
	groups := map[string]bool{}
	for i, group := range rule.Spec.Groups {
		gpath := field.NewPath("spec", "groups").Index(i)
		if group.Name == "" {
			errs = append(errs, field.Required(gpath.Child("name"), ""))
		}
		if groups[group.Name] {
			errs = append(errs, field.Duplicate(gpath.Child("name"), group.Name))
		}
		groups[group.Name] = true
		if group.Interval != nil {
			errs = append(errs, checkPromDuration(string(*group.Interval), gpath.Child("interval"))...)
		}
		for j, r := range group.Rules {
			rpath := gpath.Child("rules").Index(j)
			if (r.Alert == "") == (r.Record == "") {
				errs = append(errs, field.Invalid(rpath, "", "exactly one of alert and record is required"))
			}
			if r.Expr.String() == "" {
				errs = append(errs, field.Required(rpath.Child("expr"), ""))
			}
			if r.For != nil {
				errs = append(errs, checkPromDuration(string(*r.For), rpath.Child("for"))...)
			}
		}
	}
	return errs
}

func toStrings(errs field.ErrorList) []string {
	out := make([]string, 0, len(errs))
	for _, err := range errs {
		out = append(out, err.Error())
	}
	return out
}
