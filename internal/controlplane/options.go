package controlplane

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// Option changes how Start sets up the control plane. Without any, Start
// runs envtest's defaults.
type Option func(*settings)

// settings are what the Options given to Start ask for.
type settings struct {
	apiserverFlags []flag
	// servingAddr, if valid, is the address kube-apiserver serves on in
	// place of 127.0.0.1.
	servingAddr netip.Addr
}

type flag struct{ name, value string }

// APIServerFlag runs kube-apiserver with --name=value, in place of
// envtest's value for that flag if it sets one. name has no leading dashes.
// A fault test that needs an old resourceVersion to expire after
// CompactEtcd passes APIServerFlag("watch-cache", "false").
//
// Overriding the flags that envtest derives the API server's address,
// certificates or etcd from (secure-port, bind-address, cert-dir,
// etcd-servers and the like) breaks the control plane.
func APIServerFlag(name, value string) Option {
	return func(s *settings) {
		s.apiserverFlags = append(s.apiserverFlags, flag{name, value})
	}
}

// ServeOn makes kube-apiserver serve on addr, an address of this host such
// as a bridge's, instead of 127.0.0.1, and puts addr in its serving
// certificate (with localhost), so that clients in other network namespaces
// of this host, such as make e2e's pods, can reach and verify it. Config,
// KubeconfigPath and the health checks then use addr too.
func ServeOn(addr netip.Addr) Option {
	return func(s *settings) {
		s.servingAddr = addr
	}
}

// newSettings applies opts and checks the result.
func newSettings(opts []Option) (settings, error) {
	var s settings
	for _, opt := range opts {
		opt(&s)
	}
	for _, f := range s.apiserverFlags {
		if f.name == "" || strings.HasPrefix(f.name, "-") || strings.Contains(f.name, "=") {
			return settings{}, fmt.Errorf("kube-apiserver flag name %q: want a bare name such as watch-cache, without dashes or a value", f.name)
		}
	}
	if s.servingAddr.IsValid() && !s.servingAddr.Unmap().Is4() {
		return settings{}, fmt.Errorf("serving address %s: want an IPv4 address", s.servingAddr)
	}
	return s, nil
}

// configure sets the API server's address and flags on server.
func (s settings) configure(server *envtest.APIServer) error {
	if s.servingAddr.IsValid() {
		port, err := freePort(s.servingAddr)
		if err != nil {
			return err
		}
		// envtest binds to this address and names it in the serving
		// certificate it makes.
		server.SecureServing.Address = s.servingAddr.String()
		server.SecureServing.Port = strconv.Itoa(port)
	}
	for _, f := range s.apiserverFlags {
		server.Configure().Set(f.name, f.value)
	}
	return nil
}

// freePort returns a TCP port that is free on addr now, as envtest picks
// one on 127.0.0.1.
func freePort(addr netip.Addr) (int, error) {
	listener, err := net.Listen("tcp", netip.AddrPortFrom(addr, 0).String())
	if err != nil {
		return 0, fmt.Errorf("finding a free port for kube-apiserver on %s: %w", addr, err)
	}
	defer listener.Close()
	return listener.Addr().(*net.TCPAddr).Port, nil
}
