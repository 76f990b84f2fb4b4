package integration

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/cert"
	"k8s.io/utils/ptr"
)

// leaseWebhook is a validating admission webhook, served by the test, that
// can make the API server hang on the Lease updates of one user, as an
// overloaded etcd or a stuck webhook would: the API server then answers
// neither yes nor no until the client gives up. Everything else it allows at
// once.
type leaseWebhook struct {
	user string
	hang atomic.Bool
}

// startLeaseWebhook serves a leaseWebhook for user and registers it with the
// API server for the Lease updates in namespace, until the test ends.
func startLeaseWebhook(t *testing.T, kube kubernetes.Interface, namespace, user string) *leaseWebhook {
	t.Helper()
	w := &leaseWebhook{user: user}
	certPEM, keyPEM, err := cert.GenerateSelfSignedCertKey("127.0.0.1", []net.IP{net.ParseIP("127.0.0.1")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	server := httptest.NewUnstartedServer(w)
	server.TLS = &tls.Config{Certificates: []tls.Certificate{pair}}
	server.StartTLS()
	// Closed after the webhook is unregistered (cleanups run last first),
	// so that the API server never calls a webhook that is gone.
	t.Cleanup(server.Close)

	config := &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "hang-lease-updates"},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{
			Name: "hang-lease-updates.crddemo.test",
			ClientConfig: admissionregistrationv1.WebhookClientConfig{
				URL:      ptr.To(server.URL + "/validate"),
				CABundle: certPEM,
			},
			Rules: []admissionregistrationv1.RuleWithOperations{{
				Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Update},
				Rule: admissionregistrationv1.Rule{
					APIGroups: []string{"coordination.k8s.io"}, APIVersions: []string{"v1"}, Resources: []string{"leases"},
				},
			}},
			NamespaceSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": namespace}},
			FailurePolicy:           ptr.To(admissionregistrationv1.Fail),
			SideEffects:             ptr.To(admissionregistrationv1.SideEffectClassNone),
			TimeoutSeconds:          ptr.To[int32](10),
			AdmissionReviewVersions: []string{"v1"},
		}},
	}
	webhooks := kube.AdmissionregistrationV1().ValidatingWebhookConfigurations()
	if _, err := webhooks.Create(t.Context(), config, metav1.CreateOptions{}); err != nil {
		t.Fatalf("registering the Lease webhook: %v", err)
	}
	t.Cleanup(func() {
		if err := webhooks.Delete(context.WithoutCancel(t.Context()), config.Name, metav1.DeleteOptions{}); err != nil {
			t.Errorf("unregistering the Lease webhook: %v", err)
		}
	})
	return w
}

// ServeHTTP answers an AdmissionReview: it allows the request, unless hang
// is set and the request is the user's, which it keeps waiting until the
// API server gives up on it.
func (w *leaseWebhook) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	var review admissionv1.AdmissionReview
	if err := json.NewDecoder(r.Body).Decode(&review); err != nil || review.Request == nil {
		http.Error(rw, "not an AdmissionReview", http.StatusBadRequest)
		return
	}
	if w.hang.Load() && review.Request.UserInfo.Username == w.user {
		<-r.Context().Done()
		return
	}
	review.Response = &admissionv1.AdmissionResponse{UID: review.Request.UID, Allowed: true}
	review.Request = nil
	rw.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(rw).Encode(&review)
}
