package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"

	crddemov1 "github.com/domac/crddemo/pkg/apis/crddemo/v1"
	testcontrolplane "github.com/domac/crddemo/test/controlplane"
)

// TestAPIServerValidatesMydemos checks the CRD's schema where it is enforced:
// in a real API server, which must reject each bad object with a message
// that names the offending field.
func TestAPIServerValidatesMydemos(t *testing.T) {
	cp := testcontrolplane.StartForTest(t)
	kubectl(t, cp, "", "apply", "-f", repoFile(t, "crd/mydemo.yaml"))
	kubectl(t, cp, "", "wait", "--for=condition=Established", "--timeout=60s", "crd/mydemos.crddemo.k8s.io")
	mydemos := dynamic.NewForConfigOrDie(cp.Config).Resource(crddemov1.SchemeGroupVersion.WithResource("mydemos")).
		Namespace("default")

	tests := []struct {
		name string
		spec map[string]any // nil: no spec at all
		// wantErr are the parts of the rejection message, empty if the
		// object is valid.
		wantErr []string
	}{
		{"port 0", map[string]any{"ip": "127.0.0.1", "port": int64(0)}, []string{"spec.port", "greater than or equal to 1"}},
		{"port -1", map[string]any{"ip": "127.0.0.1", "port": int64(-1)}, []string{"spec.port", "greater than or equal to 1"}},
		{"port 65536", map[string]any{"ip": "127.0.0.1", "port": int64(65536)}, []string{"spec.port", "less than or equal to 65535"}},
		{"port 70000", map[string]any{"ip": "127.0.0.1", "port": int64(70000)}, []string{"spec.port", "less than or equal to 65535"}},
		{"port as a string", map[string]any{"ip": "127.0.0.1", "port": "8080"}, []string{"spec.port", `must be of type integer`}},
		{"port missing", map[string]any{"ip": "127.0.0.1"}, []string{"spec.port", "Required value"}},
		{"empty ip", map[string]any{"ip": "", "port": int64(8080)}, []string{"spec.ip", "must be a valid IPv4 or IPv6 address"}},
		{"ip abc", map[string]any{"ip": "abc", "port": int64(8080)}, []string{"spec.ip", "must be a valid IPv4 or IPv6 address"}},
		{"ip 999.1.1.1", map[string]any{"ip": "999.1.1.1", "port": int64(8080)}, []string{"spec.ip", "must be a valid IPv4 or IPv6 address"}},
		{"ip missing", map[string]any{"port": int64(8080)}, []string{"spec.ip", "Required value"}},
		{"spec missing", nil, []string{"spec", "Required value"}},
		{"IPv4", map[string]any{"ip": "10.1.2.3", "port": int64(1)}, nil},
		{"IPv6 loopback", map[string]any{"ip": "::1", "port": int64(65535)}, nil},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj := &unstructured.Unstructured{Object: map[string]any{
				"apiVersion": crddemov1.SchemeGroupVersion.String(),
				"kind":       "Mydemo",
				"metadata":   map[string]any{"name": fmt.Sprintf("case-%d", i)},
			}}
			if tt.spec != nil {
				obj.Object["spec"] = tt.spec
			}

			_, err := mydemos.Create(context.Background(), obj, metav1.CreateOptions{})

			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("valid Mydemo rejected: %v", err)
				}
				return
			}
			if !apierrors.IsInvalid(err) {
				t.Fatalf("error = %v, want a 422 Invalid naming %q", err, tt.wantErr)
			}
			for _, part := range tt.wantErr {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("rejection %q does not contain %q", err, part)
				}
			}
		})
	}
}
