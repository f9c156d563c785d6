package parsers

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	goevtx "github.com/0xrawsec/golang-evtx/evtx"
	"github.com/portmortem/portmortem/parsers/evtxwrite"
)

// evtxOutput is what the parser yields for data, one line per record or
// error, decoded with or without the template cache.
func evtxOutput(t testing.TB, data []byte, uncached bool) []string {
	t.Helper()
	var out []string
	for rec, err := range (evtx{uncached: uncached}).Parse(context.Background(), bytes.NewReader(data)) {
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v (%T) is not a *ParseError", err, err)
			}
			out = append(out, fmt.Sprintf("error at %d: %v", pe.Offset, err))
			continue
		}
		b, err := json.Marshal(rec)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
	return out
}

// compareEVTXPaths decodes data with and without the template cache and
// reports every difference. It returns the cached output.
func compareEVTXPaths(t testing.TB, name string, data []byte) []string {
	t.Helper()
	got, want := evtxOutput(t, data, false), evtxOutput(t, data, true)
	if len(got) != len(want) {
		t.Errorf("%s: %d records and errors with the cache, %d without", name, len(got), len(want))
	}
	bad := 0
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			if bad++; bad <= 3 {
				t.Errorf("%s: item %d differs:\ncached:   %s\nuncached: %s", name, i, got[i], want[i])
			}
		}
	}
	if bad > 3 {
		t.Errorf("%s: %d items differ", name, bad)
	}
	return got
}

// TestEVTXTemplateCacheCorpus decodes every corpus log and every EVTX
// test file both ways: the cache must change nothing, records or errors.
// Without PORTMORTEM_LONG=1 the logs over sampleMaxSize are left out.
func TestEVTXTemplateCacheCorpus(t *testing.T) {
	quietLibraryLog(t)
	files := corpusEVTX(t, "")
	files = append(files, goldenFiles(t, evtxTestdata)...)
	if len(files) < 40 {
		t.Fatalf("only %d files", len(files))
	}
	files = sampleCorpus(t, files)
	records := 0
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		out := compareEVTXPaths(t, filepath.Base(path), data)
		for _, line := range out {
			if !strings.HasPrefix(line, "error at") {
				records++
			}
		}
	}
	t.Logf("%d files, %d records decoded alike", len(files), records)
}

// writerLog writes events with the EVTX writer and returns the file: a
// template definition is inline in the first record of its shape in a
// chunk, and later records of that shape refer to it.
func writerLog(t testing.TB, events []evtxwrite.Event) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "w.evtx")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := evtxwrite.New(f)
	for _, ev := range events {
		if err := w.Write(ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func templateTestEvent(id uint64, dataName string) evtxwrite.Event {
	return evtxwrite.Event{
		Provider: "Service Control Manager", EventID: 7036, Level: 4, RecordID: id,
		Time:    time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Channel: "System", Computer: "HOST",
		Data: []evtxwrite.Field{{Name: dataName, Value: fmt.Sprint("svc", id)}, {Name: "param2", Value: "running"}},
	}
}

// writerRecords returns the offsets in the first chunk of data (the chunk
// at evtxHeaderBlock) of its records.
func writerRecords(t testing.TB, data []byte) []int {
	t.Helper()
	chunk := data[evtxHeaderBlock : evtxHeaderBlock+evtxChunkSize]
	end := int(binary.LittleEndian.Uint32(chunk[48:]))
	var offs []int
	for off := evtxRecordsStart; off < end; {
		size, ok := evtxRecordAt(chunk, off, end)
		if !ok {
			t.Fatalf("no record at %d", off)
		}
		offs = append(offs, off)
		off += size
	}
	return offs
}

// The fields of a record's template instance, from the record's start.
const (
	evtxTestDataOffset = evtxRecordHeader + 4 + 6                  // definition offset
	evtxTestInline     = evtxRecordHeader + 4 + evtxInstanceHeader // where an inline definition starts
	evtxTestDefSize    = evtxTestInline + 20                       // an inline definition's size
)

// TestEVTXTemplateCacheShared decodes a chunk whose records share one
// template: the first record's definition is parsed and cached, the
// others are decoded from the cache, and every record comes out as the
// generic path makes it.
func TestEVTXTemplateCacheShared(t *testing.T) {
	quietLibraryLog(t)
	data := writerLog(t, []evtxwrite.Event{
		templateTestEvent(1, "param1"), templateTestEvent(2, "param1"), templateTestEvent(3, "param1"),
	})
	offs := writerRecords(t, data)
	if len(offs) != 3 {
		t.Fatalf("%d records, want 3", len(offs))
	}
	chunk := data[evtxHeaderBlock : evtxHeaderBlock+evtxChunkSize]
	le := binary.LittleEndian
	def := int32(le.Uint32(chunk[offs[0]+evtxTestDataOffset:]))
	if def != int32(offs[0]+evtxTestInline) {
		t.Fatalf("first record's definition at %d, want inline at %d", def, offs[0]+evtxTestInline)
	}
	for _, off := range offs[1:] {
		if got := int32(le.Uint32(chunk[off+evtxTestDataOffset:])); got != def {
			t.Fatalf("record at %d refers to %d, want %d", off, got, def)
		}
	}

	job := func() *evtxJob {
		return &evtxJob{offset: evtxHeaderBlock, data: chunk, n: len(chunk), chunk: true, allocated: true}
	}
	cached, generic := newEVTXDecoder(job()), newEVTXDecoder(job())
	for i, off := range offs {
		size, _ := evtxRecordAt(chunk, off, len(chunk))
		got, done, err := cached.decodeCached(off, size)
		if !done || err != nil {
			t.Fatalf("record %d: fast path done %v, error %v", i+1, done, err)
		}
		if n := len(cached.templates); n != 1 || cached.templates[def] == nil {
			t.Fatalf("record %d: %d templates cached, want the one at %d", i+1, n, def)
		}
		if !cached.known[def] || cached.chunk.TemplateTable[def].Size == 0 {
			t.Errorf("record %d: template %d not in the library's table", i+1, def)
		}
		want, err := generic.decodeGeneric(off, size)
		if err != nil {
			t.Fatalf("record %d: generic path: %v", i+1, err)
		}
		if g, w := jsonString(t, got), jsonString(t, want); g != w {
			t.Errorf("record %d:\ncached:  %s\ngeneric: %s", i+1, g, w)
		}
		if got.RecordID != uint64(i+1) || len(got.Data) != 2 || got.Data[0].Value != fmt.Sprint("svc", i+1) {
			t.Errorf("record %d decoded as %+v", i+1, got)
		}
	}
	compareEVTXPaths(t, "shared", data)
}

// TestEVTXTemplateCacheHostile damages the template references of a
// chunk: the cached path must give what the generic path gives, record
// for record and error for error.
func TestEVTXTemplateCacheHostile(t *testing.T) {
	quietLibraryLog(t)
	le := binary.LittleEndian
	// Records 1 and 2 share the template inline in record 1; record 3
	// has a template of its own, inline, of the same value types.
	base := writerLog(t, []evtxwrite.Event{
		templateTestEvent(1, "param1"), templateTestEvent(2, "param1"), templateTestEvent(3, "other"),
	})
	offs := writerRecords(t, base)
	if len(offs) != 3 {
		t.Fatalf("%d records, want 3", len(offs))
	}
	at := func(rec, field int) int { return evtxHeaderBlock + offs[rec] + field }
	def1, def3 := int32(offs[0]+evtxTestInline), int32(offs[2]+evtxTestInline)
	if got := int32(le.Uint32(base[at(2, evtxTestDataOffset):])); got != def3 {
		t.Fatalf("record 3 refers to %d, want its inline definition at %d", got, def3)
	}

	for _, tt := range []struct {
		name string
		edit func(b []byte)
		// events is how many records must still decode (-1: any).
		events int
	}{
		{"unchanged", func([]byte) {}, 3},
		{"offset into the middle of a cached definition", func(b []byte) {
			le.PutUint32(b[at(1, evtxTestDataOffset):], uint32(def1+4))
		}, -1},
		{"offset to a cached definition's fragment", func(b []byte) {
			le.PutUint32(b[at(1, evtxTestDataOffset):], uint32(def1+evtxDefinitionHeader))
		}, -1},
		{"offset to the record header", func(b []byte) {
			le.PutUint32(b[at(1, evtxTestDataOffset):], uint32(offs[1]))
		}, -1},
		{"negative offset", func(b []byte) {
			le.PutUint32(b[at(1, evtxTestDataOffset):], 0xFFFFFFF0)
		}, -1},
		{"offset past the chunk", func(b []byte) {
			le.PutUint32(b[at(1, evtxTestDataOffset):], evtxChunkSize+8)
		}, -1},
		{"offset at the chunk's last bytes", func(b []byte) {
			le.PutUint32(b[at(1, evtxTestDataOffset):], evtxChunkSize-4)
		}, -1},
		{"inline definition size past the chunk", func(b []byte) {
			le.PutUint32(b[at(0, evtxTestDefSize):], 0x7FFFFFF0)
		}, -1},
		{"inline definition size zero", func(b []byte) {
			le.PutUint32(b[at(0, evtxTestDefSize):], 0)
		}, -1},
		{"inline definition size negative", func(b []byte) {
			le.PutUint32(b[at(0, evtxTestDefSize):], 0xFFFFFF00)
		}, -1},
		// Record 2 takes record 3's definition, which record 3 then finds
		// in the library's table: the library skips it by its declared
		// size, not by what it parsed.
		{"later record's inline definition used before", func(b []byte) {
			le.PutUint32(b[at(1, evtxTestDataOffset):], uint32(def3))
		}, 3},
		{"later record's inline definition used before, size past the chunk", func(b []byte) {
			le.PutUint32(b[at(1, evtxTestDataOffset):], uint32(def3))
			le.PutUint32(b[at(2, evtxTestDefSize):], 0x7FFFFFF0)
		}, 2},
		{"later record's inline definition used before, size short by 8", func(b []byte) {
			le.PutUint32(b[at(1, evtxTestDataOffset):], uint32(def3))
			le.PutUint32(b[at(2, evtxTestDefSize):], le.Uint32(b[at(2, evtxTestDefSize):])-8)
		}, -1},
		{"definition refers to itself", func(b []byte) {
			// The definition's first element becomes an instance of itself.
			d := at(0, evtxTestInline+evtxDefinitionHeader+4)
			b[d] = evtxTokenInstance
			le.PutUint32(b[d+6:], uint32(def1))
		}, -1},
		{"instance value count too large", func(b []byte) {
			// Record 2's value count follows its instance header.
			le.PutUint32(b[at(1, evtxTestInline):], 0x4000)
		}, 2},
	} {
		t.Run(strings.ReplaceAll(tt.name, " ", "_"), func(t *testing.T) {
			data := bytes.Clone(base)
			tt.edit(data)
			out := compareEVTXPaths(t, tt.name, data)
			events := 0
			for _, line := range out {
				if !strings.HasPrefix(line, "error at") {
					events++
				}
			}
			if tt.events >= 0 && events != tt.events {
				t.Errorf("%d events, want %d:\n%s", events, tt.events, strings.Join(out, "\n"))
			}
		})
	}
}

// overLimitChunk is a bare chunk of two records that use one template
// definition whose element names, all one long name elsewhere in the
// chunk, take the library more reads than a record may make.
func overLimitChunk() (chunk []byte, recs []int, def int) {
	le := binary.LittleEndian
	chunk = make([]byte, evtxChunkSize)
	copy(chunk, evtxChunkMagic)
	le.PutUint32(chunk[40:], 128)
	const name, nameLen = 1024, 16000 // read one UTF-16 unit at a time
	le.PutUint16(chunk[name+6:], nameLen)
	for i := range nameLen {
		chunk[name+8+2*i] = 'A'
	}
	def = name + 8 + 2*(nameLen+1) + 64
	d := chunk[def:]
	copy(d[24:], []byte{evtxTokenFragment, 1, 1, 0})
	at := 28
	for range 12 {
		// An empty element: token, dependency id, size, name offset,
		// then the close token.
		d[at] = 0x01
		le.PutUint32(d[at+7:], name)
		d[at+11] = 0x03
		at += 12
	}
	le.PutUint32(d[20:], uint32(at-24+1)) // definition size, with its EOF
	const size = 64
	for i, off := range []int{evtxRecordsStart, evtxRecordsStart + size} {
		r := chunk[off:]
		copy(r, evtxRecordMagic)
		le.PutUint32(r[4:], size)
		le.PutUint64(r[8:], uint64(i+1))
		copy(r[evtxRecordHeader:], []byte{evtxTokenFragment, 1, 1, 0, evtxTokenInstance, 1, 0, 0, 0, 0})
		le.PutUint32(r[evtxRecordHeader+10:], uint32(def))
		le.PutUint32(r[size-4:], size)
		recs = append(recs, off)
	}
	le.PutUint32(chunk[48:], evtxRecordsStart+2*size) // free-space offset
	return chunk, recs, def
}

// TestEVTXTemplateCacheMutations damages logs at random, a few bytes at a
// time in the records, and decodes each damaged log both ways: a quick,
// repeatable stand-in for FuzzEVTXTemplateCache. Each log gets 150
// mutations with PORTMORTEM_LONG=1, else the first 40 of them.
func TestEVTXTemplateCacheMutations(t *testing.T) {
	quietLibraryLog(t)
	logs := map[string][]byte{
		"writer": writerLog(t, []evtxwrite.Event{
			templateTestEvent(1, "param1"), templateTestEvent(2, "param1"), templateTestEvent(3, "other"),
		}),
	}
	for _, name := range []string{"deepblue_disablestop-eventlog.evtx", "attack-samples_discovery_4799_4798_Security-log_System-events-only-in-slack.evtx"} {
		logs[name] = readEVTXTestdata(t, name)
	}
	mutations := 150
	if !longTests() {
		mutations = 40
	}
	r := rand.New(rand.NewPCG(7, 11))
	le := binary.LittleEndian
	compared := 0
	for _, name := range slices.Sorted(maps.Keys(logs)) { // one order: the same mutations every run
		base := logs[name]
		chunk := base[evtxHeaderBlock : evtxHeaderBlock+evtxChunkSize]
		free := int(le.Uint32(chunk[48:]))
		for i := range mutations {
			data := bytes.Clone(base)
			for range 1 + r.IntN(4) {
				at := evtxHeaderBlock + evtxRecordsStart + r.IntN(free-evtxRecordsStart)
				if r.IntN(3) == 0 && at+4 <= len(data) {
					// An offset somewhere in the chunk.
					le.PutUint32(data[at:], uint32(r.IntN(evtxChunkSize+64)-32))
				} else {
					data[at] = byte(r.Uint32())
				}
			}
			got, want := evtxOutput(t, data, false), evtxOutput(t, data, true)
			if g, w := strings.Join(got, "\n"), strings.Join(want, "\n"); g != w {
				if strings.Contains(g+w, errEVTXWork.Error()) || strings.Contains(g+w, errEVTXDepth.Error()) {
					continue // the limits count reads, which the cache saves
				}
				t.Errorf("%s, mutation %d:\ncached:\n%s\nuncached:\n%s", name, i, g, w)
				continue
			}
			compared++
		}
	}
	// At least 8 in 9 compare: 400 of 450.
	if all := len(logs) * mutations; compared < all*8/9 {
		t.Errorf("only %d of %d mutations compared", compared, all)
	}
}

// TestEVTXTemplateOverLimit: a definition whose parse exceeds the work
// limit fails its record, and the next record that starts with it fails
// at once, charged the same reads, as the generic path fails it.
func TestEVTXTemplateOverLimit(t *testing.T) {
	quietLibraryLog(t)
	chunk, recs, def := overLimitChunk()
	out := compareEVTXPaths(t, "over limit", chunk)
	if len(out) != 2 || !strings.Contains(out[0], errEVTXWork.Error()) || !strings.Contains(out[1], errEVTXWork.Error()) {
		t.Errorf("got %q, want two work limit errors", out)
	}

	d := newEVTXDecoder(&evtxJob{data: chunk, n: len(chunk), chunk: true})
	for i, off := range recs {
		_, done, err := d.decodeCached(off, 64)
		if !done || !errors.Is(err, errEVTXWork) {
			t.Fatalf("record %d: done %v, error %v; want the work limit", i+1, done, err)
		}
		if got, want := d.rd.reads, evtxRecordReads+1; got != want {
			t.Errorf("record %d: %d reads, want %d", i+1, got, want)
		}
		if !d.overLimit[int32(def)] {
			t.Errorf("record %d: definition not marked over the limit", i+1)
		}
		// Shorten the name: parsed again, the definition would now be
		// cheap, so the second record must fail from the mark.
		binary.LittleEndian.PutUint16(chunk[1024+6:], 1)
	}
}

// TestCompileTemplate checks the ops of a definition the library parsed:
// names converted, ignored tokens dropped.
func TestCompileTemplate(t *testing.T) {
	quietLibraryLog(t)
	data := writerLog(t, []evtxwrite.Event{templateTestEvent(1, "param1")})
	offs := writerRecords(t, data)
	chunk := data[evtxHeaderBlock : evtxHeaderBlock+evtxChunkSize]
	d := newEVTXDecoder(&evtxJob{offset: evtxHeaderBlock, data: chunk, n: len(chunk), chunk: true})
	d.rd.reset(chunk, 0)
	tmpl, err := d.template(int32(offs[0]+evtxTestInline), true)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	starts, ends := 0, 0
	for _, op := range tmpl.ops {
		switch op.kind {
		case evtxOpStart:
			starts++
			if len(names) < 4 {
				names = append(names, op.text)
			}
		case evtxOpEnd:
			ends++
		case evtxOpError:
			t.Errorf("error op: %v", op.err)
		}
	}
	if got, want := strings.Join(names, " "), "Event System Provider EventID"; got != want {
		t.Errorf("first elements %q, want %q", got, want)
	}
	if starts != ends {
		t.Errorf("%d element starts, %d ends", starts, ends)
	}
	if got, want := tmpl.ops[0].attrs, []evtxAttrOp{{name: "xmlns", text: "http://schemas.microsoft.com/win/2004/08/events/event"}}; len(got) != 1 || got[0] != want[0] {
		t.Errorf("Event attributes %+v, want %+v", got, want)
	}
}

// FuzzEVTXTemplateCache decodes its input with and without the template
// cache. The outputs must match unless a work limit was reached: the
// cache saves reads, so a record or chunk over a limit by the generic
// path may be under it by the fast path.
func FuzzEVTXTemplateCache(f *testing.F) {
	quietLibraryLog(f)
	for _, path := range goldenFiles(f, evtxTestdata) {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b[:min(len(b), 70<<10)])
	}
	shared := writerLog(f, []evtxwrite.Event{
		templateTestEvent(1, "param1"), templateTestEvent(2, "param1"), templateTestEvent(3, "other"),
	})
	f.Add(shared)
	over, _, _ := overLimitChunk()
	f.Add(over)
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<20 {
			t.Skip("over the 1 MiB size cap")
		}
		got, want := evtxOutput(t, data, false), evtxOutput(t, data, true)
		for _, out := range [][]string{got, want} {
			for _, line := range out {
				if strings.Contains(line, errEVTXWork.Error()) || strings.Contains(line, errEVTXDepth.Error()) {
					t.Skip("a work limit was reached")
				}
			}
		}
		if g, w := strings.Join(got, "\n"), strings.Join(want, "\n"); g != w {
			t.Errorf("cached:\n%s\nuncached:\n%s", g, w)
		}
	})
}

// TestEVTXValueRendering checks the value renderers against what they
// replace (the library's String methods, fmt) on random values.
func TestEVTXValueRendering(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	le := binary.LittleEndian
	var t0 xmlTree
	for range 20000 {
		b := make([]byte, 8+4*16)
		for j := range b {
			b[j] = byte(r.Uint32())
		}
		var g goevtx.GUID
		copy(g[:], b)
		if got, want := evtxGUID(b), "{"+g.String()+"}"; got != want {
			t.Fatalf("GUID %x: %s, want %s", b[:16], got, want)
		}
		if got, want := evtxScalar(goevtx.GuidType, b[:16]), fmt.Sprintf("{%08X-%04X-%04X-%X-%X}", le.Uint32(b), le.Uint16(b[4:]), le.Uint16(b[6:]), b[8:10], b[10:16]); got != want {
			t.Fatalf("GUID scalar %x: %s, want %s", b[:16], got, want)
		}
		v := r.Uint64() >> r.IntN(64)
		if got, want := evtxHex(v), fmt.Sprintf("0x%x", v); got != want {
			t.Fatalf("hex %d: %s, want %s", v, got, want)
		}
		n := r.IntN(17)
		if got, want := evtxUpperHex(b[:n]), strings.ToUpper(hex.EncodeToString(b[:n])); got != want {
			t.Fatalf("binary %x: %s, want %s", b[:n], got, want)
		}
		u := make([]uint16, r.IntN(8))
		for j := range u {
			switch r.IntN(4) {
			case 0:
				u[j] = 0
			case 1:
				u[j] = uint16(r.IntN(128))
			case 2:
				u[j] = uint16(0xD800 + r.IntN(0x800)) // surrogates, paired or not
			default:
				u[j] = uint16(r.Uint32())
			}
		}
		if got, want := evtxUTF16(u), goevtx.UTF16String(u).ToString(); got != want {
			t.Fatalf("UTF-16 %x: %q, want %q", u, got, want)
		}
		// Values the library parses: ours against its String.
		b[1] = byte(1 + r.IntN(15)) // SID subauthority count
		for _, typ := range []goevtx.ValueType{goevtx.Int8Type, goevtx.UInt8Type, goevtx.Int16Type, goevtx.UInt16Type,
			goevtx.Int32Type, goevtx.UInt32Type, goevtx.Int64Type, goevtx.UInt64Type, goevtx.BoolType, goevtx.SidType} {
			val, err := goevtx.ParseValueReader(goevtx.ValueDescriptor{ValType: typ}, bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			got, _, err := t0.value(val)
			if want := val.(goevtx.Value).String(); err != nil || got != want {
				t.Fatalf("type %#x from %x: %q (%v), want %q", typ, b, got, err, want)
			}
		}
	}
}
