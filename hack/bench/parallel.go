package main

import (
	"context"
	"sync"
	"sync/atomic"
)

// writers is how many requests the bench keeps in flight when it writes:
// the limit's 16 parallel clients, and the bench's own creates and updates.
const writers = 16

// forEach calls do for each of 0 to n-1 from writers goroutines, and returns
// the first error. After an error the goroutines take no more work.
func forEach(ctx context.Context, n int, do func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(writers, n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := do(ctx, i); err != nil {
					cancel(err) // only the first cause is kept
					return
				}
			}
		})
	}
	wg.Wait()
	return context.Cause(ctx)
}
