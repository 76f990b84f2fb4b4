package controlplane

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// withAdminKubeconfig returns a ControlPlane whose admin kubeconfig, as
// Start writes it, points at https://127.0.0.1:6443.
func withAdminKubeconfig(t *testing.T) *ControlPlane {
	t.Helper()
	dir := t.TempDir()
	admin := clientcmdapi.NewConfig()
	admin.Clusters["envtest"] = &clientcmdapi.Cluster{Server: "https://127.0.0.1:6443", CertificateAuthorityData: []byte("ca")}
	admin.AuthInfos["envtest"] = &clientcmdapi.AuthInfo{ClientCertificateData: []byte("cert"), ClientKeyData: []byte("key")}
	admin.Contexts["envtest"] = &clientcmdapi.Context{Cluster: "envtest", AuthInfo: "envtest"}
	admin.CurrentContext = "envtest"
	path := filepath.Join(dir, "kubeconfig")
	if err := clientcmd.WriteToFile(*admin, path); err != nil {
		t.Fatal(err)
	}
	return &ControlPlane{KubeconfigPath: path, dir: dir}
}

func TestKubeconfigForKeepsTheAdminCredentials(t *testing.T) {
	cp := withAdminKubeconfig(t)
	path, err := cp.KubeconfigFor("https://127.0.0.1:41234")
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(path) != cp.Dir() || path == cp.KubeconfigPath {
		t.Errorf("KubeconfigFor wrote %s, want a new file in %s", path, cp.Dir())
	}
	if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("Stat(%s) = %v, %v; want a file that only its owner can read: it holds the admin's key", path, info, err)
	}
	config, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		t.Fatal(err)
	}
	if config.Host != "https://127.0.0.1:41234" {
		t.Errorf("server = %s, want the one asked for", config.Host)
	}
	if !bytes.Equal(config.CAData, []byte("ca")) || !bytes.Equal(config.CertData, []byte("cert")) || !bytes.Equal(config.KeyData, []byte("key")) {
		t.Errorf("CA, certificate and key = %q, %q, %q; want the admin's", config.CAData, config.CertData, config.KeyData)
	}
	admin, err := clientcmd.BuildConfigFromFlags("", cp.KubeconfigPath)
	if err != nil || admin.Host != "https://127.0.0.1:6443" {
		t.Errorf("the admin kubeconfig's server is now %v (%v), want it unchanged", admin, err)
	}
}

func TestKubeconfigForWantsAnHTTPSURL(t *testing.T) {
	cp := withAdminKubeconfig(t)
	for _, server := range []string{"127.0.0.1:41234", "http://127.0.0.1:41234", "https://", "://"} {
		if _, err := cp.KubeconfigFor(server); err == nil {
			t.Errorf("KubeconfigFor(%q) succeeded, want an error", server)
		}
	}
}
