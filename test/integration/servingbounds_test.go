package integration

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/domac/crddemo/internal/harness"
)

// headerAttackSlack is how far above idle crddemo's RSS may go while 100
// connections to each of its ports send 1 MB headers: measured at 6 to
// 7.5 MiB, most of it garbage of the refused headers that the GC has not
// returned yet, with slack for a loaded machine. Without the bounds it
// grew by more than 300 MiB.
const headerAttackSlack = 12 << 20

// TestServingHoldsLittleForHeaderFloods opens 100 connections to each of
// crddemo's ports, the plain probes and the HTTPS metrics, each from a host
// of its own, and sends each an unfinished 1 MB header: crddemo's RSS stays
// within a few MiB of idle, and /healthz still answers. No review is
// involved, so no API server is needed.
func TestServingHoldsLittleForHeaderFloods(t *testing.T) {
	crddemo := startCrddemo(t, isolatedEnv(t), "--master=https://127.0.0.1:1", "--metrics-secure")
	if code, body := getWhenServing(t, crddemo.Probes, "/healthz"); code != http.StatusOK {
		t.Fatalf("GET /healthz before the attack = %d %q, want 200", code, body)
	}
	newScrapeClient(t).getWhenServing(t, crddemo.Metrics, "/metrics", "")
	idle := idleRSS(t, crddemo.PID())

	peak := newPeakRSS(t, crddemo.PID())
	var attackers sync.WaitGroup
	for i := range 100 {
		source := fmt.Sprintf("127.0.1.%d", i+1)
		attackers.Go(func() { sendUnfinishedHeader(t, source, crddemo.Probes, false) })
		attackers.Go(func() { sendUnfinishedHeader(t, source, crddemo.Metrics, true) })
	}
	// The probes answer while the attack goes on, as the kubelet probes: a
	// new connection and a 1 s timeout, tried again within a few seconds.
	probed := wait.PollUntilContextTimeout(t.Context(), 100*time.Millisecond, 10*time.Second, true, func(ctx context.Context) (bool, error) {
		ctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		code, _, err := harness.Probe(ctx, crddemo.Probes, "/healthz")
		return err == nil && code == http.StatusOK, nil
	})
	if probed != nil {
		t.Errorf("GET /healthz during the attack never answered 200 within 10s: %v", probed)
	}
	attackers.Wait()
	top := peak.stop()

	t.Logf("crddemo's RSS: %.1f MiB idle, %.1f MiB at the peak of 100 connections to each port with 1 MB headers",
		float64(idle)/(1<<20), float64(top)/(1<<20))
	if top > idle+headerAttackSlack {
		t.Errorf("crddemo's RSS grew from %d KiB idle to %d KiB under the attack, want at most %d KiB more",
			idle>>10, top>>10, headerAttackSlack>>10)
	}
	if code, body, err := harness.Probe(t.Context(), crddemo.Probes, "/healthz"); err != nil || code != http.StatusOK {
		t.Errorf("GET /healthz after the attack = %d %q, %v; want 200", code, body, err)
	}
}

// sendUnfinishedHeader connects to addr from source, over TLS if asked, and
// sends a request whose header is 1 MB long and never ends; it returns once
// crddemo has closed the connection, or after 15 s.
func sendUnfinishedHeader(t *testing.T, source, addr string, overTLS bool) {
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(source)}, Timeout: 5 * time.Second}
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	var conn net.Conn
	var err error
	if overTLS {
		tlsDialer := &tls.Dialer{NetDialer: dialer, Config: &tls.Config{InsecureSkipVerify: true}}
		conn, err = tlsDialer.DialContext(ctx, "tcp", addr)
	} else {
		conn, err = dialer.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		// crddemo closes the connections past its caps, which can fail
		// the TLS handshake; that is the point.
		return
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	header := "GET /healthz HTTP/1.1\r\nHost: crddemo\r\nX-Padding: "
	chunk := []byte(strings.Repeat("a", 64<<10))
	if _, err := io.WriteString(conn, header); err != nil {
		return
	}
	for range 16 {
		if _, err := conn.Write(chunk); err != nil {
			return
		}
	}
	// Hold the connection open, the header unfinished, until crddemo
	// answers or closes it.
	_, _ = io.Copy(io.Discard, conn)
}

// rss reads the resident set size of the process pid from /proc.
func rss(t *testing.T, pid int) int64 {
	t.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatalf("reading crddemo's memory: %v", err)
	}
	for line := range strings.Lines(string(status)) {
		if value, found := strings.CutPrefix(line, "VmRSS:"); found {
			kib, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("parsing VmRSS %q: %v", value, err)
			}
			return kib << 10
		}
	}
	t.Fatalf("/proc/%d/status has no VmRSS", pid)
	return 0
}

// idleRSS is the highest RSS of pid over a second of rest.
func idleRSS(t *testing.T, pid int) int64 {
	t.Helper()
	var highest int64
	for range 10 {
		highest = max(highest, rss(t, pid))
		time.Sleep(100 * time.Millisecond)
	}
	return highest
}

// peakRSS samples the RSS of a process every 20 ms until stop.
type peakRSS struct {
	done chan struct{}
	peak chan int64
}

func newPeakRSS(t *testing.T, pid int) *peakRSS {
	p := &peakRSS{done: make(chan struct{}), peak: make(chan int64, 1)}
	go func() {
		var highest int64
		ticker := time.NewTicker(20 * time.Millisecond)
		defer ticker.Stop()
		for {
			highest = max(highest, rss(t, pid))
			select {
			case <-p.done:
				p.peak <- highest
				return
			case <-ticker.C:
			}
		}
	}()
	return p
}

func (p *peakRSS) stop() int64 {
	close(p.done)
	return <-p.peak
}
