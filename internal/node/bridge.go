//go:build linux

package node

import (
	"fmt"
	"net/netip"
	"os/exec"
	"strings"
)

// Bridge is the Linux bridge that the pods' veth pairs attach to. The host
// holds the first address of Prefix on it, where the pods reach the API
// server; the pods get the others. The CNI config gives them no default
// route, so a pod can reach only this prefix: nothing outside the host.
type Bridge struct {
	// Name is the interface's name, at most 15 characters.
	Name string
	// Prefix is the pods' network, such as 10.244.77.0/24.
	Prefix netip.Prefix
}

// HostAddr is the host's address on the bridge.
func (b Bridge) HostAddr() netip.Addr {
	return b.Prefix.Masked().Addr().Next()
}

// Create makes the bridge and gives the host its address; a bridge left by
// an earlier run that was killed is replaced. It comes before the control
// plane, which serves on the bridge's address.
func (b Bridge) Create() error {
	if !b.Prefix.IsValid() || !b.Prefix.Addr().Is4() || b.Prefix.Bits() > 30 {
		return fmt.Errorf("bridge %s: prefix %s: want an IPv4 network of at least 4 addresses", b.Name, b.Prefix)
	}
	_ = b.Delete()
	for _, args := range [][]string{
		{"link", "add", b.Name, "type", "bridge"},
		{"addr", "add", netip.PrefixFrom(b.HostAddr(), b.Prefix.Bits()).String(), "dev", b.Name},
		{"link", "set", b.Name, "up"},
	} {
		if err := ip(args...); err != nil {
			return fmt.Errorf("creating bridge %s: %w", b.Name, err)
		}
	}
	return nil
}

// Delete removes the bridge, once the node is stopped and the pods' veths
// are gone with their network namespaces.
func (b Bridge) Delete() error {
	if ip("link", "show", b.Name) != nil {
		return nil
	}
	if err := ip("link", "del", b.Name); err != nil {
		return fmt.Errorf("deleting bridge %s: %w", b.Name, err)
	}
	return nil
}

// ip runs iproute2's ip with args.
func ip(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}
