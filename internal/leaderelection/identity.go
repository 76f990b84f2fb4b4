package leaderelection

import (
	"fmt"
	"os"

	"k8s.io/apimachinery/pkg/util/uuid"
)

// NewIdentity returns a candidate identity for the Lease: the host name,
// which tells a person which pod leads, then "_" and a unique suffix, which
// tells apart two processes on one host, such as a restarted container and
// its predecessor whose lease has not expired yet. kube-controller-manager
// builds its identity the same way.
func NewIdentity() (string, error) {
	hostname, err := os.Hostname()
	if err != nil {
		return "", fmt.Errorf("reading the host name for the leader election identity: %w", err)
	}
	return hostname + "_" + string(uuid.NewUUID()), nil
}
