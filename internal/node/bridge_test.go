//go:build linux

package node

import (
	"net/netip"
	"testing"
)

func TestBridgeHostAddrIsTheFirstOfThePrefix(t *testing.T) {
	b := Bridge{Name: "test0", Prefix: netip.MustParsePrefix("10.244.77.0/24")}
	if got, want := b.HostAddr(), netip.MustParseAddr("10.244.77.1"); got != want {
		t.Errorf("HostAddr() = %s, want %s", got, want)
	}
}

func TestBridgeRefusesABadPrefixBeforeTouchingTheHost(t *testing.T) {
	for _, prefix := range []netip.Prefix{{}, netip.MustParsePrefix("fd00::/64"), netip.MustParsePrefix("10.0.0.0/31")} {
		b := Bridge{Name: "crddemo-test-no", Prefix: prefix}
		if err := b.Create(); err == nil {
			_ = b.Delete()
			t.Errorf("creating a bridge on %s succeeded, want an error", prefix)
		}
	}
}
