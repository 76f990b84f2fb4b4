package harness

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
)

// PollInterval is how often a wait on crddemo or the API server looks
// again, here, in the integration tests and in the bench: often enough that
// a wait adds little to what it measures, rarely enough that it costs the
// API server nothing to speak of.
const PollInterval = 50 * time.Millisecond

// Probe returns the HTTP status code and body of GET http://addr/path, such
// as crddemo's /readyz.
func Probe(ctx context.Context, addr, path string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+path, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

// WaitReady waits until GET http://addr/readyz answers 200: crddemo's cache
// has synced, so its workers start as soon as it leads.
func WaitReady(ctx context.Context, addr string) error {
	var last string
	err := wait.PollUntilContextCancel(ctx, PollInterval, true, func(ctx context.Context) (bool, error) {
		code, body, err := Probe(ctx, addr, "/readyz")
		switch {
		case err != nil && ctx.Err() != nil:
			// The wait is over; the answer before this is what to report.
		case err != nil:
			last = err.Error()
		default:
			last = fmt.Sprintf("%d %s", code, body)
		}
		return err == nil && code == http.StatusOK, nil
	})
	if err != nil {
		return fmt.Errorf("waiting for http://%s/readyz to answer 200 (last answer: %s): %w", addr, last, err)
	}
	return nil
}
