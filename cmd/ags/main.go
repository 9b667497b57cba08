// Command ags administers ArcGIS Server sites from the command line: list,
// create, start, stop and delete services, refresh them, rebuild tile
// caches, run geoprocessing jobs and re-attach to them later. It is built on
// the public API of package github.com/seed9bfd6bbc/ags and meant to be
// scheduled (cron, CI pipelines, Kubernetes CronJobs): it reads credentials
// from the environment, a password file or a profile, never from argv, and
// its exit codes say what happened (ags help exit-codes).
//
// Try any command without a server: ags --demo services list.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	os.Exit(Main())
}

// Main runs ags with the process's arguments and streams and returns its
// exit code. Ctrl-C and SIGTERM end its context.
func Main() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a := newApp(os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	a.isTTY = isTerminal(os.Stderr)
	return a.run(ctx, os.Args[1:])
}
