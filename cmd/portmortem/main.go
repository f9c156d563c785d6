package main

import (
	"io"
	"log"
	"os"
)

func main() {
	// golang-evtx logs decoding errors with stack traces through the
	// standard logger; portmortem reports them itself as warnings.
	log.SetOutput(io.Discard)
	limitMemory()
	ctx, stop := signalContext() // SIGINT, SIGTERM, SIGHUP
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
