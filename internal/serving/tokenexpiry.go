package serving

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"
)

// tokenExpiry reads the expiry ("exp") that a JSON Web Token, such as a
// ServiceAccount token, claims, without checking its signature. That is
// safe only to shorten how long the API server's answer about the token is
// used, which is all it is for: a token past its expiry is asked about
// again rather than served from the cache. found is false for a token that
// is not a JWT or claims no expiry.
func tokenExpiry(token string) (expiry time.Time, found bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return time.Time{}, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return time.Time{}, false
	}
	var claims struct {
		Exp *float64 `json:"exp"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil || claims.Exp == nil {
		return time.Time{}, false
	}
	return time.Unix(int64(*claims.Exp), 0), true
}
