package version

import (
	"runtime/debug"
	"testing"
)

func TestModuleVersion(t *testing.T) {
	tests := []struct {
		name      string
		buildInfo *debug.BuildInfo
		want      string
	}{
		{name: "no build information", buildInfo: nil, want: "unknown"},
		{name: "not a dependency", buildInfo: &debug.BuildInfo{Deps: []*debug.Module{
			{Path: "k8s.io/apimachinery", Version: "v0.37.2"},
		}}, want: "unknown"},
		{name: "a dependency", buildInfo: &debug.BuildInfo{Deps: []*debug.Module{
			{Path: "k8s.io/apimachinery", Version: "v0.37.1"},
			{Path: "k8s.io/client-go", Version: "v0.37.2"},
		}}, want: "v0.37.2"},
		{name: "replaced by another version", buildInfo: &debug.BuildInfo{Deps: []*debug.Module{
			{Path: "k8s.io/client-go", Version: "v0.37.2", Replace: &debug.Module{Path: "example.com/fork", Version: "v0.37.3-fork"}},
		}}, want: "v0.37.3-fork"},
		{name: "replaced by a local directory", buildInfo: &debug.BuildInfo{Deps: []*debug.Module{
			{Path: "k8s.io/client-go", Version: "v0.37.2", Replace: &debug.Module{Path: "../client-go"}},
		}}, want: "v0.37.2"},
		{name: "no version recorded", buildInfo: &debug.BuildInfo{Deps: []*debug.Module{
			{Path: "k8s.io/client-go"},
		}}, want: "unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := moduleVersion(tt.buildInfo, "k8s.io/client-go"); got != tt.want {
				t.Errorf("moduleVersion = %q, want %q", got, tt.want)
			}
		})
	}
}
