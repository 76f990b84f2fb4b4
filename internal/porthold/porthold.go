//go:build unix

// Package porthold keeps a loopback TCP port reserved while nothing listens
// on it. A test that stops a server, such as kube-apiserver or a proxy in
// front of it, and starts it again on the same port needs both: while it is
// down, connections must be refused, as by a stopped server, and no other
// program may be given the port meanwhile, or the restart would fail.
//
// A socket bound to the port but never listening does both: the kernel
// answers connection attempts with a reset (ECONNREFUSED), and skips the
// port when it picks one for another socket's bind to port 0 or connect.
// With SO_REUSEADDR on it, the server can still bind and listen on the
// port before the hold is released, so the port is never free.
//
// It uses raw socket calls, which only unix systems have; so does
// controller-runtime's envtest, which starts the control plane.
package porthold

import (
	"fmt"
	"net/netip"
	"syscall"
)

// Port is a TCP port held by a bound socket that does not listen.
type Port struct {
	fd int
}

// Take holds addr, an IP:port such as 127.0.0.1:6443, until Release.
func Take(addr string) (*Port, error) {
	addrPort, err := netip.ParseAddrPort(addr)
	if err != nil {
		return nil, fmt.Errorf("holding TCP port %s: %w", addr, err)
	}
	family, sockaddr := syscall.AF_INET6, syscall.Sockaddr(&syscall.SockaddrInet6{Port: int(addrPort.Port()), Addr: addrPort.Addr().As16()})
	if ip := addrPort.Addr().Unmap(); ip.Is4() {
		family, sockaddr = syscall.AF_INET, &syscall.SockaddrInet4{Port: int(addrPort.Port()), Addr: ip.As4()}
	}

	// Under ForkLock, as the net package does where there is no
	// SOCK_CLOEXEC: a program started meanwhile, such as kube-apiserver,
	// must not inherit the socket and keep the port bound after Release.
	syscall.ForkLock.RLock()
	fd, err := syscall.Socket(family, syscall.SOCK_STREAM, syscall.IPPROTO_TCP)
	if err == nil {
		syscall.CloseOnExec(fd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return nil, fmt.Errorf("holding TCP port %s: creating a socket: %w", addr, err)
	}
	// Without SO_REUSEADDR, the bind would fail while connections that the
	// stopped server closed linger in TIME_WAIT, and the server could not
	// take the port back until Release.
	if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1); err != nil {
		_ = syscall.Close(fd)
		return nil, fmt.Errorf("holding TCP port %s: setting SO_REUSEADDR: %w", addr, err)
	}
	if err := syscall.Bind(fd, sockaddr); err != nil {
		_ = syscall.Close(fd)
		return nil, fmt.Errorf("holding TCP port %s: %w", addr, err)
	}
	return &Port{fd: fd}, nil
}

// Release frees the port. It is safe to call more than once and on nil.
func (p *Port) Release() error {
	if p == nil || p.fd < 0 {
		return nil
	}
	fd := p.fd
	p.fd = -1
	if err := syscall.Close(fd); err != nil {
		return fmt.Errorf("releasing a held TCP port: %w", err)
	}
	return nil
}
