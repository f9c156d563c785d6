package bundle

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	"github.com/portmortem/portmortem/parsers"
)

// gzip walks a gzip stream: a tar inside it is walked as if the gzip layer
// were not there (case.tgz!/logs/x); anything else is one member named
// after the gzip header's file name or the archive's name without .gz.
func (w *walker) gzip(arch string, r io.Reader, mt time.Time, src parsers.CaptureSource, depth int) {
	in := &counter{r: r}
	zr, err := gzip.NewReader(in)
	if err != nil {
		w.fail(arch, fmt.Errorf("gzip header: %w", damage(err)))
		return
	}
	defer zr.Close()
	if t := zr.Header.ModTime; t.Unix() > 0 {
		mt, src = t.UTC(), parsers.CaptureGzip
	}
	m := &meter{w: w, r: zr, in: in}
	br := bufio.NewReaderSize(m, 4096)
	head, _ := br.Peek(512)
	if isTarHeader(head) {
		ended := w.tar(arch, br, depth, func() int64 { return m.n - int64(br.Buffered()) }, m)
		if ended && w.more() {
			// Read the rest (the tar's zero padding) so that a truncated or
			// corrupt gzip stream is reported.
			if _, err := io.Copy(io.Discard, br); err != nil {
				w.fail(arch, fmt.Errorf("after the tar end, at compressed offset %d: %w", in.n, damage(err)))
			}
		}
		return
	}
	if err := w.count(); err != nil {
		w.fail(arch, err)
		return
	}
	p := arch + "!/" + gzipMemberName(arch, zr.Header.Name)
	data := &errAt{r: br, what: "at compressed offset", pos: in.count}
	w.extractMember(p, data, in.count, -1, mt, src, depth)
}

// gzipMemberName names the file inside a gzip: the header's name if it is
// a safe one, else the archive's name without .gz (.tgz gives .tar).
func gzipMemberName(arch, hdrName string) string {
	if n, err := memberName(hdrName); err == nil {
		return path.Base(n)
	}
	base := arch[strings.LastIndexByte(arch, '/')+1:]
	lower := strings.ToLower(base)
	switch {
	case strings.HasSuffix(lower, ".tgz"):
		return base[:len(base)-len(".tgz")] + ".tar"
	case strings.HasSuffix(lower, ".gz") && len(base) > len(".gz"):
		return base[:len(base)-len(".gz")]
	}
	return base
}
