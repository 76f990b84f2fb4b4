package serving

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/util/flowcontrol"
)

// fakeTokenReviews is an API server that knows the tokens in users, and
// counts the TokenReviews it answers; it fails them all while err is set.
func fakeTokenReviews(users map[string]authenticationv1.UserInfo, reviews *int, err *error) *fake.Clientset {
	client := fake.NewClientset()
	client.PrependReactor("create", "tokenreviews", func(action clienttesting.Action) (bool, runtime.Object, error) {
		*reviews++
		if *err != nil {
			return true, nil, *err
		}
		review := action.(clienttesting.CreateAction).GetObject().(*authenticationv1.TokenReview)
		user, known := users[review.Spec.Token]
		review.Status = authenticationv1.TokenReviewStatus{Authenticated: known, User: user}
		if !known {
			review.Status.Error = "invalid bearer token"
		}
		return true, review, nil
	})
	return client
}

func TestTokenReviewAuthenticator(t *testing.T) {
	scraper := authenticationv1.UserInfo{Username: "system:serviceaccount:monitoring:prometheus", UID: "42",
		Groups: []string{"system:serviceaccounts"}, Extra: map[string]authenticationv1.ExtraValue{"pod": {"prometheus-0"}}}
	var reviews int
	var apiErr error
	client := fakeTokenReviews(map[string]authenticationv1.UserInfo{"good": scraper}, &reviews, &apiErr)
	clock := newFakeClock()
	authn := &cachedAuthenticator{
		reviewer: tokenReviewer{client: client.AuthenticationV1().TokenReviews()},
		// No refresh budget: answers due again are used until they expire,
		// without a background review (reviewcache_test.go tests those).
		cache: newReviewCache[authentication](clock.Now, flowcontrol.NewFakeAlwaysRateLimiter(), flowcontrol.NewFakeNeverRateLimiter()),
	}

	steps := []struct {
		what        string
		advance     time.Duration
		token       string
		apiErr      error
		wantUser    string
		wantOK      bool
		wantReason  string
		wantErr     string
		wantReviews int
	}{
		{what: "a valid token", token: "good", wantUser: scraper.Username, wantOK: true, wantReviews: 1},
		{what: "it again, from the cache", advance: authenticatedTTL - time.Second, token: "good",
			wantUser: scraper.Username, wantOK: true, wantReviews: 1},
		{what: "an invalid token", token: "bad", wantReason: "invalid bearer token", wantReviews: 2},
		{what: "it again, from the cache", advance: unauthenticatedTTL - time.Second, token: "bad",
			wantReason: "invalid bearer token", wantReviews: 2},
		{what: "it again, reviewed", advance: time.Second, token: "bad", wantReason: "invalid bearer token", wantReviews: 3},
		{what: "the valid token, due for a refresh, from the cache", token: "good", wantUser: scraper.Username,
			wantOK: true, wantReviews: 3},
		// The steps so far took 69 s.
		{what: "the valid token once its answer expired, with the API server failing", advance: answerMaxAge - 69*time.Second, token: "good",
			apiErr: errors.New("connection refused"), wantErr: "creating a TokenReview: connection refused", wantReviews: 4},
		{what: "it again, reviewed since failures are not cached", token: "good", wantUser: scraper.Username,
			wantOK: true, wantReviews: 5},
	}
	for _, step := range steps {
		clock.step(step.advance)
		apiErr = step.apiErr
		user, ok, reason, err := authn.AuthenticateToken(t.Context(), step.token)
		if (err == nil) != (step.wantErr == "") || (err != nil && !strings.Contains(err.Error(), step.wantErr)) {
			t.Errorf("%s: error %v, want %q", step.what, err, step.wantErr)
		}
		if user.Username != step.wantUser || ok != step.wantOK || reason != step.wantReason {
			t.Errorf("%s: got %q, %t, %q; want %q, %t, %q", step.what, user.Username, ok, reason,
				step.wantUser, step.wantOK, step.wantReason)
		}
		if reviews != step.wantReviews {
			t.Errorf("%s: %d TokenReviews so far, want %d", step.what, reviews, step.wantReviews)
		}
		if ok && (user.UID != scraper.UID || len(user.Groups) != 1 || user.Extra["pod"][0] != "prometheus-0") {
			t.Errorf("%s: user %+v, want all of %+v", step.what, user, scraper)
		}
	}
	if _, cached := authn.cache.entries["good"]; cached {
		t.Error("the cache keeps the token itself as a key, want its hash")
	}
}

// TestTokenReviewAuthenticatorHonoursTheTokensExpiry: the answer about a
// token that expires before the answer would is asked about again once the
// token has expired.
func TestTokenReviewAuthenticatorHonoursTheTokensExpiry(t *testing.T) {
	clock := newFakeClock()
	token := jwt(fmt.Sprintf(`{"exp":%d}`, clock.Now().Add(90*time.Second).Unix()))
	var reviews int
	var apiErr error
	client := fakeTokenReviews(map[string]authenticationv1.UserInfo{token: {Username: "prometheus"}}, &reviews, &apiErr)
	authn := &cachedAuthenticator{
		reviewer: tokenReviewer{client: client.AuthenticationV1().TokenReviews()},
		cache:    newReviewCache[authentication](clock.Now, flowcontrol.NewFakeAlwaysRateLimiter(), flowcontrol.NewFakeNeverRateLimiter()),
	}
	for _, step := range []struct {
		advance     time.Duration
		wantReviews int
	}{{0, 1}, {89 * time.Second, 1}, {time.Second, 2}} {
		clock.step(step.advance)
		if _, ok, _, err := authn.AuthenticateToken(t.Context(), token); !ok || err != nil {
			t.Fatalf("AuthenticateToken = %t, %v; want the token accepted", ok, err)
		}
		if reviews != step.wantReviews {
			t.Errorf("%v after the first review: %d TokenReviews, want %d", clock.Now().Sub(newFakeClock().Now()), reviews, step.wantReviews)
		}
	}
}
