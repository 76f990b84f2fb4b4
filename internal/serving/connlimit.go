package serving

import (
	"context"
	"net"
	"sync"
	"time"

	"k8s.io/klog/v2"
)

// The connections a server keeps open at once, and from one remote host.
// Each costs at most a few tens of KiB while its header is read (see
// maxHeaderBytes), so the cap bounds what callers without a token can make
// crddemo hold. A cap per host keeps one attacker from taking every slot:
// the kubelet probes from its node's address, Prometheus from its pod's,
// and each needs one or two connections at a time.
const (
	maxConnections        = 64
	maxConnectionsPerHost = 8
	// serverFullKey is the refusal log's key for a full server.
	serverFullKey = "\x00full"
)

// limitListener closes the connections that would take its server past
// maxConnections, or one remote host past maxConnectionsPerHost, as soon as
// it accepts them. Closing rather than waiting, as
// golang.org/x/net/netutil.LimitListener does, keeps a full server from
// leaving callers of other hosts queued behind an attacker's connections.
type limitListener struct {
	net.Listener
	ctx      context.Context
	name     string
	total    int
	perHost  int
	refusals *refusalLog

	mu    sync.Mutex
	open  int
	hosts map[string]int
}

func newLimitListener(ctx context.Context, name string, listener net.Listener, total, perHost int) *limitListener {
	return &limitListener{Listener: listener, ctx: ctx, name: name, total: total, perHost: perHost,
		refusals: newRefusalLog(time.Now), hosts: map[string]int{}}
}

// Accept returns the next connection within the caps, closing the others.
func (l *limitListener) Accept() (net.Conn, error) {
	for {
		conn, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		host := addressHost(conn.RemoteAddr().String())
		if full, hostFull := l.take(host); full || hostFull {
			l.refuse(conn, host, hostFull)
			continue
		}
		return &limitedConn{Conn: conn, release: sync.OnceFunc(func() { l.release(host) })}, nil
	}
}

// take counts a connection from host, or says which cap it would pass.
func (l *limitListener) take(host string) (full, hostFull bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.open >= l.total:
		return true, false
	case l.hosts[host] >= l.perHost:
		return false, true
	}
	l.open++
	l.hosts[host]++
	return false, false
}

func (l *limitListener) release(host string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.open--
	if l.hosts[host]--; l.hosts[host] <= 0 {
		delete(l.hosts, host)
	}
}

// refuse closes conn, and logs it: a host past its own cap once per host
// and refusalLogInterval, a full server once per refusalLogInterval, since
// only many hosts at once can fill it.
func (l *limitListener) refuse(conn net.Conn, host string, hostFull bool) {
	_ = conn.Close()
	key, reason := serverFullKey, "the server has its most open connections"
	if hostFull {
		key, reason = host, "the host has its most open connections"
	}
	if log, unlogged := l.refusals.record(key); log {
		keysAndValues := []any{"name", l.name, "remote", host, "reason", reason,
			"maxConnections", l.total, "maxConnectionsPerHost", l.perHost}
		if unlogged > 0 {
			keysAndValues = append(keysAndValues, "refusedSinceLastLog", unlogged)
		}
		klog.FromContext(l.ctx).Info("Refused a connection", keysAndValues...)
	}
}

// limitedConn gives its slot back when it is closed, once however often
// net/http closes it.
type limitedConn struct {
	net.Conn
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.release()
	return err
}

// addressHost is address without its port, which changes with every
// connection.
func addressHost(address string) string {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return address
	}
	return host
}
