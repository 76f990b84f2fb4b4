package controlplane

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// compactionKey is the etcd key that CompactEtcd writes to: outside
// kube-apiserver's /registry prefix, so that no client sees the writes.
const compactionKey = "/crddemo-controlplane/compaction"

// CompactEtcd compacts etcd's history, as kube-apiserver's own compactor
// does every 5 minutes, so that every
// resourceVersion that a client has seen before the call is gone: a read at
// it, or a watch from it, is refused by etcd. It returns the revision it
// compacted at.
//
// Compacting at etcd's current revision would not do: a watch from
// resourceVersion r asks for the changes from revision r+1 on, which etcd
// keeps when it compacts at r+1, so a client that saw the latest write could
// resume its watch. CompactEtcd writes twice to a key of its own first, and
// compacts at the second write.
//
// Whether a client sees the compaction as 410 Gone ("too old resource
// version") depends on the API server's watch cache, which serves watches,
// and most lists at a resourceVersion, from memory and does not notice
// compaction: with it on, as by default, a watch from an older
// resourceVersion still replays the cached events. Start the control plane
// with APIServerFlag("watch-cache", "false") to have watches and lists go to
// etcd, so that they get 410 after CompactEtcd; or restart the API server,
// whose new watch cache holds nothing older than its own start.
func (cp *ControlPlane) CompactEtcd(ctx context.Context) (int64, error) {
	etcd := cp.etcdGateway()
	var revision int64
	for range 2 {
		var err error
		if revision, err = etcd.put(ctx, compactionKey, ""); err != nil {
			return 0, fmt.Errorf("compacting etcd: %w", err)
		}
	}
	err := etcd.compact(ctx, revision)
	// A concurrent CompactEtcd may have compacted past revision already,
	// which leaves what this one was for done.
	if failure := (*etcdError)(nil); errors.As(err, &failure) && isCompacted(failure) {
		err = nil
	}
	if err != nil {
		return 0, fmt.Errorf("compacting etcd at revision %d: %w", revision, err)
	}
	return revision, nil
}

// etcdGateway returns a client for the JSON gateway of cp's etcd.
func (cp *ControlPlane) etcdGateway() etcdGateway {
	return etcdGateway{url: cp.plane.Etcd.URL.String(), client: http.DefaultClient}
}

// isCompacted reports whether failure is etcd's ErrCompacted. etcd gives a
// future revision the same gRPC code, OutOfRange, so the message tells
// them apart.
func isCompacted(failure *etcdError) bool {
	const outOfRange = 11
	return failure.Code == outOfRange && strings.Contains(failure.Message, "required revision has been compacted")
}
