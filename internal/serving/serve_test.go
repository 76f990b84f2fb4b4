package serving

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/klog/v2"
)

// get fetches url and returns the body of a 200 response.
func get(ctx context.Context, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	// A connection of its own, so that no kept-alive connection outlives
	// the test.
	req.Close = true
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s: %s", url, resp.Status, body)
	}
	return string(body), nil
}

// waitUntilPortIsFree waits until addr can be listened on again, which
// shows that the server behind it closed its listener.
func waitUntilPortIsFree(t *testing.T, addr string) {
	t.Helper()
	err := wait.PollUntilContextTimeout(t.Context(), 10*time.Millisecond, 5*time.Second, true,
		func(context.Context) (bool, error) {
			listener, err := net.Listen("tcp", addr)
			if err != nil {
				return false, nil
			}
			return true, listener.Close()
		})
	if err != nil {
		t.Fatalf("%s still in use after the server's context was cancelled: %v", addr, err)
	}
}

func TestServeAnswersUntilTheContextIsDone(t *testing.T) {
	logger, logs := newBufferedLogger(t, 0)
	ctx, cancel := context.WithCancel(klog.NewContext(t.Context(), logger))
	defer cancel()
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		klog.FromContext(r.Context()).Info("Handling", "path", r.URL.Path)
		fmt.Fprint(w, "hello")
	})

	addr, err := Serve(ctx, "test", "127.0.0.1:0", handler)
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + addr.String() + "/greeting"
	if body, err := get(t.Context(), url); err != nil || body != "hello" {
		t.Fatalf("GET %s = %q, %v; want %q", url, body, err, "hello")
	}
	for _, want := range []string{
		fmt.Sprintf(`INFO Serving name="test" address=%q`, addr.String()),
		`INFO Handling path="/greeting"`,
	} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the log lacks %s:\n%s", want, logs.String())
		}
	}

	cancel()
	waitUntilPortIsFree(t, addr.String())
	if _, err := get(t.Context(), url); err == nil {
		t.Errorf("GET %s succeeded after the server stopped", url)
	}
}

func TestServeFinishesRequestsInFlight(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	entered := make(chan struct{})
	release := make(chan struct{})
	releaseOnce := sync.OnceFunc(func() { close(release) })
	defer releaseOnce()
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		fmt.Fprint(w, "finished")
	})
	addr, err := Serve(ctx, "test", "127.0.0.1:0", handler)
	if err != nil {
		t.Fatal(err)
	}

	type response struct {
		body string
		err  error
	}
	responses := make(chan response, 1)
	go func() {
		body, err := get(t.Context(), "http://"+addr.String()+"/slow")
		responses <- response{body, err}
	}()
	select {
	case <-entered:
	case <-time.After(5 * time.Second):
		t.Fatal("the request did not reach the handler within 5s")
	}

	cancel()
	waitUntilPortIsFree(t, addr.String())
	releaseOnce()
	select {
	case r := <-responses:
		if r.err != nil || r.body != "finished" {
			t.Errorf("the request in flight at shutdown got %q, %v; want %q", r.body, r.err, "finished")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the request in flight at shutdown got no response within 5s")
	}
}

func TestServeFailsAtOnceOnABusyAddress(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	addr := busy.Addr().String()

	_, err = Serve(t.Context(), "metrics", addr, http.NotFoundHandler())
	want := fmt.Sprintf("serving metrics on %q: listen tcp %s: bind: address already in use", addr, addr)
	if err == nil || err.Error() != want {
		t.Errorf("Serve on a busy address = %v, want %s", err, want)
	}
	if !errors.Is(err, syscall.EADDRINUSE) {
		t.Errorf("Serve's error %v does not wrap EADDRINUSE", err)
	}
}

func TestServeFailsAtOnceOnABadAddress(t *testing.T) {
	_, err := Serve(t.Context(), "probes", "127.0.0.1:99999", http.NotFoundHandler())
	want := `serving probes on "127.0.0.1:99999": listen tcp: address 99999: invalid port`
	if err == nil || err.Error() != want {
		t.Errorf("Serve on a bad address = %v, want %s", err, want)
	}
}

// TestServeRefusesLongHeaders sends a header that never ends: the server
// answers 431 once it has read its bound, instead of reading on.
func TestServeRefusesLongHeaders(t *testing.T) {
	addr, err := Serve(t.Context(), "test", "127.0.0.1:0", http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		t.Error("the handler got a request whose header is past the bound")
	}))
	if err != nil {
		t.Fatal(err)
	}
	conn := dialFrom(t, "127.0.0.1", addr.String())
	// Sent while the answer is read: the server stops reading at its bound.
	go func() {
		_, _ = fmt.Fprintf(conn, "GET /healthz HTTP/1.1\r\nHost: crddemo\r\nX-Padding: %s", strings.Repeat("a", 256<<10))
	}()
	if err := conn.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	answer := make([]byte, len("HTTP/1.1 431"))
	if _, err := io.ReadFull(conn, answer); err != nil || string(answer) != "HTTP/1.1 431" {
		t.Errorf("a 256 KiB header got %q, %v; want HTTP/1.1 431", answer, err)
	}
}

// TestServeRefusesLongURIs answers 414 to a path past maxRequestURIBytes
// without calling the handler, and serves one at the bound.
func TestServeRefusesLongURIs(t *testing.T) {
	addr, err := Serve(t.Context(), "test", "127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.RequestURI) > maxRequestURIBytes {
			t.Errorf("the handler got a %d-byte URI", len(r.RequestURI))
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	atBound := "/" + strings.Repeat("a", maxRequestURIBytes-1)
	if status := getOn(t, dialFrom(t, "127.0.0.1", addr.String()), atBound); status != "HTTP/1.1 200" {
		t.Errorf("GET of a %d-byte path = %q, want 200", len(atBound), status)
	}
	if status := getOn(t, dialFrom(t, "127.0.0.1", addr.String()), atBound+"a"); status != "HTTP/1.1 414" {
		t.Errorf("GET of a %d-byte path = %q, want 414", len(atBound)+1, status)
	}
	if status := getOn(t, dialFrom(t, "127.0.0.1", addr.String()), "/metrics?"+strings.Repeat("a", maxRequestURIBytes)); status != "HTTP/1.1 414" {
		t.Errorf("GET of a long query = %q, want 414", status)
	}
}
