package main

import (
	"context"
	"errors"
	"net/http"

	"github.com/domac/crddemo/internal/serving"
	informers "github.com/domac/crddemo/pkg/client/informers/externalversions"
)

// aloneRunner runs one control loop over every Mydemo, for as long as the
// process runs: the only replica, with no Lease.
type aloneRunner struct {
	factory informers.SharedInformerFactory
}

func newAloneRunner(cfg *config) *aloneRunner {
	return &aloneRunner{factory: cfg.informerFactory(newMydemoInformer(cfg.health, cfg.namespace))}
}

// checks: ready once the Mydemo cache has synced.
func (r *aloneRunner) checks() (healthz, readyz []serving.Checker) {
	return nil, []serving.Checker{serving.NamedCheck("informer-sync", func(*http.Request) error {
		if !r.factory.Crddemo().V1().Mydemos().Informer().HasSynced() {
			return errors.New("the Mydemo cache has not synced yet")
		}
		return nil
	})}
}

func (r *aloneRunner) run(ctx context.Context, build buildLoop) error {
	loop, err := r.start(ctx, build)
	if err != nil {
		return err
	}
	// A lone replica may write for as long as it runs.
	loop(ctx, context.WithoutCancel(ctx))
	return nil
}

// start builds the loop and starts the informer, which stops when ctx is
// cancelled. Nothing waits for it (factory.Shutdown would): while the API
// server is unreachable, client-go's reflector can sit out a backoff of
// many seconds before it notices, and shutting down must not take that long.
func (r *aloneRunner) start(ctx context.Context, build buildLoop) (func(ctx, writeCtx context.Context), error) {
	loop, err := build(ctx, r.factory, "")
	if err != nil {
		return nil, err
	}
	r.factory.Start(ctx.Done())
	return loop, nil
}
