package image

import (
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
)

// Reference is the name and tag an image archive gives its image, such as
// crddemo:v1.2.3.
type Reference struct {
	tag name.Tag
}

// ParseReference checks that ref is an image name with a tag, or with none,
// which means latest.
func ParseReference(ref string) (Reference, error) {
	tag, err := name.NewTag(ref)
	if err != nil {
		return Reference{}, fmt.Errorf("image name %q: %w", ref, err)
	}
	return Reference{tag: tag}, nil
}

// String is the name as it was given, such as crddemo:v1.2.3: what Docker
// and Podman show, and what a pod spec names.
func (r Reference) String() string {
	return r.tag.String()
}

// Tag is the tag alone, such as v1.2.3.
func (r Reference) Tag() string {
	return r.tag.TagStr()
}

// FullName is the name with its registry and path, such as
// docker.io/library/crddemo:v1.2.3: containerd stores images under the name
// an archive gives them, and the kubelet asks for a pod's image by this full
// form, so a short name would be imported but never found.
func (r Reference) FullName() string {
	registry := r.tag.RegistryStr()
	if registry == name.DefaultRegistry {
		// go-containerregistry calls Docker Hub by its API host; every
		// runtime writes it as docker.io.
		registry = "docker.io"
	}
	return registry + "/" + r.tag.RepositoryStr() + ":" + r.tag.TagStr()
}
