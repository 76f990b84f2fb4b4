package serving

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestProbesHandlerRunsEachEndpointsOwnChecks(t *testing.T) {
	pass := func(*http.Request) error { return nil }
	handler := ProbesHandler(
		[]Checker{NamedCheck("leaderElection", pass)},
		[]Checker{NamedCheck("informers", func(*http.Request) error { return errors.New("not synced") })},
	)

	tests := []struct {
		target   string
		wantCode int
		wantBody string
	}{
		{"/healthz", http.StatusOK, "ok"},
		{"/healthz/leaderElection", http.StatusOK, "ok"},
		{"/healthz/informers", http.StatusNotFound, "404 page not found\n"},
		{"/readyz", http.StatusInternalServerError, "[-]informers failed: reason withheld\nreadyz check failed\n"},
		{"/readyz/informers", http.StatusInternalServerError, "[-]informers failed: reason withheld\nreadyz check failed\n"},
		{"/readyz/leaderElection", http.StatusNotFound, "404 page not found\n"},
		{"/livez", http.StatusNotFound, "404 page not found\n"},
	}
	for _, tt := range tests {
		recorder := httptest.NewRecorder()
		handler.ServeHTTP(recorder, httptest.NewRequest(http.MethodGet, tt.target, nil))
		if recorder.Code != tt.wantCode || recorder.Body.String() != tt.wantBody {
			t.Errorf("GET %s = %d %q, want %d %q", tt.target, recorder.Code, recorder.Body.String(), tt.wantCode, tt.wantBody)
		}
	}
}

func TestProbesHandlerWithoutChecks(t *testing.T) {
	handler := ProbesHandler(nil, nil)
	for _, target := range []string{"/healthz", "/readyz"} {
		recorder := httptest.NewRecorder()
		handler.ServeHTTP(recorder, httptest.NewRequest(http.MethodGet, target, nil))
		if recorder.Code != http.StatusOK || recorder.Body.String() != "ok" {
			t.Errorf("GET %s with no checks = %d %q, want 200 %q", target, recorder.Code, recorder.Body.String(), "ok")
		}
	}
}
