package main

import (
	"io"
	"log"
	"os"
	"testing"
)

// TestMain silences the standard logger as main does: golang-evtx logs
// the decoding errors of damaged logs there with stack traces, which
// portmortem reports itself as warnings. The tests get a temp folder of
// their own (TMPDIR): the runs they start sweep the temp folder for
// leftovers of killed runs, and must not see other programs' files.
func TestMain(m *testing.M) {
	log.SetOutput(io.Discard)
	tmp, err := os.MkdirTemp("", "portmortem-cmd-test-")
	if err != nil {
		panic(err)
	}
	os.Setenv("TMPDIR", tmp)
	code := m.Run()
	os.RemoveAll(tmp)
	os.Exit(code)
}
