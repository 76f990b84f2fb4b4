package harness

import (
	"context"
	"errors"
	"io"
	"net"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
)

// ioTimeout bounds every read and write of these tests, on loopback.
const ioTimeout = 5 * time.Second

// startEcho runs a TCP server on loopback that writes back whatever it
// reads, and half-closes once its client has, until the test ends.
func startEcho(t *testing.T) string {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var handlers sync.WaitGroup
	handlers.Add(1)
	go func() {
		defer handlers.Done()
		for {
			conn, err := listener.Accept()
			if err != nil {
				return
			}
			handlers.Add(1)
			go func() {
				defer handlers.Done()
				defer conn.Close()
				_, _ = io.Copy(conn, conn)
				_ = conn.(*net.TCPConn).CloseWrite()
			}()
		}
	}()
	t.Cleanup(func() {
		_ = listener.Close()
		handlers.Wait()
	})
	return listener.Addr().String()
}

func startProxy(t *testing.T, target string) *Proxy {
	t.Helper()
	p, err := StartProxy(t.Context(), target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, ioTimeout)
	if err != nil {
		t.Fatalf("dialing %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	if err := conn.SetDeadline(time.Now().Add(ioTimeout)); err != nil {
		t.Fatal(err)
	}
	return conn
}

// roundTrip writes msg to conn and reads it back from the echo server.
func roundTrip(conn net.Conn, msg string) error {
	if _, err := conn.Write([]byte(msg)); err != nil {
		return err
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(conn, got); err != nil {
		return err
	}
	if string(got) != msg {
		return errors.New("echoed " + string(got) + ", want " + msg)
	}
	return nil
}

// requireRefused fails the test unless dialing addr is refused, as it is by
// a port that nothing listens on.
func requireRefused(t *testing.T, addr string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, ioTimeout)
	if err == nil {
		_ = conn.Close()
		t.Fatalf("dialing %s succeeded, want connection refused", addr)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dialing %s: %v, want connection refused", addr, err)
	}
}

// requireDropped fails the test unless conn, which was open, fails at once
// rather than at its deadline.
func requireDropped(t *testing.T, conn net.Conn) {
	t.Helper()
	_, err := conn.Read(make([]byte, 1))
	var netErr net.Error
	if err == nil || (errors.As(err, &netErr) && netErr.Timeout()) {
		t.Fatalf("reading a cut connection: %v, want it reset or closed at once", err)
	}
}

func TestProxyForwardsBothWaysAndHalfCloses(t *testing.T) {
	p := startProxy(t, startEcho(t))
	if !strings.HasPrefix(p.Addr(), "127.0.0.1:") {
		t.Errorf("Addr() = %s, want a loopback address", p.Addr())
	}
	conn := dial(t, p.Addr())
	if err := roundTrip(conn, "hello"); err != nil {
		t.Fatal(err)
	}

	// A client that is done writing still reads the rest of the answer.
	if _, err := conn.Write([]byte("last words")); err != nil {
		t.Fatal(err)
	}
	if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	rest, err := io.ReadAll(conn)
	if err != nil || string(rest) != "last words" {
		t.Fatalf("read after half-close = %q, %v; want the echo and then EOF", rest, err)
	}
}

func TestProxyCutDropsAndRefusesUntilRestore(t *testing.T) {
	p := startProxy(t, startEcho(t))
	conns := []net.Conn{dial(t, p.Addr()), dial(t, p.Addr())}
	for _, conn := range conns {
		if err := roundTrip(conn, "before"); err != nil {
			t.Fatal(err)
		}
	}

	if err := p.Cut(); err != nil {
		t.Fatal(err)
	}
	if err := p.Cut(); err != nil {
		t.Errorf("second Cut: %v", err)
	}
	for _, conn := range conns {
		requireDropped(t, conn)
	}
	requireRefused(t, p.Addr())

	if err := p.Restore(); err != nil {
		t.Fatal(err)
	}
	if err := p.Restore(); err != nil {
		t.Errorf("second Restore: %v", err)
	}
	if err := roundTrip(dial(t, p.Addr()), "after"); err != nil {
		t.Fatalf("through the restored proxy: %v", err)
	}
}

func TestProxyResetsClientsWhenTheTargetIsDown(t *testing.T) {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := listener.Addr().String() // a port that nothing serves any more
	_ = listener.Close()
	p := startProxy(t, down)

	// The reset may come before the client's connect returns, or after.
	conn, err := net.DialTimeout("tcp", p.Addr(), ioTimeout)
	if err != nil {
		if !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("dialing a proxy whose target is down: %v, want a reset", err)
		}
		return
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(ioTimeout)); err != nil {
		t.Fatal(err)
	}
	requireDropped(t, conn)
}

func TestProxyCloseEndsEverything(t *testing.T) {
	p := startProxy(t, startEcho(t))
	open := dial(t, p.Addr())
	if err := roundTrip(open, "open"); err != nil {
		t.Fatal(err)
	}
	cut, err := StartProxy(t.Context(), p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	if err := cut.Cut(); err != nil {
		t.Fatal(err)
	}

	if len(proxyGoroutines()) == 0 {
		t.Fatal("found no proxy goroutines while proxies run: the check for leaks below would prove nothing")
	}

	p.Close()
	p.Close()
	cut.Close()
	requireDropped(t, open)
	requireRefused(t, p.Addr())
	requireRefused(t, cut.Addr())
	if err := p.Cut(); err == nil {
		t.Error("Cut of a closed proxy succeeded, want an error")
	}
	if err := cut.Restore(); err == nil {
		t.Error("Restore of a closed proxy succeeded, want an error")
	}
	requireNoProxyGoroutines(t)
}

func TestProxyClosesWhenItsContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	p, err := StartProxy(ctx, startEcho(t))
	if err != nil {
		t.Fatal(err)
	}
	open := dial(t, p.Addr())
	if err := roundTrip(open, "open"); err != nil {
		t.Fatal(err)
	}
	cancel()
	requireDropped(t, open)
	requireNoProxyGoroutines(t)
	requireRefused(t, p.Addr())
	p.Close()
}

// requireNoProxyGoroutines waits, with a deadline, until no goroutine runs
// the proxy's code. Close returns once they are done, but a goroutine that
// is done may still be on its way out.
func requireNoProxyGoroutines(t *testing.T) {
	t.Helper()
	var leaked []string
	err := wait.PollUntilContextTimeout(t.Context(), 10*time.Millisecond, ioTimeout, true, func(context.Context) (bool, error) {
		leaked = proxyGoroutines()
		return len(leaked) == 0, nil
	})
	if err != nil {
		t.Fatalf("proxy goroutines still running:\n%s", strings.Join(leaked, "\n\n"))
	}
}

// proxyGoroutines returns the stacks of the goroutines running the proxy's
// code.
func proxyGoroutines() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var found []string
	for _, stack := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(stack, "internal/harness.(*Proxy)") || strings.Contains(stack, "internal/harness.pipe") {
			found = append(found, stack)
		}
	}
	return found
}

func TestProxyLatencyDelaysEveryByteEachWay(t *testing.T) {
	p := startProxy(t, startEcho(t))
	conn := dial(t, p.Addr())
	if err := roundTrip(conn, "warm"); err != nil {
		t.Fatalf("a round trip before the latency: %v", err)
	}

	const latency = 200 * time.Millisecond
	p.SetLatency(latency)
	sent := time.Now()
	if err := roundTrip(conn, "slow"); err != nil {
		t.Fatalf("a round trip with latency: %v", err)
	}
	// The message crosses the proxy twice, to the echo server and back.
	if took := time.Since(sent); took < 2*latency {
		t.Errorf("a round trip took %v through a proxy with %v of latency each way, want at least %v", took, latency, 2*latency)
	}

	p.SetLatency(0)
	if err := roundTrip(conn, "fast again"); err != nil {
		t.Fatalf("a round trip after the latency was taken away: %v", err)
	}
}
