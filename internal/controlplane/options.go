package controlplane

import (
	"fmt"
	"strings"

	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// Option changes how Start sets up the control plane. Without any, Start
// runs envtest's defaults.
type Option func(*settings)

// settings are what the Options given to Start ask for.
type settings struct {
	apiserverFlags []flag
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
	return s, nil
}

// configure sets the API server's flags on server.
func (s settings) configure(server *envtest.APIServer) {
	for _, f := range s.apiserverFlags {
		server.Configure().Set(f.name, f.value)
	}
}
