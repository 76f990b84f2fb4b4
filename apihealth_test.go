package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/component-base/metrics/legacyregistry"
	"k8s.io/component-base/metrics/testutil"
	"k8s.io/klog/v2"
	"k8s.io/klog/v2/ktesting"
)

// testHealth is an apiHealth that retries every millisecond and logs a
// lasting problem again after logInterval.
func testHealth(logInterval time.Duration) *apiHealth {
	h := newAPIHealth("https://10.0.0.1:6443", "a bearer token")
	h.retryInterval, h.logInterval = time.Millisecond, logInterval
	return h
}

// failingCall fails with the errors given, in turn, then succeeds.
func failingCall(errs ...error) (call func(context.Context) (string, error), calls *int) {
	calls = new(int)
	return func(context.Context) (string, error) {
		*calls++
		if *calls <= len(errs) {
			return "", errs[*calls-1]
		}
		return "listed", nil
	}, calls
}

var mydemosResource = schema.GroupResource{Group: "crddemo.k8s.io", Resource: "mydemos"}

func TestGuardWaitsOutEachKindOfProblem(t *testing.T) {
	refused := fmt.Errorf("Get \"https://10.0.0.1:6443/apis\": %w", syscall.ECONNREFUSED)
	tests := []struct {
		name    string
		err     error
		wantLog string
	}{
		{"unreachable", refused, "Cannot reach the Kubernetes API server; will keep retrying"},
		{"CRD missing", apierrors.NewNotFound(mydemosResource, ""), "Failed to list *v1.Mydemo: the Mydemo CRD is not installed"},
		{"credentials rejected", apierrors.NewUnauthorized("Unauthorized"), `credentials="a bearer token"`},
		{"forbidden", apierrors.NewForbidden(mydemosResource, "", errors.New(`User "x" cannot list resource "mydemos"`)),
			`grant it the verbs of the ClusterRole in deploy/rbac.yaml err="mydemos.crddemo.k8s.io is forbidden: User \"x\" cannot list resource \"mydemos\""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logger := ktesting.NewLogger(t, ktesting.NewConfig(ktesting.BufferLogs(true)))
			ctx := klog.NewContext(t.Context(), logger)
			h := testHealth(time.Hour)
			// The readiness check fails while the problem lasts.
			call, calls := failingCall(tt.err, tt.err, tt.err)
			wrapped := func(ctx context.Context) (string, error) {
				if *calls > 0 && h.Check(&http.Request{}) == nil {
					t.Error("Check passed during the problem")
				}
				return call(ctx)
			}

			got, err := guard(ctx, h, wrapped)

			if err != nil || got != "listed" || *calls != 4 {
				t.Fatalf("guard = %q, %v after %d calls; want the fourth call's result", got, err, *calls)
			}
			if err := h.Check(&http.Request{}); err != nil {
				t.Errorf("Check after recovery: %v", err)
			}
			logs := logger.GetSink().(ktesting.Underlier).GetBuffer().String()
			if n := strings.Count(logs, tt.wantLog); n != 1 {
				t.Errorf("the problem was logged %d times, want once with %s:\n%s", n, tt.wantLog, logs)
			}
			if !strings.Contains(logs, "The Mydemo API is now available") {
				t.Errorf("recovery was not logged:\n%s", logs)
			}
		})
	}
}

func TestGuardLogsALastingProblemAgain(t *testing.T) {
	logger := ktesting.NewLogger(t, ktesting.NewConfig(ktesting.BufferLogs(true)))
	ctx := klog.NewContext(t.Context(), logger)
	h := testHealth(0)
	missing := apierrors.NewNotFound(mydemosResource, "")
	call, _ := failingCall(missing, missing, missing)

	if _, err := guard(ctx, h, call); err != nil {
		t.Fatal(err)
	}
	logs := logger.GetSink().(ktesting.Underlier).GetBuffer().String()
	if n := strings.Count(logs, "the Mydemo CRD is not installed"); n != 3 {
		t.Errorf("logged %d times with no log interval, want every one of 3 failures:\n%s", n, logs)
	}
}

func TestGuardReturnsOtherErrorsAtOnce(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	expired := apierrors.NewResourceExpired("too old resource version")
	call, calls := failingCall(expired)

	if _, err := guard(ctx, testHealth(time.Hour), call); !apierrors.IsResourceExpired(err) || *calls != 1 {
		t.Fatalf("guard = %v after %d calls, want the expired error at once for the reflector to relist", err, *calls)
	}
}

func TestGuardStopsWithItsContext(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	ctx, cancel := context.WithCancel(ctx)
	h := testHealth(time.Hour)
	var calls int
	_, err := guard(ctx, h, func(context.Context) (string, error) {
		if calls++; calls == 3 {
			cancel()
		}
		return "", apierrors.NewServiceUnavailable("starting")
	})
	if !apierrors.IsServiceUnavailable(err) || calls != 3 {
		t.Fatalf("guard = %v after %d calls, want it to give up when its context ends", err, calls)
	}
	if err := h.Check(&http.Request{}); err == nil || !strings.Contains(err.Error(), "starting") {
		t.Errorf("Check = %v, want the problem that was current", err)
	}
}

func TestGuardReportsAvailabilityAsAMetric(t *testing.T) {
	_, ctx := ktesting.NewTestContext(t)
	h := testHealth(time.Hour)
	refused := fmt.Errorf("dial tcp 10.0.0.1:6443: %w", syscall.ECONNREFUSED)
	call, calls := failingCall(refused, refused)
	available := func() float64 {
		t.Helper()
		v, err := testutil.GetGaugeMetricValue(apiAvailable)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	wrapped := func(ctx context.Context) (string, error) {
		if *calls > 0 && available() != 0 {
			t.Errorf("crddemo_api_available = %v after %d failed calls, want 0", available(), *calls)
		}
		return call(ctx)
	}

	if _, err := guard(ctx, h, wrapped); err != nil {
		t.Fatal(err)
	}
	// Served under its name by the registry behind /metrics, at 1 now that
	// the API answered.
	want := `# HELP crddemo_api_available [ALPHA] 1 while the Mydemo API answers crddemo's list and watch calls, ` +
		`0 while it cannot be used (unreachable, credentials rejected, forbidden, CRD missing) and before its first answer.
# TYPE crddemo_api_available gauge
crddemo_api_available 1
`
	if err := testutil.GatherAndCompare(legacyregistry.DefaultGatherer, strings.NewReader(want), "crddemo_api_available"); err != nil {
		t.Error(err)
	}
}
