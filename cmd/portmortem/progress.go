package main

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/portmortem/portmortem/store/ingest"
)

// console serialises what analyze's goroutines print on stderr with the
// progress line: a message first clears the line, which the next tick
// draws again.
type console struct {
	mu    sync.Mutex
	w     io.Writer
	shown int    // width of the progress line on screen, 0 if none
	line  string // the progress line shown
}

func (c *console) printf(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.clear()
	fmt.Fprintf(c.w, format, args...)
}

// pause runs f (which prints elsewhere on the same screen) with the
// progress line cleared.
func (c *console) pause(f func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.clear()
	f()
}

func (c *console) clear() {
	if c.shown > 0 {
		fmt.Fprintf(c.w, "\r%s\r", strings.Repeat(" ", c.shown))
		c.shown = 0
	}
}

// draw replaces the progress line with s. It pads with spaces rather than
// using an escape sequence, which the classic Windows console prints.
func (c *console) draw(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.shown > 0 && s == c.line {
		return
	}
	c.line = s
	pad := ""
	if n := c.shown - len(s); n > 0 {
		pad = strings.Repeat(" ", n)
	}
	fmt.Fprintf(c.w, "\r%s%s", s, pad)
	c.shown = len(s)
}

// interruptEcho is what a terminal prints at the cursor for Ctrl-C.
const interruptEcho = "^C"

// progress counts analyze's work. The counters are always kept; the line
// is drawn only when stderr is a terminal (see startProgress).
type progress struct {
	ingest.Progress
	start   time.Time
	total   int   // bundles
	inTotal int64 // input bytes of all bundles, 0 if unknown
}

// line renders the status line.
func (p *progress) line(now time.Time) string {
	el := now.Sub(p.start).Seconds()
	mb := float64(p.Bytes.Load()) / (1 << 20)
	s := fmt.Sprintf("%d/%d bundles, %d artifacts, %.1f MB, %d records", p.Bundles.Load(), p.total,
		p.Artifacts.Load(), mb, p.Records.Load())
	if el >= 1 {
		s += fmt.Sprintf(", %.1f MB/s", mb/el)
	}
	if done := p.InputDone.Load(); done > 0 && p.inTotal > 0 && el >= 1 {
		left := time.Duration(el * float64(p.inTotal-min(done, p.inTotal)) / float64(done) * float64(time.Second))
		s += ", ETA " + left.Round(time.Second).String()
	}
	return s
}

// startProgress draws p's line on c at once and then five times a second
// until the returned stop is called, which clears it. (A hand-written line
// rather than github.com/schollz/progressbar: the line shows several
// counters and an ETA from input bytes, and must give way to the warnings
// and findings printed meanwhile; that is this much code, without a
// dependency and its own terminal handling.)
//
// When ctx was cancelled by Ctrl-C, the terminal has echoed "^C" after the
// line (or on an empty line); stop clears those columns too.
func startProgress(ctx context.Context, c *console, p *progress) (stop func()) {
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		c.draw(p.line(time.Now()))
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-quit:
				c.mu.Lock()
				if ctx.Err() != nil {
					c.shown += len(interruptEcho)
				}
				c.clear()
				c.mu.Unlock()
				return
			case now := <-t.C:
				c.draw(p.line(now))
			}
		}
	}()
	return func() {
		close(quit)
		<-done
	}
}

// isTerminal reports whether w is a character device (a console).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// inputSize is the bytes of a bundle on disk (a file, or a folder's
// regular files), for the ETA; 0 when unknown.
func inputSize(root string) int64 {
	var n int64
	filepath.WalkDir(root, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}
