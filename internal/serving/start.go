package serving

import (
	"context"
	"net/http"
)

// Config says which of crddemo's HTTP servers run, and how; a nil server
// is off.
type Config struct {
	// Probes serves /healthz and /readyz.
	Probes *ProbesConfig
	// Metrics serves /metrics, and with Profiling the profiles.
	Metrics *MetricsConfig
}

// ProbesConfig is where the probes are served.
type ProbesConfig struct {
	Address string
}

// MetricsConfig is where and how the metrics are served.
type MetricsConfig struct {
	Address   string
	Profiling bool
	// Secure, if not nil, serves HTTPS to the callers that the API server
	// authenticates and authorizes; nil serves plain HTTP to anyone.
	Secure *SecureConfig
}

// SecureConfig is what serves over HTTPS to the callers the API server
// vouches for.
type SecureConfig struct {
	Certificates  *Certificates
	Authenticator TokenAuthenticator
	Authorizer    PathAuthorizer
}

// Off reports whether addr, as given on the command line, turns its server
// off.
func Off(addr string) bool {
	return addr == disabledAddress
}

// Start starts the servers that cfg turns on, with healthz and readyz as
// the probes' checks; they run until ctx is done. A server that cannot
// listen is an error here, at startup.
func Start(ctx context.Context, cfg Config, healthz, readyz []Checker) error {
	if cfg.Probes != nil {
		if _, err := Serve(ctx, "health probes", cfg.Probes.Address, ProbesHandler(healthz, readyz)); err != nil {
			return err
		}
	}
	if cfg.Metrics == nil {
		return nil
	}
	return startMetrics(ctx, *cfg.Metrics)
}

// startMetrics serves the metrics as cfg says.
func startMetrics(ctx context.Context, cfg MetricsConfig) error {
	var handler http.Handler = MetricsHandler(cfg.Profiling)
	if cfg.Secure == nil {
		_, err := Serve(ctx, "metrics", cfg.Address, handler)
		return err
	}
	handler = WithAuthenticationAndAuthorization(handler, cfg.Secure.Authenticator, cfg.Secure.Authorizer)
	_, err := ServeTLS(ctx, "metrics", cfg.Address, handler, cfg.Secure.Certificates)
	return err
}
