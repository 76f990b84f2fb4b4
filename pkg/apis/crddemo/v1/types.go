package v1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// +genclient
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// Mydemo is an IP address and port that the crddemo controller watches and
// reports on.
type Mydemo struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the address that the user asks for.
	Spec MydemoSpec `json:"spec"`
	// Status is what the controller last observed.
	Status MydemoStatus `json:"status,omitempty"`
}

// MydemoSpec is the desired state of a Mydemo.
type MydemoSpec struct {
	// IP is an IPv4 or IPv6 address, such as 127.0.0.1 or ::1.
	IP string `json:"ip"`
	// Port is a TCP or UDP port number, from 1 to 65535.
	Port int32 `json:"port"`
}

// MydemoStatus is the state of a Mydemo as the controller last saw it.
type MydemoStatus struct {
	// ObservedGeneration is the metadata.generation that the controller last
	// synced.
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Conditions are the latest observations of the Mydemo's state; the
	// Synced condition tells whether the controller has processed it.
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// MydemoList is a list of Mydemo objects.
type MydemoList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`

	// Items are the Mydemo objects in the list.
	Items []Mydemo `json:"items"`
}
