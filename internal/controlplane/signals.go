package controlplane

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// ShutdownSignals returns the signals on which a program running a control
// plane should stop it: SIGINT (Ctrl-C), SIGTERM and SIGHUP (the terminal
// closing), less those that the process was started ignoring, as under
// nohup or in a shell's background job, so that catching them does not undo
// what the caller asked for.
//
// Someone must catch them: etcd and kube-apiserver run in a process group of
// their own, so a Ctrl-C in the terminal never reaches them, and if the
// program died of it they would run on.
func ShutdownSignals() []os.Signal {
	var signals []os.Signal
	for _, sig := range []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP} {
		if !signal.Ignored(sig) {
			signals = append(signals, sig)
		}
	}
	return signals
}

// NotifyShutdown returns a copy of parent that is cancelled, with the signal
// as its cause, on the first of ShutdownSignals. The signals, repeats
// included, stay caught until stop is called, so that a program calls stop
// only once it has stopped what it started: the control plane, and any
// child such as crddemo kept out of the terminal's process group.
func NotifyShutdown(parent context.Context) (ctx context.Context, stop context.CancelFunc) {
	return signal.NotifyContext(parent, ShutdownSignals()...)
}
