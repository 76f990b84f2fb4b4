package main

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	crddemov1 "github.com/domac/crddemo/pkg/apis/crddemo/v1"
	clientset "github.com/domac/crddemo/pkg/client/clientset/versioned"

	"github.com/domac/crddemo/internal/harness"
	"github.com/domac/crddemo/internal/synced"
)

// ledger remembers every Mydemo the bench wrote, and the generation its last
// write made. crddemo owes each of them a synced status at that generation,
// and a Synced event per generation: the bench changes an object again only
// after crddemo synced its last change, so no two changes can be synced as
// one.
type ledger struct {
	mu          sync.Mutex
	names       map[types.UID]string
	generations map[types.UID]int64
}

func newLedger() *ledger {
	return &ledger{names: map[types.UID]string{}, generations: map[types.UID]int64{}}
}

// record notes demo as the API server returned it from the bench's write.
func (l *ledger) record(demo *crddemov1.Mydemo) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.names[demo.UID] = demo.Name
	l.generations[demo.UID] = demo.Generation
}

// size is how many Mydemos the bench has written.
func (l *ledger) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.generations)
}

// auditResult is what the audit found.
type auditResult struct {
	// lost are the objects the ledger lists that lack their synced status
	// or one of their Synced events, by name, sorted.
	lost []string
	// extraEvents are the Synced events beyond one per generation: crddemo
	// writes the event before the status, so a status write that failed is
	// retried with a second event.
	extraEvents int64
	// took is how long the two lists took: as long as one poll of every
	// object and event would take.
	took time.Duration
}

// audit checks, against the API server rather than the tracker's watches,
// that crddemo did everything the ledger says it owes in namespace. It lists
// every Mydemo and every Synced event there once.
func audit(ctx context.Context, client clientset.Interface, kube kubernetes.Interface, namespace string,
	l *ledger) (auditResult, error) {
	started := time.Now()
	demos, events, err := harness.ListSynced(ctx, client, kube, namespace)
	if err != nil {
		return auditResult{}, fmt.Errorf("auditing: %w", err)
	}
	result := auditResult{took: time.Since(started)}

	current := map[types.UID]*crddemov1.Mydemo{}
	for i := range demos.Items {
		current[demos.Items[i].UID] = &demos.Items[i]
	}
	recorded := map[types.UID]int64{}
	for i := range events.Items {
		recorded[events.Items[i].InvolvedObject.UID] += occurrences(&events.Items[i])
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for uid, generation := range l.generations {
		demo := current[uid]
		if demo == nil || demo.Generation < generation || !synced.IsCurrent(demo) || recorded[uid] < generation {
			result.lost = append(result.lost, l.names[uid])
			continue
		}
		result.extraEvents += recorded[uid] - generation
	}
	slices.Sort(result.lost)
	return result, nil
}
