package controlplane

import (
	"fmt"
	"net/url"
	"os"

	"k8s.io/client-go/tools/clientcmd"
)

// KubeconfigFor writes a kubeconfig that holds the admin credentials of
// KubeconfigPath but sends requests to server, an https URL such as
// "https://" + proxy.Addr(), and returns its path in the control plane's temp
// dir. It lets a test point one client, such as crddemo, at a harness.Proxy
// in front of the API server while other clients use Config. The API
// server's certificate names 127.0.0.1 and localhost, so the client still
// verifies it through a proxy on either.
func (cp *ControlPlane) KubeconfigFor(server string) (string, error) {
	serverURL, err := url.Parse(server)
	if err != nil || serverURL.Scheme != "https" || serverURL.Host == "" {
		return "", fmt.Errorf("writing a kubeconfig for server %q: want an https URL such as https://127.0.0.1:6443", server)
	}
	config, err := clientcmd.LoadFromFile(cp.KubeconfigPath)
	if err != nil {
		return "", fmt.Errorf("writing a kubeconfig for %s: reading the admin kubeconfig: %w", server, err)
	}
	for _, cluster := range config.Clusters {
		cluster.Server = server
	}
	content, err := clientcmd.Write(*config)
	if err != nil {
		return "", fmt.Errorf("writing a kubeconfig for %s: %w", server, err)
	}
	// CreateTemp makes the file readable by its owner only: it holds the
	// admin's key.
	file, err := os.CreateTemp(cp.dir, "kubeconfig-*")
	if err != nil {
		return "", fmt.Errorf("writing a kubeconfig for %s: %w", server, err)
	}
	path := file.Name()
	_, err = file.Write(content)
	if closeErr := file.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		return "", fmt.Errorf("writing a kubeconfig for %s: %w", server, err)
	}
	return path, nil
}
