package main

import (
	"context"
	"io"
	"log"
	"os"
	"os/signal"
)

func main() {
	// golang-evtx logs decoding errors with stack traces through the
	// standard logger; portmortem reports them itself as warnings.
	log.SetOutput(io.Discard)
	limitMemory()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
