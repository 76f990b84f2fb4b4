//go:build linux

package node

import (
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCNIConfigKeepsPodsOnTheBridge(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cni.conflist")
	b := Bridge{Name: "test0", Prefix: netip.MustParsePrefix("10.244.77.0/24")}
	if err := writeTemplate(path, cniConfig, map[string]any{"Dir": dir, "Bridge": b}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var conf struct {
		Plugins []struct {
			Type   string `json:"type"`
			Bridge string `json:"bridge"`
			IPMasq bool   `json:"ipMasq"`
			IPAM   struct {
				Routes []any `json:"routes"`
				Ranges [][]struct {
					Subnet     string `json:"subnet"`
					RangeStart string `json:"rangeStart"`
				} `json:"ranges"`
			} `json:"ipam"`
		} `json:"plugins"`
	}
	if err := json.Unmarshal(data, &conf); err != nil {
		t.Fatalf("the CNI config is not JSON: %v\n%s", err, data)
	}
	bridge := conf.Plugins[0]
	if bridge.Type != "bridge" || bridge.Bridge != "test0" || bridge.IPMasq {
		t.Errorf("first plugin = %+v, want the bridge plugin on test0 without masquerading", bridge)
	}
	if len(bridge.IPAM.Routes) != 0 {
		t.Errorf("the pods get routes %v, want none beyond their own network", bridge.IPAM.Routes)
	}
	r := bridge.IPAM.Ranges[0][0]
	if r.Subnet != "10.244.77.0/24" || r.RangeStart != "10.244.77.2" {
		t.Errorf("IPAM range = %+v, want 10.244.77.0/24 from .2 (the host holds .1)", r)
	}
}

func TestContainerdConfigKeepsEverythingUnderItsDir(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	if err := writeTemplate(path, containerdConfig, map[string]any{
		"Dir": dir, "Socket": dir + "/containerd.sock", "SandboxImage": "example.test/pause:1",
		"CNIBinDir": "/usr/lib/cni", "CNIConfDir": dir + "/cni",
	}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	config := string(data)
	for _, want := range []string{
		`root = "` + dir + `/root"`, `state = "` + dir + `/state"`, `address = "` + dir + `/containerd.sock"`,
		`sandbox_image = "example.test/pause:1"`, `stream_server_address = "127.0.0.1"`, `conf_dir = "` + dir + `/cni"`,
		`SystemdCgroup = false`,
	} {
		if !strings.Contains(config, want) {
			t.Errorf("containerd's config lacks %s:\n%s", want, config)
		}
	}
}
