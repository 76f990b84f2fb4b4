package controlplane

import (
	"slices"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

func TestAPIServerFlagReplacesTheDefault(t *testing.T) {
	s, err := newSettings([]Option{APIServerFlag("watch-cache", "false"), APIServerFlag("authorization-mode", "AlwaysAllow")})
	if err != nil {
		t.Fatal(err)
	}
	var server envtest.APIServer
	s.configure(&server)
	args := server.Configure().AsStrings(map[string][]string{"authorization-mode": {"RBAC"}})
	want := []string{"--authorization-mode=AlwaysAllow", "--watch-cache=false"}
	if !slices.Equal(args, want) {
		t.Errorf("kube-apiserver arguments = %q, want %q", args, want)
	}
}

func TestNoOptionsChangeNothing(t *testing.T) {
	s, err := newSettings(nil)
	if err != nil {
		t.Fatal(err)
	}
	var server envtest.APIServer
	s.configure(&server)
	if args := server.Configure().AsStrings(nil); len(args) != 0 {
		t.Errorf("kube-apiserver arguments without options = %q, want none", args)
	}
}

func TestAPIServerFlagWantsABareName(t *testing.T) {
	for _, name := range []string{"", "--watch-cache", "watch-cache=false"} {
		if _, err := newSettings([]Option{APIServerFlag(name, "false")}); err == nil {
			t.Errorf("APIServerFlag(%q) was accepted, want an error", name)
		}
	}
}
