package serving

import (
	"strings"
	"testing"

	"k8s.io/klog/v2"
)

// TestServerErrorLogThrottlesHandshakeErrors logs one line for a host's
// first failed handshake and none for the next ones, while other hosts and
// other errors are logged.
func TestServerErrorLogThrottlesHandshakeErrors(t *testing.T) {
	logger, logs := newBufferedLogger(t, 0)
	errorLog := serverErrorLog(klog.NewContext(t.Context(), logger), "metrics")
	for port := range 100 {
		errorLog.Printf("http: TLS handshake error from 10.0.0.7:%d: remote error: tls: bad certificate", 40000+port)
	}
	errorLog.Printf("http: TLS handshake error from [fd00::8]:1234: EOF")
	errorLog.Printf("http: Accept error: too many open files; retrying in 5ms")

	got := logs.String()
	for _, want := range []string{
		`TLS handshake failed name="metrics" remote="10.0.0.7" err="remote error: tls: bad certificate"`,
		`TLS handshake failed name="metrics" remote="fd00::8" err="EOF"`,
		`HTTP server error name="metrics" err="http: Accept error: too many open files; retrying in 5ms"`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the log lacks %s:\n%s", want, got)
		}
	}
	if n := strings.Count(got, `remote="10.0.0.7"`); n != 1 {
		t.Errorf("100 failed handshakes from one host were logged in %d lines, want 1:\n%s", n, got)
	}
}
