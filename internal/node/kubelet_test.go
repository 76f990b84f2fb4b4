//go:build linux

package node

import (
	"os"
	"path/filepath"
	"testing"

	"sigs.k8s.io/yaml"
)

func TestKubeletConfigRunsOnCgroupV1WithoutSystemd(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "kubelet.yaml")
	if err := writeTemplate(path, kubeletConfig, map[string]any{
		"Socket": "/run/test/containerd.sock", "Address": "10.244.77.1", "Port": 12345, "Dir": dir,
	}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var config map[string]any
	if err := yaml.Unmarshal(data, &config); err != nil {
		t.Fatalf("the kubelet's config is not YAML: %v\n%s", err, data)
	}
	for key, want := range map[string]any{
		"kind":                     "KubeletConfiguration",
		"failCgroupV1":             false,
		"failSwapOn":               false,
		"cgroupDriver":             "cgroupfs",
		"containerRuntimeEndpoint": "unix:///run/test/containerd.sock",
		"address":                  "10.244.77.1",
		"port":                     float64(12345),
		"readOnlyPort":             float64(0),
		"podLogsDir":               dir + "/pod-logs",
	} {
		if config[key] != want {
			t.Errorf("kubelet config %s = %v, want %v", key, config[key], want)
		}
	}
}
