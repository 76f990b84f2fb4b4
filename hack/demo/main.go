//go:build unix

// Command demo replays the crddemo walkthrough end to end on a machine with
// only Go: it starts a throwaway control plane (etcd and kube-apiserver from
// bin/, built by make testbin), runs the crddemo binary against it, and drives
// it with bin/kubectl, narrating each step. It waits on what the API and
// crddemo's /readyz show (the Mydemo's status, the cache synced), and on log
// lines only where the walkthrough promises them to the reader.
//
// Usage, from the repository root, after make build testbin:
//
//	go run ./hack/demo [--crddemo=releases/crddemo] [--timeout=60s]
//
// Ctrl-C at any point stops crddemo and the control plane, removes their temp
// dir and exits non-zero.
//
// It is for Unix only: it stops crddemo with SIGTERM, and keeps it in a
// process group of its own.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	clientset "github.com/domac/crddemo/pkg/client/clientset/versioned"

	"github.com/domac/crddemo/internal/controlplane"
	"github.com/domac/crddemo/internal/harness"
	"github.com/domac/crddemo/internal/process"
)

func main() {
	crddemo := flag.String("crddemo", "releases/crddemo", "path of the crddemo binary to run")
	timeout := flag.Duration("timeout", 60*time.Second, "how long to wait for each thing the demo expects, such as a log line")
	flag.Parse()
	if err := run(*crddemo, *timeout); err != nil {
		fmt.Fprintf(os.Stderr, "\ndemo: %v\n", err)
		os.Exit(1)
	}
	fmt.Println("\nThe demo is over; crddemo and the control plane are stopped.")
}

// stopGrace is how long crddemo gets to shut down after SIGTERM before the
// demo kills it.
const stopGrace = 20 * time.Second

// demo holds what the steps share.
type demo struct {
	cp      *controlplane.ControlPlane
	client  clientset.Interface
	root    string // the repository, where kubectl runs so paths read as in the README
	ctrl    *process.Process
	probes  string // crddemo's --health-probe-bind-address
	timeout time.Duration
}

func run(crddemo string, timeout time.Duration) (err error) {
	// Signals stay caught until the end, so that the demo always gets to stop
	// crddemo and the control plane.
	ctx, stop := controlplane.NotifyShutdown(context.Background())
	defer stop()

	if _, err := os.Stat(crddemo); err != nil {
		return fmt.Errorf("no crddemo binary at %s: build it with make build (go build -o releases/crddemo .)", crddemo)
	}
	// An absolute path keeps exec from looking a bare name up in $PATH.
	crddemo, err = filepath.Abs(crddemo)
	if err != nil {
		return err
	}
	root, err := controlplane.RepoRoot()
	if err != nil {
		return err
	}

	say("Starting a local control plane: etcd and kube-apiserver from bin/, no nodes")
	cp, err := controlplane.Start(ctx)
	if err != nil {
		return err
	}
	defer func() {
		say("Stopping the control plane")
		err = errors.Join(err, cp.Stop())
	}()
	fmt.Printf("API server %s, kubeconfig %s\n", cp.Config.Host, cp.KubeconfigPath)

	client, err := clientset.NewForConfig(cp.Config)
	if err != nil {
		return err
	}
	d := &demo{cp: cp, client: client, root: root, timeout: timeout}
	say("Starting crddemo before its CRD exists: its informer cannot list Mydemos yet")
	ctrl, err := harness.StartCrddemo(crddemo, []string{"--kubeconfig=" + cp.KubeconfigPath},
		process.Options{Echo: os.Stdout, Prefix: "crddemo| "})
	if err != nil {
		return err
	}
	d.ctrl, d.probes = ctrl.Process, ctrl.Probes
	defer d.ctrl.Stop(stopGrace)

	if err := d.steps(ctx); err != nil {
		return err
	}

	say("Stopping crddemo (SIGTERM)")
	// A graceful shutdown is part of what the demo shows: anything but exit
	// code 0 after SIGTERM is a failure.
	if state := d.ctrl.Stop(stopGrace); !state.Success() {
		return fmt.Errorf("crddemo did not shut down cleanly after SIGTERM: %v", state)
	}
	fmt.Println("crddemo exited with code 0")
	return nil
}

// steps is the walkthrough proper, from the missing CRD to the deletion.
func (d *demo) steps(ctx context.Context) error {
	if err := d.waitLog(ctx, 0, "could not find the requested resource"); err != nil {
		return err
	}

	say("Installing the Mydemo CRD (kubectl apply -f crd/mydemo.yaml)")
	if err := d.kubectl(ctx, "apply", "-f", "crd/mydemo.yaml"); err != nil {
		return err
	}
	if err := d.kubectl(ctx, "wait", "--for=condition=Established", "--timeout="+d.timeout.String(),
		"crd/mydemos.crddemo.k8s.io"); err != nil {
		return err
	}

	say("Waiting for crddemo's informer to sync (its /readyz turns 200)")
	if err := d.wait(ctx, func(ctx context.Context) error { return harness.WaitReady(ctx, d.probes) }); err != nil {
		return err
	}

	say("Creating a Mydemo (kubectl apply -f example/example-mydemo.yaml)")
	if err := d.kubectl(ctx, "apply", "-f", "example/example-mydemo.yaml"); err != nil {
		return err
	}
	if err := d.waitSynced(ctx, 1); err != nil {
		return err
	}
	if err := d.kubectl(ctx, "get", "md"); err != nil {
		return err
	}

	say("Changing its port to 9090; crddemo syncs it again")
	if err := d.kubectl(ctx, "patch", "md", "example-mydemo", "--type=merge",
		"-p", `{"spec":{"port":9090}}`); err != nil {
		return err
	}
	if err := d.waitSynced(ctx, 2); err != nil {
		return err
	}
	if err := d.kubectl(ctx, "get", "md"); err != nil {
		return err
	}

	say("Describing it: the events crddemo recorded are at the bottom")
	if err := d.kubectl(ctx, "describe", "md", "example-mydemo"); err != nil {
		return err
	}

	say("Deleting it (kubectl delete -f example/example-mydemo.yaml)")
	mark := d.ctrl.Mark()
	if err := d.kubectl(ctx, "delete", "-f", "example/example-mydemo.yaml"); err != nil {
		return err
	}
	return d.waitLog(ctx, mark, "Deleting mydemo", "example-mydemo")
}

// say announces a step, set apart from the output of crddemo and kubectl.
func say(step string) {
	fmt.Printf("\n==> %s\n", step)
}

// kubectl runs bin/kubectl from the repository root, echoing the command as
// a user with KUBECONFIG set would type it.
func (d *demo) kubectl(ctx context.Context, args ...string) error {
	quoted := make([]string, len(args))
	for i, arg := range args {
		quoted[i] = shellQuote(arg)
	}
	fmt.Printf("$ kubectl %s\n", strings.Join(quoted, " "))
	cmd := d.cp.Kubectl(ctx, args...)
	cmd.Dir = d.root
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		return fmt.Errorf("kubectl %s: %w", strings.Join(args, " "), err)
	}
	return nil
}

// shellQuote quotes arg, if it needs it, so that the echoed command can be
// pasted into a shell.
func shellQuote(arg string) string {
	if arg != "" && strings.Trim(arg, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_=./:,") == "" {
		return arg
	}
	return "'" + strings.ReplaceAll(arg, "'", `'\''`) + "'"
}

// waitSynced waits until the example Mydemo's status says crddemo synced
// generation.
func (d *demo) waitSynced(ctx context.Context, generation int64) error {
	fmt.Printf("(waiting for example-mydemo's status to report generation %d synced)\n", generation)
	return d.wait(ctx, func(ctx context.Context) error {
		_, err := harness.WaitSynced(ctx, d.client, "default", "example-mydemo", generation)
		return err
	})
}

// wait runs until, which waits for some state, for at most d.timeout.
func (d *demo) wait(ctx context.Context, until func(context.Context) error) error {
	ctx, cancel := context.WithTimeoutCause(ctx, d.timeout, fmt.Errorf("timed out after %v", d.timeout))
	defer cancel()
	err := until(ctx)
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("%w (%v)", err, context.Cause(ctx))
	}
	return err
}

// waitLog waits, for at most d.timeout, until a line that crddemo logs from
// the from-th one on contains all of texts.
func (d *demo) waitLog(ctx context.Context, from int, texts ...string) error {
	what := `"` + strings.Join(texts, `" and "`) + `"`
	fmt.Printf("(waiting for crddemo to log a line with %s)\n", what)
	ctx, cancel := context.WithTimeoutCause(ctx, d.timeout, fmt.Errorf("timed out after %v", d.timeout))
	defer cancel()
	_, _, err := d.ctrl.WaitForLine(ctx, from, texts...)
	if errors.Is(err, process.ErrOutputEnded) {
		// The output ends as crddemo exits; its status follows at once.
		select {
		case <-d.ctrl.Exited():
			err = fmt.Errorf("crddemo exited first (%v)", d.ctrl.State())
		case <-time.After(time.Second):
		}
	}
	if err != nil {
		return fmt.Errorf("waiting for crddemo to log a line with %s: %w", what, err)
	}
	return nil
}
