package serving

import (
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"
)

// FuzzValidateAddress checks that every address ValidateAddress accepts is
// one that net.Listen takes, as far as its syntax goes, with the numeric
// port it promises; that every refusal quotes the address on one line; and
// that the addresses it documents, any IP literal or none with any port,
// are accepted.
func FuzzValidateAddress(f *testing.F) {
	for _, seed := range []struct {
		addr string
		ip   string
		port uint16
	}{
		{"0", "", 8080},
		{":8080", "127.0.0.1", 0},
		{"127.0.0.1:8080", "::1", 65535},
		{"[::1]:8080", "0.0.0.0", 9090},
		{"localhost:65535", "::ffff:10.0.0.1", 1},
		{"8080", "", 0},
		{"::1:8080", "fe80::1", 443},
		{"127.0.0.1:", "", 1},
		{":http", "", 80},
		{":-1", "", 0},
		{"host:99999", "", 0},
		{":+80", "", 0},
		{"[fe80::1%eth0]:8080", "", 0},
		{"[[::1]]:80", "", 0},
		{"a\nb:80", "", 0},
	} {
		f.Add(seed.addr, seed.ip, seed.port)
	}
	f.Fuzz(func(t *testing.T, addr, ip string, port uint16) {
		if err := ValidateAddress(addr); err != nil {
			msg := err.Error()
			if !strings.Contains(msg, strconv.Quote(addr)) {
				t.Errorf("ValidateAddress(%q) = %q, which does not quote the address", addr, msg)
			}
			if strings.ContainsFunc(msg, func(r rune) bool { return !strconv.IsPrint(r) }) {
				t.Errorf("ValidateAddress(%q) = %q, which is not one printable line", addr, msg)
			}
		} else if addr != disabledAddress {
			checkListenable(t, addr)
		}

		// The completeness half: what ValidateAddress documents as valid
		// must pass, for any port.
		p := strconv.Itoa(int(port))
		if err := ValidateAddress(":" + p); err != nil {
			t.Errorf("ValidateAddress(%q) = %v, want nil", ":"+p, err)
		}
		// A zone names an interface of this machine: leave it out.
		if parsed, err := netip.ParseAddr(ip); err == nil && parsed.Zone() == "" {
			withIP := net.JoinHostPort(ip, p)
			if err := ValidateAddress(withIP); err != nil {
				t.Errorf("ValidateAddress(%q) = %v, want nil", withIP, err)
			}
		}
	})
}

// checkListenable fails t unless net.Listen("tcp", addr) would get past its
// syntax: a host and a numeric port from 0 to 65535 as the net package
// reads it. Only an IP literal or empty host is resolved, so that the test
// asks no DNS and opens no socket.
func checkListenable(t *testing.T, addr string) {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("ValidateAddress(%q) = nil, but it is no host:port: %v", addr, err)
	}
	// The help promises a number; the net package would also look a
	// service name up in /etc/services.
	if port == "" || strings.Trim(port, "0123456789") != "" {
		t.Fatalf("ValidateAddress(%q) = nil, but its port %q is not a number", addr, port)
	}
	resolved, err := net.ResolveTCPAddr("tcp", net.JoinHostPort("", port))
	if err != nil {
		t.Fatalf("ValidateAddress(%q) = nil, but the net package refuses its port: %v", addr, err)
	}
	if n, _ := strconv.ParseUint(port, 10, 64); uint64(resolved.Port) != n {
		t.Fatalf("ValidateAddress(%q) = nil, but the net package reads its port as %d", addr, resolved.Port)
	}
	if host == "" || net.ParseIP(host) != nil {
		if _, err := net.ResolveTCPAddr("tcp", addr); err != nil {
			t.Fatalf("ValidateAddress(%q) = nil, but the net package refuses it: %v", addr, err)
		}
	}
}
