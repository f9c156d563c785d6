package reports

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden reports in testdata/reports")

// TestHTMLGolden renders the classic case and compares the page with
// testdata/reports/ias.golden.html (its style and script left out: they
// are checked by TestHTMLSelfContained and in Chromium). Regenerate with
// go test ./reports -run TestHTMLGolden -update, then read the diff.
func TestHTMLGolden(t *testing.T) {
	s := openStore(t)
	fax := scm(base.Add(3*time.Minute), 3, 7000, "Fax", "Fax", "%%1058")
	id := iasCase(t, s, "bundles/ias", "dns.exe", fax)
	m := loadModel(t, s, id)
	m.Generated = time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC)
	m.Database = "out/portmortem.db"
	var b bytes.Buffer
	if err := writeHTML(context.Background(), m, &b); err != nil {
		t.Fatal(err)
	}
	got := regexp.MustCompile(`(?s)<style>.*?</style>`).ReplaceAllString(b.String(), "<style>/* report.css */</style>")
	got = regexp.MustCompile(`(?s)<script>.*?</script>`).ReplaceAllString(got, "<script>/* report.js */</script>")
	got = regexp.MustCompile(`'sha256-[A-Za-z0-9+/=]+'`).ReplaceAllString(got, "'sha256-…'")
	got = regexp.MustCompile(`&#39;sha256-.*?&#39;`).ReplaceAllString(got, "&#39;sha256-…&#39;")
	golden := filepath.Join("..", "testdata", "reports", "ias.golden.html")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if w := strings.ReplaceAll(string(want), "\r\n", "\n"); got != w {
		gl, wl := strings.Split(got, "\n"), strings.Split(w, "\n")
		for i := range max(len(gl), len(wl)) {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("%s differs at line %d:\ngot  %.300q\nwant %.300q\n(go test ./reports -run TestHTMLGolden -update, then review)", golden, i+1, g, w)
			}
		}
	}
}
