package shard

import (
	"hash/fnv"

	"k8s.io/apimachinery/pkg/types"
)

// Hash is where uid falls in the 64-bit hash space: FNV-1a over the bytes of
// the UID's text, exactly as the API server hashes object.metadata.uid for a
// shardRange selector, so that the client's filter and the server's agree on
// every object.
func Hash(uid types.UID) uint64 {
	h := fnv.New64a()
	h.Write([]byte(uid)) // a hash.Hash never fails to write
	return h.Sum64()
}
