package image

import "testing"

func TestParseReference(t *testing.T) {
	for _, c := range []struct {
		ref, name, tag, full string
	}{
		{"crddemo:v1.2.3", "crddemo:v1.2.3", "v1.2.3", "docker.io/library/crddemo:v1.2.3"},
		{"crddemo:ebd920c-dirty", "crddemo:ebd920c-dirty", "ebd920c-dirty", "docker.io/library/crddemo:ebd920c-dirty"},
		{"crddemo", "crddemo", "latest", "docker.io/library/crddemo:latest"},
		{"team/crddemo:v1", "team/crddemo:v1", "v1", "docker.io/team/crddemo:v1"},
		{"docker.io/library/crddemo:v1", "docker.io/library/crddemo:v1", "v1", "docker.io/library/crddemo:v1"},
		{"registry.example.com:5000/team/crddemo:v1", "registry.example.com:5000/team/crddemo:v1", "v1", "registry.example.com:5000/team/crddemo:v1"},
		{"localhost/crddemo:v1", "localhost/crddemo:v1", "v1", "localhost/crddemo:v1"},
	} {
		r, err := ParseReference(c.ref)
		if err != nil {
			t.Errorf("ParseReference(%q): %v", c.ref, err)
			continue
		}
		if r.String() != c.name || r.Tag() != c.tag || r.FullName() != c.full {
			t.Errorf("ParseReference(%q) = %q, tag %q, full name %q; want %q, %q, %q",
				c.ref, r.String(), r.Tag(), r.FullName(), c.name, c.tag, c.full)
		}
	}
}

func TestParseReferenceRefusesBadNames(t *testing.T) {
	for _, ref := range []string{"", "Crddemo:v1", "crddemo:v 1", "crddemo:" + string(make([]byte, 129)), "crddemo@sha256:abc"} {
		if r, err := ParseReference(ref); err == nil {
			t.Errorf("ParseReference(%q) = %q, want an error", ref, r.String())
		}
	}
}
