// Command local-cluster runs a throwaway Kubernetes control plane (etcd and
// kube-apiserver from bin/, built by make testbin) until it is interrupted, so
// that crddemo can be tried by hand on a machine with no cluster at all.
//
// There are no nodes, so no Pods run, but crddemo only needs the API server.
// Everything, etcd's data included, lives in a temp dir removed on exit.
//
// Usage, from the repository root:
//
//	go run ./hack/local-cluster [--sharded-list-and-watch]
//
// --sharded-list-and-watch turns on kube-apiserver's ShardedListAndWatch
// feature gate, so that crddemo --shards=N replicas each list and cache
// only their shards' Mydemos (make local-cluster LOCAL_CLUSTER_FLAGS=...).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/domac/crddemo/internal/controlplane"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "local-cluster: %v\n", err)
		os.Exit(1)
	}
}

func run() (err error) {
	// Signals stay caught until the control plane is stopped, repeats
	// included, so that this process never dies of one and leaves etcd and
	// kube-apiserver running.
	ctx, stop := controlplane.NotifyShutdown(context.Background())
	defer stop()

	sharded := flag.Bool("sharded-list-and-watch", false,
		"turn on kube-apiserver's ShardedListAndWatch feature gate, for crddemo --shards")
	flag.Parse()
	var opts []controlplane.Option
	if *sharded {
		opts = append(opts, controlplane.APIServerFlag("feature-gates", "ShardedListAndWatch=true"))
	}

	fmt.Println("Starting etcd and kube-apiserver from bin/ ...")
	cp, err := controlplane.Start(ctx, opts...)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, cp.Stop()) }()

	fmt.Printf(`
The control plane is up at %s. In another terminal:

  export KUBECONFIG=%s
  kubectl apply -f crd/mydemo.yaml
  ./releases/crddemo --kubeconfig=%[2]s

No kubectl, or one too old for this server? Use %s instead.
Press Ctrl-C to stop the control plane; its temp dir goes with it.
`, cp.Config.Host, cp.KubeconfigPath, cp.KubectlPath)

	<-ctx.Done()
	fmt.Println("\nStopping the control plane ...")
	return nil
}
