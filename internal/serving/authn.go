package serving

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	authenticationv1client "k8s.io/client-go/kubernetes/typed/authentication/v1"
)

// How long the answers of TokenReviews are used. A minute is longer than the
// 15 s or 30 s between Prometheus scrapes, so a steady scraper costs one
// review a minute per replica, not one per scrape; past it, the answer is
// refreshed in the background while the scraper keeps being served, for at
// most answerMaxAge after the API server gave it, and never past the
// token's own expiry. So a deleted ServiceAccount's token, or a revoked
// role (authz.go), loses access at the first scrape after a minute while
// the API server answers, and within answerMaxAge when it cannot. A
// refused token is asked about again after 10 s, the delegating
// authenticator's default, so a fixed token works soon, while a scraper
// with a bad one costs at most a review every 10 s.
const (
	authenticatedTTL   = time.Minute
	answerMaxAge       = 5 * time.Minute
	unauthenticatedTTL = 10 * time.Second
)

// TokenAuthenticator tells who a bearer token belongs to.
type TokenAuthenticator interface {
	// AuthenticateToken returns the token's user, or ok false with the
	// reason when the token is not valid. An error means that nobody could
	// tell, such as an unreachable API server, or ErrTooManyReviews.
	AuthenticateToken(ctx context.Context, token string) (user authenticationv1.UserInfo, ok bool, reason string, err error)
}

// NewTokenReviewAuthenticator asks the API server about each token with a
// TokenReview, as kube-controller-manager does, and caches the answers. Its
// reviews have budgets of their own (reviewbudget.go).
func NewTokenReviewAuthenticator(client authenticationv1client.TokenReviewInterface) TokenAuthenticator {
	return &cachedAuthenticator{reviewer: tokenReviewer{client: client},
		cache: newReviewCache[authentication](time.Now, newAskBudget(), newRefreshBudget())}
}

// tokenReviewer is the uncached TokenReview client.
type tokenReviewer struct {
	client authenticationv1client.TokenReviewInterface
}

func (r tokenReviewer) AuthenticateToken(ctx context.Context, token string) (authenticationv1.UserInfo, bool, string, error) {
	review := &authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{Token: token}}
	answer, err := r.client.Create(ctx, review, metav1.CreateOptions{})
	if err != nil {
		return authenticationv1.UserInfo{}, false, "", fmt.Errorf("creating a TokenReview: %w", err)
	}
	if !answer.Status.Authenticated {
		reason := answer.Status.Error
		if reason == "" {
			reason = "the API server does not recognise the token"
		}
		return authenticationv1.UserInfo{}, false, reason, nil
	}
	if answer.Status.User.Username == "" {
		return authenticationv1.UserInfo{}, false, "", errors.New("the TokenReview authenticated the token but named no user")
	}
	return answer.Status.User, true, "", nil
}

// authentication is one cached answer of a TokenReview.
type authentication struct {
	user   authenticationv1.UserInfo
	ok     bool
	reason string
}

// cachedAuthenticator keeps reviewer's answers by the token's hash, so that
// the tokens themselves are not kept in memory.
type cachedAuthenticator struct {
	reviewer TokenAuthenticator
	cache    *reviewCache[authentication]
}

func (a *cachedAuthenticator) AuthenticateToken(ctx context.Context, token string) (authenticationv1.UserInfo, bool, string, error) {
	answer, err := a.cache.get(ctx, tokenHash(token), func(ctx context.Context) (authentication, lifetime, error) {
		user, ok, reason, err := a.reviewer.AuthenticateToken(ctx, token)
		life := lifetime{refresh: unauthenticatedTTL, expire: unauthenticatedTTL}
		if ok {
			life = lifetime{refresh: authenticatedTTL, expire: answerMaxAge}
			life.notAfter, _ = tokenExpiry(token)
		}
		return authentication{user: user, ok: ok, reason: reason}, life, err
	})
	return answer.user, answer.ok, answer.reason, err
}

// tokenHash is the key under which a token's answers are cached.
func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
