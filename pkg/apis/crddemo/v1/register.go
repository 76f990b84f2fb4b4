package v1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/domac/crddemo/pkg/apis/crddemo"
)

// SchemeGroupVersion is the group and version that the generated clientset
// talks to.
var SchemeGroupVersion = schema.GroupVersion{Group: crddemo.GroupName, Version: "v1"}

// Resource turns a plural resource name into a group-qualified one, as the
// generated listers need for their NotFound errors.
func Resource(resource string) schema.GroupResource {
	return SchemeGroupVersion.WithResource(resource).GroupResource()
}

var (
	// SchemeBuilder collects the functions that add this version's kinds to a
	// scheme.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)
	// AddToScheme adds Mydemo and MydemoList to a scheme, so that clients can
	// decode them.
	AddToScheme = SchemeBuilder.AddToScheme
)

func addKnownTypes(scheme *runtime.Scheme) error {
	scheme.AddKnownTypes(SchemeGroupVersion, &Mydemo{}, &MydemoList{})
	metav1.AddToGroupVersion(scheme, SchemeGroupVersion)
	return nil
}
