package leaderelection

import (
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// validConfig has kube-controller-manager's default durations.
func validConfig() Config {
	return Config{
		Namespace:     "crddemo-system",
		Name:          "crddemo",
		Identity:      "host_1234",
		LeaseDuration: 15 * time.Second,
		RenewDeadline: 10 * time.Second,
		RetryPeriod:   2 * time.Second,
	}
}

func TestValidateAcceptsGoodConfigs(t *testing.T) {
	shortest := validConfig()
	shortest.LeaseDuration, shortest.RenewDeadline, shortest.RetryPeriod = time.Second, 500*time.Millisecond, 100*time.Millisecond
	for _, cfg := range []Config{validConfig(), shortest} {
		if errs := cfg.Validate(field.NewPath("election")); len(errs) > 0 {
			t.Errorf("Validate(%+v) = %v, want none", cfg, errs)
		}
	}
}

func TestValidateRefusesBadConfigs(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"no lease name", func(c *Config) { c.Name = "" },
			"election.name: Required value: the Lease needs a name"},
		{"a lease name that is no object name", func(c *Config) { c.Name = "Crd_Demo" },
			`election.name: Invalid value: "Crd_Demo": not a valid Lease name: a lowercase RFC 1123 subdomain must consist of`},
		{"no namespace", func(c *Config) { c.Namespace = "" },
			"election.namespace: Required value: the Lease needs a namespace"},
		{"a namespace that is no namespace name", func(c *Config) { c.Namespace = "crddemo.system" },
			`election.namespace: Invalid value: "crddemo.system": not a valid namespace name: must not contain dots`},
		{"a zero lease duration", func(c *Config) { c.LeaseDuration = 0 },
			"election.leaseDuration: Invalid value: \"0s\": must be positive"},
		{"a negative renew deadline", func(c *Config) { c.RenewDeadline = -time.Second },
			"election.renewDeadline: Invalid value: \"-1s\": must be positive"},
		{"a zero retry period", func(c *Config) { c.RetryPeriod = 0 },
			"election.retryPeriod: Invalid value: \"0s\": must be positive"},
		{"a lease shorter than the second a Lease counts in", func(c *Config) {
			c.LeaseDuration, c.RenewDeadline, c.RetryPeriod = 900*time.Millisecond, 500*time.Millisecond, 100*time.Millisecond
		}, "election.leaseDuration: Invalid value: \"900ms\": must be at least 1s, as a Lease counts whole seconds"},
		{"a lease that is not whole seconds", func(c *Config) { c.LeaseDuration = 1500 * time.Millisecond; c.RenewDeadline = time.Second },
			"election.leaseDuration: Invalid value: \"1.5s\": must be whole seconds, as a Lease counts them (use 1s or 2s)"},
		{"a renew deadline as long as the lease", func(c *Config) { c.RenewDeadline = 15 * time.Second },
			"election.renewDeadline: Invalid value: \"15s\": must be shorter than election.leaseDuration (15s)"},
		{"a renew deadline longer than the lease", func(c *Config) { c.RenewDeadline = 20 * time.Second },
			"election.renewDeadline: Invalid value: \"20s\": must be shorter than election.leaseDuration (15s)"},
		{"a retry period as long as the renew deadline", func(c *Config) { c.RetryPeriod = 10 * time.Second },
			"election.retryPeriod: Invalid value: \"10s\": too long for election.renewDeadline (10s): " +
				"client-go needs the renew deadline to exceed 1.2 times the retry period (12s)"},
		{"a retry period whose jitter reaches the renew deadline", func(c *Config) { c.RetryPeriod = 9 * time.Second },
			"election.retryPeriod: Invalid value: \"9s\": too long for election.renewDeadline (10s): " +
				"client-go needs the renew deadline to exceed 1.2 times the retry period (10.8s)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := validConfig()
			tt.change(&cfg)
			errs := cfg.Validate(field.NewPath("election"))
			if len(errs) != 1 || !strings.HasPrefix(errs[0].Error(), tt.want) {
				t.Errorf("Validate() = %v, want one error %s", errs, tt.want)
			}
		})
	}
}
