package shard

import (
	"testing"

	"k8s.io/apimachinery/pkg/types"
)

func TestHashIsFNV1a64(t *testing.T) {
	// The empty string gives FNV-1a's offset basis, "a" and "foobar" the
	// published test vectors; the UID is a typical one, hashed by hand with
	// the FNV-1a loop below.
	for _, tc := range []struct {
		uid  types.UID
		want uint64
	}{
		{"", 0xcbf29ce484222325},
		{"a", 0xaf63dc4c8601ec8c},
		{"foobar", 0x85944171f73967e8},
		{"3f2504e0-4f89-11d3-9a0c-0305e82c3301", fnv1a("3f2504e0-4f89-11d3-9a0c-0305e82c3301")},
	} {
		if got := Hash(tc.uid); got != tc.want {
			t.Errorf("Hash(%q) = %#016x, want %#016x", tc.uid, got, tc.want)
		}
	}
}

// fnv1a is FNV-1a written out from its definition, independent of hash/fnv.
func fnv1a(s string) uint64 {
	h := uint64(0xcbf29ce484222325)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 0x100000001b3
	}
	return h
}
