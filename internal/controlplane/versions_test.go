package controlplane

import (
	"strings"
	"testing"
)

// TestKubernetesVersionsAgree keeps crddemo on one Kubernetes release: the
// control plane that hack/tools/go.mod pins, the staging modules it replaces,
// and the k8s.io libraries and code-generator that crddemo's own go.mod
// requires. Kubernetes v1.X.Y ships its staging modules as v0.X.Y.
func TestKubernetesVersionsAgree(t *testing.T) {
	kube, err := PinnedKubernetesVersion()
	if err != nil {
		t.Fatal(err)
	}
	staging := "v0." + strings.SplitN(strings.TrimPrefix(kube, "v"), ".", 2)[1]

	tools, err := parseGoMod("hack/tools/go.mod")
	if err != nil {
		t.Fatal(err)
	}
	isStaging := map[string]bool{}
	for _, rep := range tools.Replace {
		isStaging[rep.Old.Path] = true
		if rep.New.Version != staging {
			t.Errorf("hack/tools/go.mod replaces %s with %s, want %s to match k8s.io/kubernetes %s",
				rep.Old.Path, rep.New.Version, staging, kube)
		}
	}
	if len(isStaging) == 0 {
		t.Fatal("hack/tools/go.mod replaces no staging module")
	}

	main, err := parseGoMod("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, req := range main.Require {
		if !isStaging[req.Mod.Path] {
			continue
		}
		checked++
		if req.Mod.Version != staging {
			t.Errorf("go.mod requires %s %s, want %s to match the control plane's k8s.io/kubernetes %s",
				req.Mod.Path, req.Mod.Version, staging, kube)
		}
	}
	for _, lib := range []string{"k8s.io/client-go", "k8s.io/apimachinery", "k8s.io/code-generator"} {
		if !isStaging[lib] {
			t.Errorf("%s is not among the staging modules hack/tools/go.mod replaces", lib)
		}
	}
	if checked < 3 {
		t.Errorf("checked only %d k8s.io modules of go.mod; client-go, apimachinery and code-generator at least", checked)
	}
}
