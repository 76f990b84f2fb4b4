package leaderelection

import (
	"os"
	"strings"
	"testing"
)

func TestNewIdentityIsTheHostNameAndAUniqueSuffix(t *testing.T) {
	hostname, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	first, err := NewIdentity()
	if err != nil {
		t.Fatal(err)
	}
	second, err := NewIdentity()
	if err != nil {
		t.Fatal(err)
	}
	for _, identity := range []string{first, second} {
		suffix, ok := strings.CutPrefix(identity, hostname+"_")
		if !ok || suffix == "" {
			t.Errorf("NewIdentity() = %q, want %q followed by a suffix", identity, hostname+"_")
		}
	}
	if first == second {
		t.Errorf("two calls of NewIdentity both returned %q", first)
	}
}
