package serving

import (
	"context"
	"log"
	"strings"
	"time"

	"k8s.io/klog/v2"
)

// handshakeErrorPrefix starts the line that net/http logs for each failed
// TLS handshake, followed by "ADDRESS: REASON".
const handshakeErrorPrefix = "http: TLS handshake error from "

// serverErrorLog is the log.Logger that net/http writes its errors to. A
// failed TLS handshake, such as a scraper that does not trust the
// certificate or a port scanner, is logged once per remote host and
// refusalLogInterval, so that a caller failing handshakes in a loop cannot
// flood the log; any other error is logged as it comes. Through klog, every
// line keeps the format of the others, JSON included.
func serverErrorLog(ctx context.Context, name string) *log.Logger {
	return log.New(&errorLogWriter{ctx: ctx, name: name, handshakes: newRefusalLog(time.Now)}, "", 0)
}

type errorLogWriter struct {
	ctx        context.Context
	name       string
	handshakes *refusalLog
}

// Write logs one line of net/http's.
func (w *errorLogWriter) Write(p []byte) (int, error) {
	line := strings.TrimSuffix(string(p), "\n")
	logger := klog.FromContext(w.ctx)
	rest, isHandshake := strings.CutPrefix(line, handshakeErrorPrefix)
	if !isHandshake {
		logger.Info("HTTP server error", "name", w.name, "err", line)
		return len(p), nil
	}
	address, reason, _ := strings.Cut(rest, ": ")
	host := addressHost(address)
	if log, unlogged := w.handshakes.record(host); log {
		keysAndValues := []any{"name", w.name, "remote", host, "err", reason}
		if unlogged > 0 {
			keysAndValues = append(keysAndValues, "failedSinceLastLog", unlogged)
		}
		logger.Info("TLS handshake failed", keysAndValues...)
	}
	return len(p), nil
}
