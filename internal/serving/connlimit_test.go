package serving

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"k8s.io/klog/v2"
)

// dialFrom opens a connection to addr from the loopback address source, so
// that one test can play callers on several hosts.
func dialFrom(t *testing.T, source, addr string) net.Conn {
	t.Helper()
	dialer := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(source)}, Timeout: 5 * time.Second}
	conn, err := dialer.DialContext(t.Context(), "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// closedByServer reports whether the server closed conn without answering,
// as limitListener does with a connection past its caps.
func closedByServer(t *testing.T, conn net.Conn) bool {
	t.Helper()
	if err := conn.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	_, err := conn.Read(make([]byte, 1))
	return errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || isConnectionReset(err)
}

func isConnectionReset(err error) bool {
	return err != nil && strings.Contains(err.Error(), "connection reset")
}

// getOn sends GET path on conn and returns the status line of the answer.
func getOn(t *testing.T, conn net.Conn, path string) string {
	t.Helper()
	if _, err := fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: crddemo\r\n\r\n", path); err != nil {
		t.Fatal(err)
	}
	if err := conn.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	answer := make([]byte, len("HTTP/1.1 200"))
	if _, err := io.ReadFull(conn, answer); err != nil {
		t.Fatalf("reading the answer to GET %s: %v", path, err)
	}
	return string(answer)
}

// TestServeCapsConnectionsPerHost holds as many idle connections from one
// host as it may open: the next from that host is closed at once, while
// another host is still served.
func TestServeCapsConnectionsPerHost(t *testing.T) {
	logger, logs := newBufferedLogger(t, 0)
	ctx := klog.NewContext(t.Context(), logger)
	addr, err := Serve(ctx, "test", "127.0.0.1:0", http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	if err != nil {
		t.Fatal(err)
	}
	for range maxConnectionsPerHost {
		dialFrom(t, "127.0.0.2", addr.String())
	}
	if !closedByServer(t, dialFrom(t, "127.0.0.2", addr.String())) {
		t.Errorf("connection %d from 127.0.0.2 was not closed", maxConnectionsPerHost+1)
	}
	if status := getOn(t, dialFrom(t, "127.0.0.1", addr.String()), "/"); status != "HTTP/1.1 200" {
		t.Errorf("GET / from 127.0.0.1 while 127.0.0.2 holds its most connections = %q, want 200", status)
	}
	want := `Refused a connection name="test" remote="127.0.0.2" reason="the host has its most open connections"`
	if !strings.Contains(logs.String(), want) {
		t.Errorf("the log lacks %s:\n%s", want, logs.String())
	}
}

// TestLimitListenerCapsTheServer fills a listener's total from two hosts:
// a third host's connection is closed, and gets in once one of them closes.
func TestLimitListenerCapsTheServer(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	logger, logs := newBufferedLogger(t, 0)
	listener := newLimitListener(klog.NewContext(context.Background(), logger), "test", inner, 2, 1)
	defer listener.Close()
	accepted := make(chan net.Conn, 10)
	go func() {
		for {
			conn, err := listener.Accept()
			if err != nil {
				return
			}
			accepted <- conn
		}
	}()
	receive := func(what string) net.Conn {
		t.Helper()
		select {
		case conn := <-accepted:
			return conn
		case <-time.After(5 * time.Second):
			t.Fatalf("%s was not accepted within 5s", what)
			return nil
		}
	}

	dialFrom(t, "127.0.0.2", inner.Addr().String())
	first := receive("the first connection")
	dialFrom(t, "127.0.0.3", inner.Addr().String())
	receive("the second connection")
	if !closedByServer(t, dialFrom(t, "127.0.0.4", inner.Addr().String())) {
		t.Error("a third connection past a total of 2 was not closed")
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	_ = first.Close() // net/http may close a connection twice; the slot is given back once
	dialFrom(t, "127.0.0.4", inner.Addr().String())
	receive("a connection after one closed")
	if !closedByServer(t, dialFrom(t, "127.0.0.5", inner.Addr().String())) {
		t.Error("closing one connection twice gave two slots back")
	}
	// Only many hosts fill a server: their refusals share one line.
	if n := strings.Count(logs.String(), "Refused a connection"); n != 1 {
		t.Errorf("two refusals by a full server were logged in %d lines, want 1:\n%s", n, logs.String())
	}
}
