//go:build unix

package porthold

import (
	"errors"
	"net"
	"syscall"
	"testing"
)

// freeAddr returns a loopback address that was just listened on and closed,
// as a stopped server leaves its port.
func freeAddr(t *testing.T) string {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := listener.Addr().String()
	// A connection closed by the server side leaves its end in TIME_WAIT,
	// as a stopped kube-apiserver's would.
	client, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	server, err := listener.Accept()
	if err != nil {
		t.Fatal(err)
	}
	_ = server.Close()
	_ = client.Close()
	_ = listener.Close()
	return addr
}

func TestHeldPortRefusesConnections(t *testing.T) {
	addr := freeAddr(t)
	port, err := Take(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer port.Release()

	conn, err := net.Dial("tcp", addr)
	if err == nil {
		_ = conn.Close()
		t.Fatalf("dialing a held port succeeded, want connection refused")
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dialing a held port: %v, want connection refused", err)
	}
}

func TestServerTakesOverAHeldPort(t *testing.T) {
	addr := freeAddr(t)
	port, err := Take(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer port.Release()

	listener, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listening on a held port: %v", err)
	}
	defer listener.Close()
	if err := port.Release(); err != nil {
		t.Fatal(err)
	}
	if err := port.Release(); err != nil {
		t.Errorf("second Release: %v", err)
	}
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dialing the server that took the port over: %v", err)
	}
	_ = conn.Close()
}

func TestTakeRefusesAListeningPort(t *testing.T) {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer listener.Close()
	if port, err := Take(listener.Addr().String()); err == nil {
		_ = port.Release()
		t.Fatal("Take of a port a server listens on succeeded, want an error")
	}
}

func TestTakeWantsAnIPAndPort(t *testing.T) {
	if _, err := Take("localhost:80"); err == nil {
		t.Fatal("Take(localhost:80) succeeded, want an error: the host must be an IP")
	}
}

func TestReleaseOfNil(t *testing.T) {
	var port *Port
	if err := port.Release(); err != nil {
		t.Fatal(err)
	}
}
