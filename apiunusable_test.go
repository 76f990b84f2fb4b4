package main

import (
	"errors"
	"fmt"
	"syscall"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestAPIUnusableTellsTheAPIFromTheRequest(t *testing.T) {
	mydemos := schema.GroupResource{Group: "crddemo.k8s.io", Resource: "mydemos"}
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("dial: %w", syscall.ECONNREFUSED), true},
		{fmt.Errorf("read: %w", syscall.ECONNRESET), true},
		{apierrors.NewServiceUnavailable("restarting"), true},
		{apierrors.NewTooManyRequests("busy", 1), true},
		{apierrors.NewInternalError(errors.New("etcd")), true},
		{apierrors.NewTimeoutError("slow", 1), true},
		{apierrors.NewNotFound(mydemos, ""), true},
		{apierrors.NewUnauthorized("expired"), true},
		{apierrors.NewForbidden(mydemos, "", errors.New("no")), true},
		{apierrors.NewConflict(mydemos, "a", errors.New("changed")), false},
		{apierrors.NewResourceExpired("too old"), false},
		{apierrors.NewInvalid(schema.GroupKind{Kind: "Mydemo"}, "a", nil), false},
	} {
		if got := apiUnusable(tt.err); got != tt.want {
			t.Errorf("apiUnusable(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
