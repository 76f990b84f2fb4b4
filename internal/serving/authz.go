package serving

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	authorizationv1client "k8s.io/client-go/kubernetes/typed/authorization/v1"
)

// How long the answers of SubjectAccessReviews are used, for the reasons
// the TokenReview's are (authn.go): taking the metrics-reader role away
// takes effect at the first scrape after a minute while the API server
// answers, and within answerMaxAge when it cannot; granting it within 10 s.
const (
	allowedTTL = time.Minute
	deniedTTL  = 10 * time.Second
)

// PathAuthorizer tells whether a user may use a verb on a path that is not
// a Kubernetes resource, such as get on /metrics, as RBAC's nonResourceURLs
// grant.
type PathAuthorizer interface {
	// AuthorizePath returns whether user may, with the reason the API server
	// gave. An error means that nobody could tell, such as an unreachable API
	// server, or ErrTooManyReviews.
	AuthorizePath(ctx context.Context, user authenticationv1.UserInfo, verb, path string) (allowed bool, reason string, err error)
}

// NewSubjectAccessReviewAuthorizer asks the API server about each user, verb
// and path with a SubjectAccessReview, as kube-controller-manager does, about
// the attributes that attributes gives, and caches the answers. Its reviews
// have budgets of their own (reviewbudget.go).
func NewSubjectAccessReviewAuthorizer(client authorizationv1client.SubjectAccessReviewInterface, attributes AccessAttributes) PathAuthorizer {
	return &cachedAuthorizer{reviewer: accessReviewer{client: client, attributes: attributes},
		cache: newReviewCache[authorization](time.Now, newAskBudget(), newRefreshBudget())}
}

// accessReviewer is the uncached SubjectAccessReview client. Without
// attributes, it asks about paths (PathAttributes).
type accessReviewer struct {
	client     authorizationv1client.SubjectAccessReviewInterface
	attributes AccessAttributes
}

func (r accessReviewer) AuthorizePath(ctx context.Context, user authenticationv1.UserInfo, verb, path string) (bool, string, error) {
	spec, ok := r.spec(verb, path)
	if !ok {
		return false, noRoleGrants, nil
	}
	return r.review(ctx, user, spec)
}

// noRoleGrants is the reason for a path that no role can grant.
const noRoleGrants = "no role grants this path"

// spec is what the SubjectAccessReview of verb and path asks about, or ok
// false for a path that no role can grant.
func (r accessReviewer) spec(verb, path string) (authorizationv1.SubjectAccessReviewSpec, bool) {
	if r.attributes == nil {
		return PathAttributes(verb, path)
	}
	return r.attributes(verb, path)
}

// review asks the API server whether user may do what spec says.
func (r accessReviewer) review(ctx context.Context, user authenticationv1.UserInfo, spec authorizationv1.SubjectAccessReviewSpec) (bool, string, error) {
	extra := make(map[string]authorizationv1.ExtraValue, len(user.Extra))
	for key, value := range user.Extra {
		extra[key] = authorizationv1.ExtraValue(value)
	}
	spec.User, spec.UID, spec.Groups, spec.Extra = user.Username, user.UID, user.Groups, extra
	review := &authorizationv1.SubjectAccessReview{Spec: spec}
	answer, err := r.client.Create(ctx, review, metav1.CreateOptions{})
	if err != nil {
		return false, "", fmt.Errorf("creating a SubjectAccessReview: %w", err)
	}
	reason := answer.Status.Reason
	// An evaluation error, such as a binding to a ClusterRole that does not
	// exist, leaves the API server's answer standing, as the API server
	// itself treats it; it is part of why.
	if answer.Status.EvaluationError != "" {
		reason = strings.TrimPrefix(reason+"; "+answer.Status.EvaluationError, "; ")
	}
	return answer.Status.Allowed && !answer.Status.Denied, reason, nil
}

// authorization is one cached answer of a SubjectAccessReview.
type authorization struct {
	allowed bool
	reason  string
}

// cachedAuthorizer keeps reviewer's answers by user and by what the review
// asks: every path that asks the same, such as each profile under
// /debug/pprof/, shares one answer and one review. A path that no role can
// grant is refused before the cache, so that a caller sending many such
// paths neither fills the cache nor spends the review budget. The key is the
// whole user, groups and extra included, since the API server's answer
// depends on all of it: two tokens of one ServiceAccount share their
// answers.
type cachedAuthorizer struct {
	reviewer accessReviewer
	cache    *reviewCache[authorization]
}

func (a *cachedAuthorizer) AuthorizePath(ctx context.Context, user authenticationv1.UserInfo, verb, path string) (bool, string, error) {
	spec, ok := a.reviewer.spec(verb, path)
	if !ok {
		return false, noRoleGrants, nil
	}
	key, err := json.Marshal(struct {
		User authenticationv1.UserInfo
		Asks authorizationv1.SubjectAccessReviewSpec
	}{user, spec})
	if err != nil {
		return false, "", fmt.Errorf("encoding the user %q and the review as a cache key: %w", user.Username, err)
	}
	answer, err := a.cache.get(ctx, string(key), func(ctx context.Context) (authorization, lifetime, error) {
		allowed, reason, err := a.reviewer.review(ctx, user, spec)
		life := lifetime{refresh: deniedTTL, expire: deniedTTL}
		if allowed {
			life = lifetime{refresh: allowedTTL, expire: answerMaxAge}
		}
		return authorization{allowed: allowed, reason: reason}, life, err
	})
	return answer.allowed, answer.reason, err
}
