package harness

import (
	"net"
	"testing"
)

func TestFreeLocalAddressCanBeListenedOn(t *testing.T) {
	addr, err := FreeLocalAddress()
	if err != nil {
		t.Fatal(err)
	}
	listener, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listening on %s: %v", addr, err)
	}
	_ = listener.Close()
}
