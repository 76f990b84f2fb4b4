package harness

import (
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	k8stesting "k8s.io/client-go/testing"

	crddemov1 "github.com/domac/crddemo/pkg/apis/crddemo/v1"
	"github.com/domac/crddemo/pkg/client/clientset/versioned/fake"
)

// TestCreateMydemoWaitsOutANewCRD: the 404s of a CRD not served yet are
// tried again; any other refusal comes back at once.
func TestCreateMydemoWaitsOutANewCRD(t *testing.T) {
	mydemos := schema.GroupResource{Group: "crddemo.k8s.io", Resource: "mydemos"}
	client := fake.NewSimpleClientset()
	tries := 0
	client.PrependReactor("create", "mydemos", func(k8stesting.Action) (bool, runtime.Object, error) {
		if tries++; tries < 3 {
			return true, nil, apierrors.NewNotFound(mydemos, "")
		}
		return false, nil, nil
	})
	demo := &crddemov1.Mydemo{ObjectMeta: metav1.ObjectMeta{Name: "a", Namespace: "default"}}
	if created, err := CreateMydemo(t.Context(), client, demo); err != nil || created.Name != "a" || tries != 3 {
		t.Fatalf("CreateMydemo = %v, %v after %d tries; want it created at the third", created, err, tries)
	}
	if _, err := CreateMydemo(t.Context(), client, demo); !apierrors.IsAlreadyExists(err) || tries != 4 {
		t.Errorf("CreateMydemo of an existing Mydemo = %v after %d tries, want AlreadyExists at once", err, tries)
	}
}
