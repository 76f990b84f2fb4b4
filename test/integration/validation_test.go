package integration

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"

	crddemov1 "github.com/domac/crddemo/pkg/apis/crddemo/v1"
	clientset "github.com/domac/crddemo/pkg/client/clientset/versioned"
	testcontrolplane "github.com/domac/crddemo/test/controlplane"
)

// TestAPIServerValidatesMydemos checks the CRD's schema where it is enforced:
// in a real API server, which must reject each bad object with a message
// that names the offending field.
func TestAPIServerValidatesMydemos(t *testing.T) {
	cp := testcontrolplane.StartForTest(t)
	installCRD(t, cp)
	// For a moment after the CRD is Established the API server answers
	// creates with 404, which would hide the validation errors under test.
	createMydemos(t, clientset.NewForConfigOrDie(cp.Config), "valid", 1)
	mydemos := dynamic.NewForConfigOrDie(cp.Config).Resource(crddemov1.SchemeGroupVersion.WithResource("mydemos")).
		Namespace("default")

	tests := []struct {
		name string
		spec map[string]any // nil: no spec at all
		// strict asks the API server to reject unknown fields, as
		// kubectl apply does by default.
		strict bool
		// wantErr are the parts of the rejection message, empty if the
		// object is valid.
		wantErr []string
	}{
		{"port 0", map[string]any{"ip": "127.0.0.1", "port": int64(0)}, false, []string{"spec.port", "greater than or equal to 1"}},
		{"port -1", map[string]any{"ip": "127.0.0.1", "port": int64(-1)}, false, []string{"spec.port", "greater than or equal to 1"}},
		{"port 65536", map[string]any{"ip": "127.0.0.1", "port": int64(65536)}, false, []string{"spec.port", "less than or equal to 65535"}},
		{"port 70000", map[string]any{"ip": "127.0.0.1", "port": int64(70000)}, false, []string{"spec.port", "less than or equal to 65535"}},
		{"port as a string", map[string]any{"ip": "127.0.0.1", "port": "8080"}, false, []string{"spec.port", `must be of type integer`}},
		{"port missing", map[string]any{"ip": "127.0.0.1"}, false, []string{"spec.port", "Required value"}},
		{"empty ip", map[string]any{"ip": "", "port": int64(8080)}, false, []string{"spec.ip", "must be a valid IPv4 or IPv6 address"}},
		{"ip abc", map[string]any{"ip": "abc", "port": int64(8080)}, false, []string{"spec.ip", "must be a valid IPv4 or IPv6 address"}},
		{"ip 999.1.1.1", map[string]any{"ip": "999.1.1.1", "port": int64(8080)}, false, []string{"spec.ip", "must be a valid IPv4 or IPv6 address"}},
		{"ip missing", map[string]any{"port": int64(8080)}, false, []string{"spec.ip", "Required value"}},
		{"spec missing", nil, false, []string{"spec", "Required value"}},
		{"port as a fraction", map[string]any{"ip": "127.0.0.1", "port": 80.5}, false, []string{"spec.port", "must be of type integer"}},
		{"ip as a number", map[string]any{"ip": int64(2130706433), "port": int64(80)}, false, []string{"spec.ip", "must be of type string"}},
		{"ip too long", map[string]any{"ip": strings.Repeat("1", 46), "port": int64(80)}, false, []string{"spec.ip", "may not be more than 45"}},
		{"IPv4 with a port in it", map[string]any{"ip": "10.0.0.1:80", "port": int64(80)}, false, []string{"spec.ip", "must be a valid IPv4 or IPv6 address"}},
		{"unknown field, strict", map[string]any{"ip": "127.0.0.1", "port": int64(80), "colour": "red"}, true, []string{`unknown field "spec.colour"`}},
		{"IPv4", map[string]any{"ip": "10.1.2.3", "port": int64(1)}, false, nil},
		{"IPv6 loopback", map[string]any{"ip": "::1", "port": int64(65535)}, false, nil},
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

			opts := metav1.CreateOptions{}
			if tt.strict {
				opts.FieldValidation = metav1.FieldValidationStrict
			}
			_, err := mydemos.Create(context.Background(), obj, opts)

			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("valid Mydemo rejected: %v", err)
				}
				return
			}
			if !apierrors.IsInvalid(err) && !apierrors.IsBadRequest(err) {
				t.Fatalf("error = %v, want a 422 Invalid or 400 Bad Request naming %q", err, tt.wantErr)
			}
			for _, part := range tt.wantErr {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("rejection %q does not contain %q", err, part)
				}
			}
		})
	}
}

// TestLargeAnnotationIsSynced gives a Mydemo a 250 KB annotation, near the
// API server's 256 KB limit for all of them: crddemo syncs it like any other,
// and stays healthy.
func TestLargeAnnotationIsSynced(t *testing.T) {
	cp, client, kube := startWithCRD(t)
	crddemo := startCrddemo(t, nil, "--kubeconfig="+cp.KubeconfigPath)
	crddemo.waitReady(t)

	demo := &crddemov1.Mydemo{
		ObjectMeta: metav1.ObjectMeta{Name: "large", Namespace: metav1.NamespaceDefault,
			Annotations: map[string]string{"example.com/blob": strings.Repeat("x", 250<<10)}},
		Spec: crddemov1.MydemoSpec{IP: "127.0.0.1", Port: 80},
	}
	if _, err := client.CrddemoV1().Mydemos(demo.Namespace).Create(t.Context(), demo, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating a Mydemo with a 250 KB annotation: %v", err)
	}
	syncedEventsOf(t, kube, waitAllSynced(t, client, []string{demo.Name}))
	if code, body := getWhenServing(t, crddemo.Probes, "/healthz"); code != http.StatusOK {
		t.Errorf("/healthz after syncing it = %d %s", code, body)
	}
}
