package harness

import (
	"fmt"
	"net"
)

// FreeLocalAddress returns a loopback host:port that nothing listens on
// now, for a crddemo's --health-probe-bind-address or
// --metrics-bind-address. Another process could take it before crddemo
// does, but on loopback and within a second that does not happen in
// practice, and crddemo would fail at start, not quietly, if it did.
func FreeLocalAddress() (string, error) {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("finding a free loopback port: %w", err)
	}
	defer listener.Close()
	return listener.Addr().String(), nil
}
