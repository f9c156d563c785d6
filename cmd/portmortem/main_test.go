package main

import (
	"io"
	"log"
	"os"
	"testing"
)

// TestMain silences the standard logger as main does: golang-evtx logs
// the decoding errors of damaged logs there with stack traces, which
// portmortem reports itself as warnings.
func TestMain(m *testing.M) {
	log.SetOutput(io.Discard)
	os.Exit(m.Run())
}
