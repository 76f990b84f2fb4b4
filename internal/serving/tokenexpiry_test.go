package serving

import (
	"encoding/base64"
	"testing"
	"time"
)

// jwt is a token with payload as its claims and a signature nobody checks.
func jwt(payload string) string {
	encode := base64.RawURLEncoding.EncodeToString
	return encode([]byte(`{"alg":"RS256"}`)) + "." + encode([]byte(payload)) + ".c2lnbmF0dXJl"
}

func TestTokenExpiry(t *testing.T) {
	tests := []struct {
		name      string
		token     string
		wantFound bool
		want      time.Time
	}{
		{"a ServiceAccount token", jwt(`{"aud":["https://kubernetes.default.svc"],"exp":1767229200,"sub":"system:serviceaccount:monitoring:prometheus"}`),
			true, time.Unix(1767229200, 0)},
		{"a fractional expiry", jwt(`{"exp":1767229200.5}`), true, time.Unix(1767229200, 0)},
		{"no expiry", jwt(`{"sub":"someone"}`), false, time.Time{}},
		{"not JSON", jwt(`exp`), false, time.Time{}},
		{"an expiry that is not a number", jwt(`{"exp":"tomorrow"}`), false, time.Time{}},
		{"not base64", "a.!!!.c", false, time.Time{}},
		{"an opaque token", "5f1e9a0c7d", false, time.Time{}},
		{"too many parts", jwt(`{"exp":1767229200}`) + ".more", false, time.Time{}},
	}
	for _, tt := range tests {
		got, found := tokenExpiry(tt.token)
		if found != tt.wantFound || !got.Equal(tt.want) {
			t.Errorf("%s: tokenExpiry = %v, %t; want %v, %t", tt.name, got, found, tt.want, tt.wantFound)
		}
	}
}
