package integration

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/domac/crddemo/internal/controlplane"
	testcontrolplane "github.com/domac/crddemo/test/controlplane"
)

const (
	deployNamespace      = "crddemo-system"
	deployServiceAccount = "system:serviceaccount:crddemo-system:crddemo"
)

// manifest is one object of the kustomize output, as YAML.
type manifest struct {
	kind, name, namespace string
	labels                map[string]string
	yaml                  []byte
}

// TestManifests checks deploy/, what make deploy applies: the real API
// server must accept every object, the ServiceAccount must be granted what
// crddemo needs and nothing more, and the Deployment must run it locked
// down.
func TestManifests(t *testing.T) {
	cp := testcontrolplane.StartForTest(t)
	rendered := kubectl(t, cp, "", "kustomize", repoFile(t, "deploy"))
	manifests := splitManifests(t, rendered)

	t.Run("objects", func(t *testing.T) {
		want := []string{
			"Namespace/crddemo-system",
			"CustomResourceDefinition/mydemos.crddemo.k8s.io",
			"ServiceAccount/crddemo",
			"ClusterRole/crddemo",
			"ClusterRoleBinding/crddemo",
			"ClusterRole/crddemo-metrics-reader",
			"ClusterRole/crddemo-pprof-reader",
			"ClusterRole/crddemo-metrics-auth",
			"ClusterRoleBinding/crddemo-metrics-auth",
			"Role/crddemo-leader-election",
			"RoleBinding/crddemo-leader-election",
			"Deployment/crddemo",
			"Service/crddemo-metrics",
			"NetworkPolicy/crddemo",
		}
		clusterScoped := []string{"Namespace", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding"}
		var got []string
		for _, m := range manifests {
			got = append(got, m.kind+"/"+m.name)
			if m.labels["app.kubernetes.io/name"] != "crddemo" {
				t.Errorf("%s/%s has labels %v, want app.kubernetes.io/name=crddemo", m.kind, m.name, m.labels)
			}
			wantNamespace := deployNamespace
			if slices.Contains(clusterScoped, m.kind) {
				wantNamespace = ""
			}
			if m.namespace != wantNamespace {
				t.Errorf("%s/%s is in namespace %q, want %q", m.kind, m.name, m.namespace, wantNamespace)
			}
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("kubectl kustomize deploy made %q, want %q", got, want)
		}
	})

	// A server-side dry run persists nothing, so the objects that live in
	// crddemo-system would be rejected for want of the namespace. Creating
	// the Namespace and the CRD for real first lets the dry run judge every
	// object as a first install would meet it. The Deployment never runs a
	// pod: this control plane has no nodes and no controller-manager.
	var prerequisites []string
	for _, m := range manifests {
		if m.kind == "Namespace" || m.kind == "CustomResourceDefinition" {
			prerequisites = append(prerequisites, string(m.yaml))
		}
	}
	kubectl(t, cp, strings.Join(prerequisites, "---\n"), "apply", "-f", "-")
	dryRun := kubectl(t, cp, rendered, "apply", "--dry-run=server", "-f", "-")
	if n := strings.Count(dryRun, "(server dry run)"); n != len(manifests) {
		t.Errorf("the server dry run reported %d objects, want all %d:\n%s", n, len(manifests), dryRun)
	}
	// The namespace's Pod Security labels make the API server warn about a
	// Deployment whose pods the restricted profile would refuse.
	if strings.Contains(dryRun, "Warning") {
		t.Errorf("the API server warned about the manifests:\n%s", dryRun)
	}

	t.Run("ClusterRole grants exactly what the controller uses", func(t *testing.T) {
		role := decodeManifest[rbacv1.ClusterRole](t, manifests, "ClusterRole", "crddemo")
		want := []string{
			`"crddemo.k8s.io" mydemos get`, `"crddemo.k8s.io" mydemos list`, `"crddemo.k8s.io" mydemos watch`,
			`"crddemo.k8s.io" mydemos/status patch`,
			`"" events create`, `"" events patch`,
		}
		if got := grants(role.Rules); !slices.Equal(got, slices.Sorted(slices.Values(want))) {
			t.Errorf("ClusterRole crddemo grants %q, want exactly %q", got, want)
		}
		for _, rule := range role.Rules {
			if len(rule.ResourceNames) > 0 || len(rule.NonResourceURLs) > 0 {
				t.Errorf("ClusterRole crddemo has a rule beyond plain resources: %+v", rule)
			}
		}
	})

	t.Run("Role grants only the leader-election Lease", func(t *testing.T) {
		role := decodeManifest[rbacv1.Role](t, manifests, "Role", "crddemo-leader-election")
		want := []string{
			`"coordination.k8s.io" leases create`, `"coordination.k8s.io" leases get`, `"coordination.k8s.io" leases update`,
		}
		if got := grants(role.Rules); !slices.Equal(got, slices.Sorted(slices.Values(want))) {
			t.Errorf("Role crddemo-leader-election grants %q, want exactly %q", got, want)
		}
	})

	t.Run("metrics ClusterRoles grant reading crddemo's metrics or profiles, and reviewing who does", func(t *testing.T) {
		for role, want := range map[string]string{
			"crddemo-metrics-reader": `"crddemo.k8s.io" mydemos/metrics get`,
			"crddemo-pprof-reader":   `"crddemo.k8s.io" mydemos/pprof get`,
		} {
			reader := decodeManifest[rbacv1.ClusterRole](t, manifests, "ClusterRole", role)
			if got := grants(reader.Rules); !slices.Equal(got, []string{want}) {
				t.Errorf("ClusterRole %s grants %q, want exactly %q", role, got, want)
			}
		}
		auth := decodeManifest[rbacv1.ClusterRole](t, manifests, "ClusterRole", "crddemo-metrics-auth")
		want := []string{`"authentication.k8s.io" tokenreviews create`, `"authorization.k8s.io" subjectaccessreviews create`}
		if got := grants(auth.Rules); !slices.Equal(got, want) {
			t.Errorf("ClusterRole crddemo-metrics-auth grants %q, want exactly %q", got, want)
		}
	})

	t.Run("no wildcard in any role", func(t *testing.T) {
		for _, m := range manifests {
			if m.kind != "Role" && m.kind != "ClusterRole" {
				continue
			}
			var role rbacv1.ClusterRole // a Role's fields are a subset
			if err := yaml.Unmarshal(m.yaml, &role); err != nil {
				t.Fatalf("%s/%s: %v", m.kind, m.name, err)
			}
			for _, rule := range role.Rules {
				for _, list := range [][]string{rule.APIGroups, rule.Resources, rule.Verbs, rule.ResourceNames, rule.NonResourceURLs} {
					if slices.ContainsFunc(list, func(s string) bool { return strings.Contains(s, "*") }) {
						t.Errorf("%s/%s has a wildcard: %+v", m.kind, m.name, rule)
					}
				}
			}
		}
	})

	t.Run("Deployment runs crddemo locked down", func(t *testing.T) {
		deploy := decodeManifest[appsv1.Deployment](t, manifests, "Deployment", "crddemo")
		checkDeployment(t, deploy)
		account := decodeManifest[corev1.ServiceAccount](t, manifests, "ServiceAccount", "crddemo")
		if account.AutomountServiceAccountToken == nil || *account.AutomountServiceAccountToken {
			t.Errorf("ServiceAccount crddemo automounts its token; the Deployment mounts it itself")
		}
	})

	t.Run("Service exposes the metrics port", func(t *testing.T) {
		service := decodeManifest[corev1.Service](t, manifests, "Service", "crddemo-metrics")
		deploy := decodeManifest[appsv1.Deployment](t, manifests, "Deployment", "crddemo")
		var got []string
		for _, port := range service.Spec.Ports {
			got = append(got, fmt.Sprintf("%s %s %d to %s", port.Name, port.Protocol, port.Port, port.TargetPort.String()))
		}
		if want := []string{"metrics TCP 8443 to metrics"}; !slices.Equal(got, want) {
			t.Errorf("Service crddemo-metrics has ports %q, want exactly %q", got, want)
		}
		if !slices.ContainsFunc(deploy.Spec.Template.Spec.Containers[0].Ports, func(p corev1.ContainerPort) bool {
			return p.Name == "metrics" && p.ContainerPort == 8443
		}) {
			t.Errorf("the Deployment has no container port metrics on 8443: %+v", deploy.Spec.Template.Spec.Containers[0].Ports)
		}
	})

	t.Run("NetworkPolicy admits only metrics readers and probes", func(t *testing.T) {
		policy := decodeManifest[networkingv1.NetworkPolicy](t, manifests, "NetworkPolicy", "crddemo")
		if !slices.Equal(policy.Spec.PolicyTypes, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}) ||
			policy.Spec.PodSelector.MatchLabels["app.kubernetes.io/name"] != "crddemo" {
			t.Errorf("NetworkPolicy does not govern ingress to the crddemo pods: %+v", policy.Spec)
		}
		// A rule with no from admits every source, shown here as null.
		want := []string{
			`TCP 8081 from null`,
			`TCP 8443 from [{"namespaceSelector":{"matchLabels":{"crddemo.k8s.io/metrics-reader":"true"}}}]`,
		}
		var got []string
		for _, rule := range policy.Spec.Ingress {
			from, err := json.Marshal(rule.From)
			if err != nil {
				t.Fatal(err)
			}
			for _, port := range rule.Ports {
				got = append(got, fmt.Sprintf("%s %s from %s", deref(port.Protocol), port.Port, from))
			}
			if len(rule.Ports) == 0 {
				got = append(got, "every port from "+string(from))
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("NetworkPolicy admits %q, want exactly %q", got, want)
		}
	})

	t.Run("deploy/monitoring's PodMonitor scrapes every replica over HTTPS with its scraper's token", func(t *testing.T) {
		monitoring := splitManifests(t, kubectl(t, cp, "", "kustomize", repoFile(t, "deploy/monitoring")))
		monitor := decodeManifest[podMonitor](t, monitoring, "PodMonitor", "crddemo")
		deploy := decodeManifest[appsv1.Deployment](t, manifests, "Deployment", "crddemo")
		if monitor.Namespace != deployNamespace ||
			!reflect.DeepEqual(monitor.Spec.Selector.MatchLabels, deploy.Spec.Template.Labels) {
			t.Errorf("PodMonitor in %q selects %v, want the pods in %q labelled %v",
				monitor.Namespace, monitor.Spec.Selector.MatchLabels, deployNamespace, deploy.Spec.Template.Labels)
		}
		want := podMetricsEndpoint{Port: "metrics", Scheme: "https", Path: "/metrics", Interval: "30s"}
		want.Authorization.Type = "Bearer"
		want.Authorization.Credentials.Name, want.Authorization.Credentials.Key = "crddemo-metrics-scraper-token", "token"
		want.TLSConfig.InsecureSkipVerify = true
		if len(monitor.Spec.PodMetricsEndpoints) != 1 || monitor.Spec.PodMetricsEndpoints[0] != want {
			t.Fatalf("PodMonitor endpoints = %+v, want exactly %+v", monitor.Spec.PodMetricsEndpoints, want)
		}
		if port := deploy.Spec.Template.Spec.Containers[0].Ports[0]; port.Name != want.Port || port.ContainerPort != 8443 {
			t.Errorf("the Deployment's first port is %s:%d, want the PodMonitor's %q on 8443", port.Name, port.ContainerPort, want.Port)
		}
		token := decodeManifest[corev1.Secret](t, monitoring, "Secret", want.Authorization.Credentials.Name)
		if token.Namespace != deployNamespace || token.Type != corev1.SecretTypeServiceAccountToken ||
			token.Annotations[corev1.ServiceAccountNameKey] != "crddemo-metrics-scraper" {
			t.Errorf("the scraper's token Secret is %s/%s of type %s for %q, want crddemo-metrics-scraper's token in %s",
				token.Namespace, token.Name, token.Type, token.Annotations[corev1.ServiceAccountNameKey], deployNamespace)
		}
		// Only the scraper's identity can be applied here: the API server has
		// no PodMonitor or PrometheusRule CRD.
		var scraper []string
		for _, m := range monitoring {
			if m.kind == "ServiceAccount" || m.kind == "RoleBinding" || m.kind == "ClusterRoleBinding" {
				scraper = append(scraper, string(m.yaml))
			}
		}
		kubectl(t, cp, rendered, "apply", "-f", "-")
		kubectl(t, cp, strings.Join(scraper, "\n---\n"), "apply", "-f", "-")
		// What crddemo asks about (--metrics-authorization=resource) is
		// granted, in crddemo's namespace only; kube-apiserver's /metrics,
		// and every other component's, is not.
		scraperUser := "system:serviceaccount:" + deployNamespace + ":crddemo-metrics-scraper"
		for _, check := range []struct {
			args []string
			want bool
		}{
			{[]string{"get", "mydemos.crddemo.k8s.io", "--subresource=metrics", "--namespace=" + deployNamespace}, true},
			{[]string{"get", "/metrics"}, false},
			{[]string{"get", "mydemos.crddemo.k8s.io", "--subresource=metrics", "--namespace=default"}, false},
			{[]string{"get", "mydemos.crddemo.k8s.io", "--subresource=pprof", "--namespace=" + deployNamespace}, false},
			{[]string{"get", "/debug/pprof/"}, false},
			{[]string{"get", "mydemos.crddemo.k8s.io", "--namespace=" + deployNamespace}, false},
		} {
			if got := canI(t, cp, scraperUser, check.args...); got != check.want {
				t.Errorf("kubectl auth can-i %s as %s = %v, want %v", strings.Join(check.args, " "), scraperUser, got, check.want)
			}
		}
	})

	t.Run("the deploy/sharded component runs three replicas over six shards, with the Leases they need", func(t *testing.T) {
		sharded := kubectl(t, cp, "", "kustomize", overlayWith(t, "deploy/sharded"))
		kubectl(t, cp, sharded, "apply", "--dry-run=server", "-f", "-")
		manifests := splitManifests(t, sharded)
		deploy := decodeManifest[appsv1.Deployment](t, manifests, "Deployment", "crddemo")
		args := deploy.Spec.Template.Spec.Containers[0].Args
		if deref(deploy.Spec.Replicas) != 3 || !slices.Contains(args, "--shards=6") || !slices.Contains(args, "--leader-elect") {
			t.Errorf("deploy/sharded runs %d replicas with %q, want 3 with --leader-elect and --shards=6", deref(deploy.Spec.Replicas), args)
		}
		// A rolling update that changes --shards never drops below three
		// replicas, and paces itself so that each new one can take its
		// ranges before the next old one stops.
		if rolling := deploy.Spec.Strategy.RollingUpdate; rolling == nil || rolling.MaxSurge.String() != "1" ||
			rolling.MaxUnavailable.String() != "0" || deploy.Spec.MinReadySeconds < 10 {
			t.Errorf("deploy/sharded rolls out with %+v and minReadySeconds %d, want maxSurge 1, maxUnavailable 0 and at least 10",
				deploy.Spec.Strategy, deploy.Spec.MinReadySeconds)
		}
		role := decodeManifest[rbacv1.Role](t, manifests, "Role", "crddemo-sharding")
		want := []string{`"coordination.k8s.io" leases delete`, `"coordination.k8s.io" leases get`,
			`"coordination.k8s.io" leases list`, `"coordination.k8s.io" leases update`}
		if got := grants(role.Rules); !slices.Equal(got, want) || role.Namespace != deployNamespace {
			t.Errorf("Role %s/crddemo-sharding grants %q, want %q in %s", role.Namespace, got, want, deployNamespace)
		}
	})

	// The checks above read the rules; these ask the API server's own
	// authorizer what the ServiceAccount may do once everything is applied,
	// which also proves that the bindings name the right subject and roles.
	kubectl(t, cp, rendered, "apply", "-f", "-")
	permissions := []struct {
		args []string
		want bool
	}{
		{[]string{"list", "mydemos.crddemo.k8s.io", "--all-namespaces"}, true},
		{[]string{"watch", "mydemos.crddemo.k8s.io", "--all-namespaces"}, true},
		{[]string{"get", "mydemos.crddemo.k8s.io", "-n", "default"}, true},
		{[]string{"patch", "mydemos.crddemo.k8s.io", "--subresource=status", "-n", "default"}, true},
		{[]string{"update", "mydemos.crddemo.k8s.io", "--subresource=status", "-n", "default"}, false},
		{[]string{"patch", "events", "-n", "default"}, true},
		{[]string{"create", "events", "-n", "default"}, true},
		{[]string{"create", "leases.coordination.k8s.io", "-n", deployNamespace}, true},
		{[]string{"update", "leases.coordination.k8s.io/crddemo", "-n", deployNamespace}, true},
		{[]string{"create", "mydemos.crddemo.k8s.io", "-n", "default"}, false},
		{[]string{"update", "mydemos.crddemo.k8s.io", "-n", "default"}, false},
		{[]string{"delete", "mydemos.crddemo.k8s.io", "-n", "default"}, false},
		{[]string{"update", "leases.coordination.k8s.io/kube-controller-manager", "-n", deployNamespace}, false},
		{[]string{"create", "leases.coordination.k8s.io", "-n", "default"}, false},
		{[]string{"get", "secrets", "-n", deployNamespace}, false},
		{[]string{"get", "pods", "-n", deployNamespace}, false},
		{[]string{"create", "tokenreviews.authentication.k8s.io"}, true},
		{[]string{"create", "subjectaccessreviews.authorization.k8s.io"}, true},
		{[]string{"create", "localsubjectaccessreviews.authorization.k8s.io", "-n", deployNamespace}, false},
		{[]string{"get", "/metrics"}, false},
	}
	for _, p := range permissions {
		t.Run("can-i "+strings.Join(p.args, " "), func(t *testing.T) {
			if got := canI(t, cp, deployServiceAccount, p.args...); got != p.want {
				t.Errorf("%s can %s: %v, want %v", deployServiceAccount, strings.Join(p.args, " "), got, p.want)
			}
		})
	}
}

// overlayWith writes an overlay of deploy/ with the component at the
// repository path component, as deploy/sharded tells users to, and returns
// its directory.
func overlayWith(t *testing.T, component string) string {
	t.Helper()
	overlay := t.TempDir()
	// kustomize takes a base or component only by a relative path.
	deployDir, err := filepath.Rel(overlay, repoFile(t, "deploy"))
	if err != nil {
		t.Fatal(err)
	}
	componentDir, err := filepath.Rel(overlay, repoFile(t, component))
	if err != nil {
		t.Fatal(err)
	}
	kustomization := fmt.Sprintf("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"+
		"resources:\n  - %s\ncomponents:\n  - %s\n", deployDir, componentDir)
	if err := os.WriteFile(filepath.Join(overlay, "kustomization.yaml"), []byte(kustomization), 0o600); err != nil {
		t.Fatal(err)
	}
	return overlay
}

// podMonitor is the part of a Prometheus Operator PodMonitor that
// deploy/monitoring sets; decoded strictly, any other field fails the test.
type podMonitor struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		JobLabel            string               `json:"jobLabel"`
		Selector            metav1.LabelSelector `json:"selector"`
		PodMetricsEndpoints []podMetricsEndpoint `json:"podMetricsEndpoints"`
	} `json:"spec"`
}

type podMetricsEndpoint struct {
	Port          string `json:"port"`
	Scheme        string `json:"scheme"`
	Path          string `json:"path"`
	Interval      string `json:"interval"`
	Authorization struct {
		Type        string `json:"type"`
		Credentials struct {
			Name string `json:"name"`
			Key  string `json:"key"`
		} `json:"credentials"`
	} `json:"authorization"`
	TLSConfig struct {
		InsecureSkipVerify bool `json:"insecureSkipVerify"`
	} `json:"tlsConfig"`
}

// checkDeployment checks the security settings, replicas, flags and probes
// of the crddemo Deployment. Its memory limit and grace period are held to
// what crddemo was measured to need by TestDeploymentFitsMeasurement, in the
// root package, which knows the sync timeout and parses crddemo's flags.
func checkDeployment(t *testing.T, deploy *appsv1.Deployment) {
	t.Helper()
	pod := deploy.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("Deployment has %d containers, want 1", len(pod.Containers))
	}
	c := pod.Containers[0]
	podSec, sec := pod.SecurityContext, c.SecurityContext
	if podSec == nil || sec == nil {
		t.Fatalf("Deployment lacks a pod or container securityContext")
	}
	probePort := func(p *corev1.Probe) string {
		if p == nil || p.HTTPGet == nil {
			return "no HTTP probe"
		}
		port := p.HTTPGet.Port.String()
		for _, named := range c.Ports {
			if named.Name == port {
				port = strconv.Itoa(int(named.ContainerPort))
			}
		}
		return p.HTTPGet.Path + " on " + port
	}
	checks := []struct {
		what      string
		got, want any
	}{
		{"replicas", deref(deploy.Spec.Replicas), int32(2)},
		{"serviceAccountName", pod.ServiceAccountName, "crddemo"},
		{"runAsNonRoot", deref(podSec.RunAsNonRoot), true},
		{"runAsUser", deref(podSec.RunAsUser), int64(65532)},
		{"runAsGroup", deref(podSec.RunAsGroup), int64(65532)},
		{"seccompProfile", podSec.SeccompProfile, &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
		{"readOnlyRootFilesystem", deref(sec.ReadOnlyRootFilesystem), true},
		{"allowPrivilegeEscalation", deref(sec.AllowPrivilegeEscalation), false},
		{"capabilities", sec.Capabilities, &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}},
		{"privileged", deref(sec.Privileged), false},
		{"--leader-elect", slices.Contains(c.Args, "--leader-elect"), true},
		{"--metrics-bind-address", slices.Contains(c.Args, "--metrics-bind-address=:8443"), true},
		{"--metrics-secure left on, its default", slices.ContainsFunc(c.Args, func(arg string) bool { return strings.HasPrefix(arg, "--metrics-secure") }), false},
		{"--health-probe-bind-address", slices.Contains(c.Args, "--health-probe-bind-address=:8081"), true},
		{"livenessProbe", probePort(c.LivenessProbe), "/healthz on 8081"},
		{"readinessProbe", probePort(c.ReadinessProbe), "/readyz on 8081"},
		{"POD_NAMESPACE", envFieldPath(c.Env, "POD_NAMESPACE"), "metadata.namespace"},
	}
	for _, check := range checks {
		if !reflect.DeepEqual(check.got, check.want) {
			t.Errorf("Deployment %s = %+v, want %+v", check.what, check.got, check.want)
		}
	}

	// The token that serviceaccount.yaml does not automount is mounted
	// read-only, by this container alone, where client-go looks for it.
	var mounted bool
	for _, m := range c.VolumeMounts {
		if m.MountPath == "/var/run/secrets/kubernetes.io/serviceaccount" {
			mounted = m.ReadOnly
			for _, v := range pod.Volumes {
				if v.Name == m.Name && v.Projected != nil {
					mounted = mounted && slices.ContainsFunc(v.Projected.Sources, func(s corev1.VolumeProjection) bool {
						// 3600 s, not 3607 s, which the API server would
						// answer with a token valid for a year.
						return s.ServiceAccountToken != nil && s.ServiceAccountToken.Path == "token" &&
							deref(s.ServiceAccountToken.ExpirationSeconds) == 3600
					})
				}
			}
		}
	}
	if !mounted {
		t.Errorf("Deployment does not mount a one-hour projected token read-only at the in-cluster path: %+v, %+v", c.VolumeMounts, pod.Volumes)
	}
}

// splitManifests splits kustomize output into its objects.
func splitManifests(t *testing.T, rendered string) []manifest {
	t.Helper()
	reader := utilyaml.NewYAMLReader(bufio.NewReader(strings.NewReader(rendered)))
	var manifests []manifest
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return manifests
		}
		if err != nil {
			t.Fatalf("reading the kustomize output: %v", err)
		}
		var head struct {
			metav1.TypeMeta   `json:",inline"`
			metav1.ObjectMeta `json:"metadata"`
		}
		if err := yaml.Unmarshal(doc, &head); err != nil {
			t.Fatalf("kustomize output: %v\n%s", err, doc)
		}
		if head.Kind == "" {
			continue
		}
		manifests = append(manifests, manifest{
			kind: head.Kind, name: head.Name, namespace: head.Namespace, labels: head.Labels, yaml: doc,
		})
	}
}

// decodeManifest decodes the object of kind and name strictly, so that a
// misspelt field fails the test instead of being dropped.
func decodeManifest[T any](t *testing.T, manifests []manifest, kind, name string) *T {
	t.Helper()
	for _, m := range manifests {
		if m.kind != kind || m.name != name {
			continue
		}
		obj := new(T)
		if err := yaml.UnmarshalStrict(m.yaml, obj); err != nil {
			t.Fatalf("%s/%s: %v", kind, name, err)
		}
		return obj
	}
	t.Fatalf("kustomize output has no %s/%s", kind, name)
	return nil
}

// grants flattens RBAC rules into sorted lines of a quoted API group (the
// core group is ""), a resource and a verb, or of a non-resource URL and a
// verb.
func grants(rules []rbacv1.PolicyRule) []string {
	var lines []string
	for _, rule := range rules {
		for _, url := range rule.NonResourceURLs {
			for _, verb := range rule.Verbs {
				lines = append(lines, url+" "+verb)
			}
		}
		for _, group := range rule.APIGroups {
			for _, res := range rule.Resources {
				for _, verb := range rule.Verbs {
					lines = append(lines, fmt.Sprintf("%q %s %s", group, res, verb))
				}
			}
		}
	}
	slices.Sort(lines)
	return slices.Compact(lines)
}

// canI asks the API server whether user may do what args describe, as
// kubectl auth can-i does: it answers yes, or no with exit code 1.
func canI(t *testing.T, cp *controlplane.ControlPlane, user string, args ...string) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	out, err := cp.Kubectl(ctx, append([]string{"auth", "can-i", "--as=" + user}, args...)...).Output()
	answer := strings.TrimSpace(string(out))
	var exit *exec.ExitError
	switch {
	case err == nil && answer == "yes":
		return true
	case errors.As(err, &exit) && exit.ExitCode() == 1 && answer == "no":
		return false
	}
	t.Fatalf("kubectl auth can-i %s: %q, %v", strings.Join(args, " "), answer, err)
	return false
}

// envFieldPath returns the downward-API field that the environment variable
// name is set from, if any.
func envFieldPath(env []corev1.EnvVar, name string) string {
	for _, e := range env {
		if e.Name == name && e.ValueFrom != nil && e.ValueFrom.FieldRef != nil {
			return e.ValueFrom.FieldRef.FieldPath
		}
	}
	return ""
}

// deref returns what p points at, or the zero value for a nil p, which is
// how the API server reads an unset field.
func deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}
