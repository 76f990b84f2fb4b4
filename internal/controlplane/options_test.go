package controlplane

import (
	"net/netip"
	"slices"
	"strconv"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

func TestAPIServerFlagReplacesTheDefault(t *testing.T) {
	s, err := newSettings([]Option{APIServerFlag("watch-cache", "false"), APIServerFlag("authorization-mode", "AlwaysAllow")})
	if err != nil {
		t.Fatal(err)
	}
	var server envtest.APIServer
	if err := s.configure(&server); err != nil {
		t.Fatal(err)
	}
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
	if err := s.configure(&server); err != nil {
		t.Fatal(err)
	}
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

func TestServeOnPicksAFreePortOnTheAddress(t *testing.T) {
	s, err := newSettings([]Option{ServeOn(netip.MustParseAddr("127.0.0.2"))})
	if err != nil {
		t.Fatal(err)
	}
	var server envtest.APIServer
	if err := s.configure(&server); err != nil {
		t.Fatal(err)
	}
	if server.SecureServing.Address != "127.0.0.2" {
		t.Errorf("serving address = %q, want 127.0.0.2", server.SecureServing.Address)
	}
	if port, err := strconv.Atoi(server.SecureServing.Port); err != nil || port <= 0 {
		t.Errorf("serving port = %q, want a port number", server.SecureServing.Port)
	}
}

func TestServeOnWantsIPv4(t *testing.T) {
	if _, err := newSettings([]Option{ServeOn(netip.MustParseAddr("::1"))}); err == nil {
		t.Error("ServeOn(::1) was accepted, want an error")
	}
}
