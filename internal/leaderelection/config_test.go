package leaderelection

import (
	"strings"
	"testing"
	"time"
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
		if err := cfg.Validate(); err != nil {
			t.Errorf("Validate(%+v) = %v, want nil", cfg, err)
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
			"--leader-elect-resource-name must not be empty"},
		{"a lease name that is no object name", func(c *Config) { c.Name = "Crd_Demo" },
			`--leader-elect-resource-name "Crd_Demo" is not a valid Lease name: a lowercase RFC 1123 subdomain must consist of`},
		{"no namespace", func(c *Config) { c.Namespace = "" },
			"--leader-elect-resource-namespace must not be empty"},
		{"a namespace that is no namespace name", func(c *Config) { c.Namespace = "crddemo.system" },
			`--leader-elect-resource-namespace "crddemo.system" is not a valid namespace name: must not contain dots`},
		{"no identity", func(c *Config) { c.Identity = "" },
			"the leader election identity must not be empty"},
		{"a zero lease duration", func(c *Config) { c.LeaseDuration = 0 },
			"--leader-elect-lease-duration must be positive, got 0s"},
		{"a negative renew deadline", func(c *Config) { c.RenewDeadline = -time.Second },
			"--leader-elect-renew-deadline must be positive, got -1s"},
		{"a zero retry period", func(c *Config) { c.RetryPeriod = 0 },
			"--leader-elect-retry-period must be positive, got 0s"},
		{"a lease shorter than the second a Lease counts in", func(c *Config) {
			c.LeaseDuration, c.RenewDeadline, c.RetryPeriod = 900*time.Millisecond, 500*time.Millisecond, 100*time.Millisecond
		}, "--leader-elect-lease-duration must be at least 1s, as a Lease counts whole seconds, got 900ms"},
		{"a lease that is not whole seconds", func(c *Config) { c.LeaseDuration = 1500 * time.Millisecond; c.RenewDeadline = time.Second },
			"--leader-elect-lease-duration must be whole seconds, as a Lease counts them, got 1.5s (use 1s or 2s)"},
		{"a renew deadline as long as the lease", func(c *Config) { c.RenewDeadline = 15 * time.Second },
			"--leader-elect-renew-deadline (15s) must be shorter than --leader-elect-lease-duration (15s)"},
		{"a renew deadline longer than the lease", func(c *Config) { c.RenewDeadline = 20 * time.Second },
			"--leader-elect-renew-deadline (20s) must be shorter than --leader-elect-lease-duration (15s)"},
		{"a retry period as long as the renew deadline", func(c *Config) { c.RetryPeriod = 10 * time.Second },
			"--leader-elect-retry-period (10s) is too long for --leader-elect-renew-deadline (10s): " +
				"client-go needs the renew deadline to exceed 1.2 times the retry period (12s)"},
		{"a retry period whose jitter reaches the renew deadline", func(c *Config) { c.RetryPeriod = 9 * time.Second },
			"--leader-elect-retry-period (9s) is too long for --leader-elect-renew-deadline (10s): " +
				"client-go needs the renew deadline to exceed 1.2 times the retry period (10.8s)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := validConfig()
			tt.change(&cfg)
			err := cfg.Validate()
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("Validate() = %v, want %s", err, tt.want)
			}
		})
	}
}
