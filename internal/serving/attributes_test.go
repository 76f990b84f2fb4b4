package serving

import (
	"reflect"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	"k8s.io/client-go/util/flowcontrol"
)

func TestResourceAttributes(t *testing.T) {
	attributes := ResourceAttributes("crddemo-system")
	subresource := func(name string) *authorizationv1.ResourceAttributes {
		return &authorizationv1.ResourceAttributes{Namespace: "crddemo-system", Verb: "get", Group: "crddemo.k8s.io",
			Resource: "mydemos", Subresource: name}
	}
	tests := []struct {
		path   string
		want   *authorizationv1.ResourceAttributes
		wantOK bool
	}{
		{"/metrics", subresource("metrics"), true},
		{"/debug/pprof/", subresource("pprof"), true},
		{"/debug/pprof", subresource("pprof"), true},
		{"/debug/pprof/heap", subresource("pprof"), true},
		{"/", nil, false},
		{"/metrics/extra", nil, false},
		{"/debug/pprofile", nil, false},
		{"/healthz", nil, false},
	}
	for _, tt := range tests {
		spec, ok := attributes("get", tt.path)
		if ok != tt.wantOK || !reflect.DeepEqual(spec.ResourceAttributes, tt.want) || spec.NonResourceAttributes != nil {
			t.Errorf("ResourceAttributes(get %s) = %+v, %v; want resource attributes %+v, %v", tt.path, spec, ok, tt.want, tt.wantOK)
		}
	}
}

// TestAccessReviewerAsksAboutTheAttributes checks what the
// SubjectAccessReview says, and that a path no role can grant costs no
// review.
func TestAccessReviewerAsksAboutTheAttributes(t *testing.T) {
	var reviews []authorizationv1.SubjectAccessReviewSpec
	client := fake.NewClientset()
	client.PrependReactor("create", "subjectaccessreviews", func(action clienttesting.Action) (bool, runtime.Object, error) {
		review := action.(clienttesting.CreateAction).GetObject().(*authorizationv1.SubjectAccessReview)
		reviews = append(reviews, review.Spec)
		review.Status.Allowed = true
		return true, review, nil
	})
	reviewer := accessReviewer{client: client.AuthorizationV1().SubjectAccessReviews(), attributes: ResourceAttributes("ns")}
	user := authenticationv1.UserInfo{Username: "reader", UID: "7", Groups: []string{"g"}}

	if allowed, _, err := reviewer.AuthorizePath(t.Context(), user, "get", "/metrics"); !allowed || err != nil {
		t.Fatalf("AuthorizePath(get /metrics) = %v, %v; want allowed", allowed, err)
	}
	want := authorizationv1.SubjectAccessReviewSpec{User: "reader", UID: "7", Groups: []string{"g"},
		Extra: map[string]authorizationv1.ExtraValue{}, ResourceAttributes: &authorizationv1.ResourceAttributes{
			Namespace: "ns", Verb: "get", Group: "crddemo.k8s.io", Resource: "mydemos", Subresource: "metrics"}}
	if len(reviews) != 1 || !reflect.DeepEqual(reviews[0], want) {
		t.Errorf("reviews = %+v, want one of %+v", reviews, want)
	}
	if allowed, _, err := reviewer.AuthorizePath(t.Context(), user, "get", "/other"); allowed || err != nil || len(reviews) != 1 {
		t.Errorf("AuthorizePath(get /other) = %v, %v after %d reviews; want refused without a review", allowed, err, len(reviews))
	}
}

// TestCachedAuthorizerKeysByWhatTheReviewAsks: the profiles under
// /debug/pprof/ ask one question, so they share one review, and a path that
// no role grants is refused before the cache and its budget.
func TestCachedAuthorizerKeysByWhatTheReviewAsks(t *testing.T) {
	var reviews []authorizationv1.SubjectAccessReviewSpec
	var apiErr error
	client := fakeAccessReviews(nil, &reviews, &apiErr)
	// A budget of one review, for the test's length.
	ask := flowcontrol.NewTokenBucketRateLimiter(0.001, 1)
	authz := &cachedAuthorizer{
		reviewer: accessReviewer{client: client.AuthorizationV1().SubjectAccessReviews(), attributes: ResourceAttributes("ns")},
		cache:    newReviewCache[authorization](time.Now, ask, flowcontrol.NewFakeNeverRateLimiter()),
	}
	user := authenticationv1.UserInfo{Username: "reader"}
	for _, path := range []string{"/other", "/debug/pprof/heap", "/debug/pprof/goroutine", "/elsewhere"} {
		allowed, reason, err := authz.AuthorizePath(t.Context(), user, "get", path)
		if allowed || err != nil {
			t.Errorf("AuthorizePath(get %s) = %v, %q, %v; want refused without an error", path, allowed, reason, err)
		}
	}
	if len(reviews) != 1 || reviews[0].ResourceAttributes == nil || reviews[0].ResourceAttributes.Subresource != "pprof" {
		t.Errorf("reviews = %+v, want one, of mydemos/pprof", reviews)
	}
}
