package v1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// The +kubebuilder markers below are what controller-gen turns into
// crd/mydemo.yaml (./code-gen.sh), so that these types are the one source of
// both the generated clients and the CRD. Kubernetes refuses a CRD in a
// *.k8s.io group unless its api-approved.kubernetes.io annotation points at
// an approved API review; crddemo keeps the seed's group name and says so.

// +genclient
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object
// +kubebuilder:object:root=true
// +kubebuilder:resource:path=mydemos,singular=mydemo,shortName=md,scope=Namespaced
// +kubebuilder:subresource:status
// +kubebuilder:metadata:annotations="api-approved.kubernetes.io=unapproved, experimental-only; crddemo is a teaching example"
// +kubebuilder:printcolumn:name="IP",type=string,JSONPath=`.spec.ip`
// +kubebuilder:printcolumn:name="Port",type=integer,JSONPath=`.spec.port`
// +kubebuilder:printcolumn:name="Synced",type=string,JSONPath=`.status.conditions[?(@.type=="Synced")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`

// Mydemo is an IP address and port that the crddemo controller watches and
// reports on.
type Mydemo struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the address that the user asks for.
	// +required
	Spec MydemoSpec `json:"spec"`
	// Status is what the controller last observed.
	// +optional
	Status MydemoStatus `json:"status,omitempty"`
}

// MydemoSpec is the desired state of a Mydemo.
type MydemoSpec struct {
	// IP is an IPv4 or IPv6 address, such as 127.0.0.1 or ::1.
	// +required
	// +kubebuilder:validation:MaxLength=45
	// +kubebuilder:validation:XValidation:rule="isIP(self)",message="must be a valid IPv4 or IPv6 address, such as 127.0.0.1 or ::1"
	IP string `json:"ip"`
	// Port is a TCP or UDP port number, from 1 to 65535.
	// +required
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=65535
	Port int32 `json:"port"`
}

// MydemoStatus is the state of a Mydemo as the controller last saw it.
type MydemoStatus struct {
	// ObservedGeneration is the metadata.generation that the controller last
	// synced.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Conditions are the latest observations of the Mydemo's state; the
	// Synced condition tells whether the controller has processed it.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object
// +kubebuilder:object:root=true

// MydemoList is a list of Mydemo objects.
type MydemoList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`

	// Items are the Mydemo objects in the list.
	Items []Mydemo `json:"items"`
}
