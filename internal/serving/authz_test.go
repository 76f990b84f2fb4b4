package serving

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/util/flowcontrol"
)

// fakeAccessReviews is an API server that lets get on the paths in allowed
// to the user named reader, records the reviews it answers and fails them
// all while err is set.
func fakeAccessReviews(allowed []string, reviews *[]authorizationv1.SubjectAccessReviewSpec, err *error) *fake.Clientset {
	client := fake.NewClientset()
	client.PrependReactor("create", "subjectaccessreviews", func(action clienttesting.Action) (bool, runtime.Object, error) {
		review := action.(clienttesting.CreateAction).GetObject().(*authorizationv1.SubjectAccessReview)
		*reviews = append(*reviews, review.Spec)
		if *err != nil {
			return true, nil, *err
		}
		attrs := review.Spec.NonResourceAttributes
		review.Status.Allowed = review.Spec.User == "reader" && attrs != nil && attrs.Verb == "get" && slices.Contains(allowed, attrs.Path)
		if !review.Status.Allowed {
			review.Status.Reason = "no RBAC policy matched"
		}
		return true, review, nil
	})
	return client
}

func TestSubjectAccessReviewAuthorizer(t *testing.T) {
	reader := authenticationv1.UserInfo{Username: "reader", UID: "7", Groups: []string{"system:authenticated"},
		Extra: map[string]authenticationv1.ExtraValue{"scopes": {"metrics"}}}
	other := authenticationv1.UserInfo{Username: "other"}
	var reviews []authorizationv1.SubjectAccessReviewSpec
	var apiErr error
	client := fakeAccessReviews([]string{"/metrics"}, &reviews, &apiErr)
	clock := newFakeClock()
	authz := &cachedAuthorizer{
		reviewer: accessReviewer{client: client.AuthorizationV1().SubjectAccessReviews()},
		// No refresh budget: answers due again are used until they expire,
		// without a background review (reviewcache_test.go tests those).
		cache: newReviewCache[authorization](clock.Now, flowcontrol.NewFakeAlwaysRateLimiter(), flowcontrol.NewFakeNeverRateLimiter()),
	}

	steps := []struct {
		what        string
		advance     time.Duration
		user        authenticationv1.UserInfo
		verb, path  string
		apiErr      error
		wantAllowed bool
		wantErr     string
		wantReviews int
	}{
		{what: "reader gets /metrics", user: reader, verb: "get", path: "/metrics", wantAllowed: true, wantReviews: 1},
		{what: "again, from the cache", advance: allowedTTL - time.Second, user: reader, verb: "get", path: "/metrics",
			wantAllowed: true, wantReviews: 1},
		{what: "reader gets another path", user: reader, verb: "get", path: "/debug/pprof/", wantReviews: 2},
		{what: "reader posts to /metrics", user: reader, verb: "post", path: "/metrics", wantReviews: 3},
		{what: "another user gets /metrics", user: other, verb: "get", path: "/metrics", wantReviews: 4},
		{what: "again, from the cache", advance: deniedTTL - time.Second, user: other, verb: "get", path: "/metrics", wantReviews: 4},
		{what: "again, reviewed", advance: time.Second, user: other, verb: "get", path: "/metrics", wantReviews: 5},
		{what: "reader, due for a refresh, from the cache", user: reader, verb: "get", path: "/metrics",
			wantAllowed: true, wantReviews: 5},
		// The steps so far took 69 s.
		{what: "reader once the answer expired, with the API server failing", advance: answerMaxAge - 69*time.Second,
			user: reader, verb: "get", path: "/metrics",
			apiErr:  errors.New("the server is currently unable to handle the request"),
			wantErr: "creating a SubjectAccessReview: the server is currently unable", wantReviews: 6},
		{what: "again, reviewed since failures are not cached", user: reader, verb: "get", path: "/metrics",
			wantAllowed: true, wantReviews: 7},
	}
	for _, step := range steps {
		clock.step(step.advance)
		apiErr = step.apiErr
		allowed, _, err := authz.AuthorizePath(t.Context(), step.user, step.verb, step.path)
		if (err == nil) != (step.wantErr == "") || (err != nil && !strings.Contains(err.Error(), step.wantErr)) {
			t.Errorf("%s: error %v, want %q", step.what, err, step.wantErr)
		}
		if allowed != step.wantAllowed {
			t.Errorf("%s: allowed %t, want %t", step.what, allowed, step.wantAllowed)
		}
		if len(reviews) != step.wantReviews {
			t.Errorf("%s: %d SubjectAccessReviews so far, want %d", step.what, len(reviews), step.wantReviews)
		}
	}

	// The review names the whole user, and the path as a non-resource URL.
	want := authorizationv1.SubjectAccessReviewSpec{
		User: "reader", UID: "7", Groups: []string{"system:authenticated"},
		Extra:                 map[string]authorizationv1.ExtraValue{"scopes": {"metrics"}},
		NonResourceAttributes: &authorizationv1.NonResourceAttributes{Verb: "get", Path: "/metrics"},
	}
	got := reviews[0]
	if got.User != want.User || got.UID != want.UID || !slices.Equal(got.Groups, want.Groups) ||
		!slices.Equal(got.Extra["scopes"], want.Extra["scopes"]) || *got.NonResourceAttributes != *want.NonResourceAttributes ||
		got.ResourceAttributes != nil {
		t.Errorf("the first SubjectAccessReview asked %+v, want %+v", got, want)
	}
}

// TestSubjectAccessReviewEvaluationError: an evaluation error, such as a
// binding to a missing ClusterRole, leaves the answer standing and is part
// of the reason.
func TestSubjectAccessReviewEvaluationError(t *testing.T) {
	for _, allowed := range []bool{false, true} {
		client := fake.NewClientset()
		client.PrependReactor("create", "subjectaccessreviews", func(action clienttesting.Action) (bool, runtime.Object, error) {
			review := action.(clienttesting.CreateAction).GetObject().(*authorizationv1.SubjectAccessReview)
			review.Status.Allowed = allowed
			review.Status.EvaluationError = `clusterrole.rbac.authorization.k8s.io "gone" not found`
			return true, review, nil
		})
		reviewer := accessReviewer{client: client.AuthorizationV1().SubjectAccessReviews()}
		got, reason, err := reviewer.AuthorizePath(t.Context(), authenticationv1.UserInfo{Username: "reader"}, "get", "/metrics")
		if got != allowed || err != nil || reason != `clusterrole.rbac.authorization.k8s.io "gone" not found` {
			t.Errorf("AuthorizePath, the API server allowing %t with an evaluation error = %t, %q, %v; want %t and the error as the reason",
				allowed, got, reason, err, allowed)
		}
	}
}
