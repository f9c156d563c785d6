package correlate

import (
	"context"
	"strings"
	"testing"
)

// TestCoverageOfUnreadParts: refused files and event logs read only in
// part each give a partial coverage entry naming them; a hostile name is
// quoted; past five, the rest are counted.
func TestCoverageOfUnreadParts(t *testing.T) {
	in := Input{
		Refused: []Refused{{Path: "b.zip!/../x", Reason: "unsafe path"}, {Path: "b.zip!/\x1b[2Jevil", Reason: "link not followed"}},
	}
	for i := range 7 {
		in.Damaged = append(in.Damaged, Damaged{Path: "System" + string(rune('a'+i)) + ".evtx", Errors: 2, Records: 1155})
	}
	_, cov, err := Analyze(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Coverage{}
	for _, c := range cov {
		got[c.Check] = c
	}
	b, e := got[CheckBundle], got[CheckEventLogs]
	if b.Status != StatusPartial || !strings.Contains(b.Reason, "2 file(s)") || !strings.Contains(b.Reason, "b.zip!/../x (unsafe path)") ||
		strings.Contains(b.Reason, "\x1b") || !strings.Contains(b.Reason, `"b.zip!/\x1b[2Jevil"`) {
		t.Errorf("bundle coverage %+v", b)
	}
	if e.Status != StatusPartial || !strings.Contains(e.Reason, "7 event log(s)") || !strings.Contains(e.Reason, "Systema.evtx (2 unreadable part(s), 1155 record(s) read)") ||
		!strings.Contains(e.Reason, "and 2 more") || strings.Contains(e.Reason, "Systemf.evtx") {
		t.Errorf("event-logs coverage %+v", e)
	}
	if _, cov, _ := Analyze(context.Background(), Input{}); len(cov) > 0 {
		for _, c := range cov {
			if c.Check == CheckBundle || c.Check == CheckEventLogs {
				t.Errorf("entry %+v for an input with nothing unread", c)
			}
		}
	}
}
