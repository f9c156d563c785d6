package parsers

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The event-log mutation test (issue 13, item 5) damages the corpus logs
// the ways hostile or broken files do — bit flips, truncation, absurd
// chunk and record sizes, self-referencing templates, name lengths past
// the chunk, value sizes past the record — and parses each mutant in a
// child process: the test binary run again with mutantEnv set
// (TestEventLogMutantChild). The child runs with a GOMEMLIMIT, and the
// parent watches its peak RSS and its time, killing it past either
// limit, so a stack overflow, a runaway allocation or an endless loop
// fails one mutant instead of killing or stalling the whole test run.
// Unlike TestEVTXTemplateCacheMutations, which compares the two decoding
// paths on small random edits in-process, this test aims the damage at
// the structures the readers trust and checks the limits: no panic, no
// hang, bounded memory, and errors that are *ParseError with a position.

const (
	// mutantEnv names the mutant file the child parses; mutantFormatEnv
	// the parser it uses (detection may not recognise a mutant).
	mutantEnv       = "PORTMORTEM_MUTANT"
	mutantFormatEnv = "PORTMORTEM_MUTANT_FORMAT"
	// mutantSelftestEnv makes the child panic, hang or grow instead.
	mutantSelftestEnv = "PORTMORTEM_MUTANT_SELFTEST"
	// mutantTimeout is the hang limit per mutant. The largest corpus log
	// (16.8 MB) parses in about a second, so 20 s is generous even on a
	// loaded 2-core machine: only a loop that does not end reaches it.
	mutantTimeout = 20 * time.Second
	// mutantMaxRSS is the peak resident memory a mutant's child may reach
	// (the acceptance line of issue 13: ≤ 300 MB per mutant).
	mutantMaxRSS = 300 << 20
	// mutantMemLimit is the child's GOMEMLIMIT: the garbage collector
	// works harder as the heap nears it, so only live data that truly
	// grows with the damage pushes the peak past mutantMaxRSS.
	mutantMemLimit = "200MiB"
	// mutantsShort and mutantsLong are how many mutants a run makes:
	// without and with PORTMORTEM_LONG=1.
	mutantsShort = 36
	mutantsLong  = 300
	// mutantShortMaxSize: without PORTMORTEM_LONG=1 only the corpus logs
	// up to this size are mutated, to keep `go test ./...` to seconds.
	mutantShortMaxSize = 128 << 10
	// mutantsPerLarge is how many mutants each log over sampleMaxSize
	// gets (the three largest take seconds each to parse); the others
	// share the rest.
	mutantsPerLarge = 2
)

// mutation damages a copy of a log; it returns a short description of
// what it did, for the failure message.
type mutation struct {
	name string
	fn   func(r *rand.Rand, b []byte) ([]byte, string)
}

// evtxMutations and evtMutations are the damage kinds, applied in turn.
var (
	evtxMutations = []mutation{
		{"bitflip", mutateBitflip},
		{"truncate", mutateTruncate},
		{"chunk_size", mutateEVTXChunkSize},
		{"record_size", mutateEVTXRecordSize},
		{"self_template", mutateEVTXSelfTemplate},
		{"string_past_chunk", mutateEVTXStringPastChunk},
		{"value_past_chunk", mutateEVTXValueSize},
	}
	evtMutations = []mutation{
		{"bitflip", mutateBitflip},
		{"truncate", mutateTruncate},
		{"header_offsets", mutateEVTHeader},
		{"record_size", mutateEVTRecordSize},
		{"string_past_record", mutateEVTStrings},
	}
)

// absurdSizes are the values written where a size or an offset belongs.
var absurdSizes = []uint32{0, 1, 3, 27, 28, 0x7fff, 0xffff, 0x10000, 0x10001, 0x7fffffff, 0x80000000, 0xfffffff0, 0xffffffff}

func absurd(r *rand.Rand) uint32 {
	if r.IntN(4) == 0 {
		return r.Uint32()
	}
	return absurdSizes[r.IntN(len(absurdSizes))]
}

func mutateBitflip(r *rand.Rand, b []byte) ([]byte, string) {
	n := 1 + r.IntN(32)
	for range n {
		at := r.IntN(len(b))
		if r.IntN(2) == 0 && len(b) > evtxHeaderBlock+evtxChunkSize {
			// Half of them in the file header and the first chunk,
			// where the structures are.
			at = r.IntN(evtxHeaderBlock + evtxChunkSize)
		}
		b[at] ^= 1 << r.IntN(8)
	}
	return b, fmt.Sprintf("%d bit flips", n)
}

func mutateTruncate(r *rand.Rand, b []byte) ([]byte, string) {
	var at int
	switch r.IntN(3) {
	case 0: // anywhere
		at = r.IntN(len(b))
	case 1: // near a chunk boundary
		at = evtxHeaderBlock + r.IntN(max(1, len(b)/evtxChunkSize))*evtxChunkSize + r.IntN(64) - 32
	default: // inside the headers
		at = r.IntN(min(len(b), evtxHeaderBlock+evtxRecordsStart+64))
	}
	at = min(max(at, 0), len(b))
	return b[:at], fmt.Sprintf("cut at %d of %d", at, len(b))
}

// evtxChunks returns the offsets of the chunks of an EVTX file.
func evtxChunks(b []byte) []int {
	var out []int
	for off := evtxHeaderBlock; off+evtxChunkSize <= len(b); off += evtxChunkSize {
		if string(b[off:off+8]) == evtxChunkMagic {
			out = append(out, off)
		}
	}
	return out
}

// evtxChunkRecords returns the offsets (in the file) of the records of
// the chunk at c, following their sizes up to the free-space offset.
func evtxChunkRecords(b []byte, c int) []int {
	le := binary.LittleEndian
	var out []int
	free := min(int(le.Uint32(b[c+48:])), evtxChunkSize)
	for off := evtxRecordsStart; off+evtxMinRecord <= free; {
		rec := c + off
		if string(b[rec:rec+4]) != evtxRecordMagic {
			break
		}
		size := int(le.Uint32(b[rec+4:]))
		if size < evtxMinRecord || off+size > evtxChunkSize {
			break
		}
		out = append(out, rec)
		off += size
	}
	return out
}

// pickRecord returns a random record of a random chunk, or -1.
func pickRecord(r *rand.Rand, b []byte) (chunk, rec int) {
	chunks := evtxChunks(b)
	if len(chunks) == 0 {
		return -1, -1
	}
	c := chunks[r.IntN(len(chunks))]
	recs := evtxChunkRecords(b, c)
	if len(recs) == 0 {
		return c, -1
	}
	return c, recs[r.IntN(len(recs))]
}

func mutateEVTXChunkSize(r *rand.Rand, b []byte) ([]byte, string) {
	le := binary.LittleEndian
	chunks := evtxChunks(b)
	v := absurd(r)
	if len(chunks) == 0 || r.IntN(5) == 0 {
		// The file header: header size, chunk count, block size.
		field := []int{32, 42, 40}[r.IntN(3)]
		if field == 42 {
			le.PutUint16(b[field:], uint16(v))
		} else {
			le.PutUint32(b[field:], v)
		}
		return b, fmt.Sprintf("file header field %d = %#x", field, v)
	}
	c := chunks[r.IntN(len(chunks))]
	// Header size, last record offset, free-space offset; or the record
	// numbers (first/last, 64-bit) backwards or absurd.
	switch field := []int{40, 44, 48, 8, 16, 24, 32}[r.IntN(7)]; field {
	case 40, 44, 48:
		le.PutUint32(b[c+field:], v)
		return b, fmt.Sprintf("chunk %#x field %d = %#x", c, field, v)
	default:
		w := uint64(v) << r.IntN(33)
		le.PutUint64(b[c+field:], w)
		return b, fmt.Sprintf("chunk %#x record number field %d = %#x", c, field, w)
	}
}

func mutateEVTXRecordSize(r *rand.Rand, b []byte) ([]byte, string) {
	le := binary.LittleEndian
	c, rec := pickRecord(r, b)
	if rec < 0 {
		return mutateEVTXChunkSize(r, b)
	}
	old := le.Uint32(b[rec+4:])
	v := absurd(r)
	switch r.IntN(3) {
	case 0: // a size past the chunk
		v = uint32(c+evtxChunkSize-rec) + uint32(r.IntN(4096))
	case 1:
		v = absurd(r)
	default: // off by a little
		v = old + uint32(r.IntN(17)) - 8
	}
	le.PutUint32(b[rec+4:], v)
	what := fmt.Sprintf("record %#x size %#x -> %#x", rec, old, v)
	if end := rec + int(v) - 4; r.IntN(2) == 0 && v >= evtxMinRecord && end+4 <= len(b) && end >= rec {
		le.PutUint32(b[end:], v) // and a matching copy at its end
		what += " with a matching copy"
	}
	return b, what
}

// mutateEVTXSelfTemplate makes a record's template definition
// instantiate itself, or two definitions each other: unguarded, the
// library recurses until the Go stack overflows.
func mutateEVTXSelfTemplate(r *rand.Rand, b []byte) ([]byte, string) {
	le := binary.LittleEndian
	c, rec := pickRecord(r, b)
	if rec < 0 {
		return mutateEVTXChunkSize(r, b)
	}
	x := rec + evtxRecordHeader // fragment header, then the instance
	if b[x+4]&0x1f != evtxTokenInstance {
		return mutateEVTXRecordSize(r, b)
	}
	def := int(le.Uint32(b[x+10:]))
	if def < evtxRecordsStart || def+64 > evtxChunkSize {
		return mutateEVTXRecordSize(r, b)
	}
	// The body of a definition starts after next offset, GUID and size
	// (24 bytes): write a fragment header and an instance of target.
	instance := func(at, target int) {
		copy(b[c+at+24:], []byte{evtxTokenFragment, 1, 1, 0, evtxTokenInstance, 1, 0, 0, 0, 0})
		le.PutUint32(b[c+at+34:], uint32(target))
	}
	if r.IntN(2) == 0 {
		instance(def, def)
		return b, fmt.Sprintf("record %#x: definition %#x instantiates itself", rec, def)
	}
	// Mutual: a second definition, in the slack after the free-space
	// offset or over the next record, pointing back.
	other := min(int(le.Uint32(b[c+48:])), evtxChunkSize-128)
	if other < evtxRecordsStart || other >= def && other < def+64 {
		other = evtxChunkSize - 128
	}
	le.PutUint32(b[c+other+20:], 100)
	instance(def, other)
	instance(other, def)
	return b, fmt.Sprintf("record %#x: definitions %#x and %#x instantiate each other", rec, def, other)
}

// mutateEVTXStringPastChunk gives names lengths that run past the end of
// the chunk, or points the string and template tables there.
func mutateEVTXStringPastChunk(r *rand.Rand, b []byte) ([]byte, string) {
	le := binary.LittleEndian
	chunks := evtxChunks(b)
	if len(chunks) == 0 {
		return mutateBitflip(r, b)
	}
	c := chunks[r.IntN(len(chunks))]
	var names []int
	for i := range 64 {
		if off := int(le.Uint32(b[c+128+4*i:])); off >= evtxRecordsStart && off+8 <= evtxChunkSize {
			names = append(names, off)
		}
	}
	if len(names) == 0 || r.IntN(4) == 0 {
		// A string or template table entry near or past the chunk end.
		entry := 128 + 4*r.IntN(96)
		v := uint32(evtxChunkSize - r.IntN(16))
		if r.IntN(2) == 0 {
			v = absurd(r)
		}
		le.PutUint32(b[c+entry:], v)
		return b, fmt.Sprintf("chunk %#x table entry %d = %#x", c, entry, v)
	}
	n := 1 + r.IntN(len(names))
	for range n {
		off := names[r.IntN(len(names))]
		// In UTF-16 units: past the chunk's end, or the largest.
		v := uint16(min((evtxChunkSize-off)/2+1+r.IntN(64), 0xffff))
		if r.IntN(2) == 0 {
			v = 0xffff
		}
		le.PutUint16(b[c+off+6:], v)
	}
	return b, fmt.Sprintf("chunk %#x: %d names with lengths past the chunk", c, n)
}

// mutateEVTXValueSize gives a record's substitution values sizes that
// run past the record and the chunk, or claims more values than the
// record holds.
func mutateEVTXValueSize(r *rand.Rand, b []byte) ([]byte, string) {
	le := binary.LittleEndian
	c, rec := pickRecord(r, b)
	if rec < 0 {
		return mutateEVTXStringPastChunk(r, b)
	}
	q := rec + evtxRecordHeader + 4 // after the fragment header
	if b[q]&0x1f != evtxTokenInstance {
		return mutateEVTXStringPastChunk(r, b)
	}
	pos := q + evtxInstanceHeader
	if def := int(le.Uint32(b[q+6:])); c+def == pos {
		// An inline definition: the values follow its body.
		pos += evtxDefinitionHeader + int(le.Uint32(b[pos+20:]))
	}
	if pos+4 > c+evtxChunkSize {
		return mutateEVTXStringPastChunk(r, b)
	}
	n := int(le.Uint32(b[pos:]))
	if n == 0 || n > 1024 || pos+4+4*n > c+evtxChunkSize || r.IntN(4) == 0 {
		v := absurd(r)
		le.PutUint32(b[pos:], v)
		return b, fmt.Sprintf("record %#x: value count %#x", rec, v)
	}
	k := 1 + r.IntN(n)
	for range k {
		d := pos + 4 + 4*r.IntN(n)
		v := uint16(min(c+evtxChunkSize-d+r.IntN(256), 0xffff))
		if r.IntN(2) == 0 {
			v = 0xffff
		}
		le.PutUint16(b[d:], v)
	}
	return b, fmt.Sprintf("record %#x: %d of %d value sizes past the chunk", rec, k, n)
}

// evtRecords returns the offsets of the records of an EVT file that the
// record signature marks, at 4-byte alignment.
func evtRecords(b []byte) []int {
	var out []int
	for off := evtHeaderSize; off+evtMinRecord <= len(b); off += 4 {
		if bytes.Equal(b[off+4:off+8], evtSignature) {
			out = append(out, off)
		}
	}
	return out
}

func mutateEVTHeader(r *rand.Rand, b []byte) ([]byte, string) {
	le := binary.LittleEndian
	// Start and end offsets, record numbers, the maximum size, or the
	// header sizes; or the EOF record's offsets, pointing at itself or
	// out of the file.
	if i := bytes.Index(b, evtEOFSignature); i >= 0 && i+evtEOFSize <= len(b) && r.IntN(2) == 0 {
		field := []int{20, 24, 28, 32}[r.IntN(4)]
		v := absurd(r)
		if r.IntN(2) == 0 {
			v = uint32(i) // the EOF record names itself as the oldest record
		}
		le.PutUint32(b[i+field:], v)
		return b, fmt.Sprintf("EOF record at %#x field %d = %#x", i, field, v)
	}
	field := []int{0, 16, 20, 24, 28, 32, 44}[r.IntN(7)]
	v := absurd(r)
	le.PutUint32(b[field:], v)
	return b, fmt.Sprintf("header field %d = %#x", field, v)
}

func mutateEVTRecordSize(r *rand.Rand, b []byte) ([]byte, string) {
	le := binary.LittleEndian
	recs := evtRecords(b)
	if len(recs) == 0 {
		return mutateEVTHeader(r, b)
	}
	rec := recs[r.IntN(len(recs))]
	old := le.Uint32(b[rec:])
	v := absurd(r)
	if r.IntN(2) == 0 {
		v = old + 4*uint32(r.IntN(9)) - 16
	}
	le.PutUint32(b[rec:], v)
	what := fmt.Sprintf("record %#x size %#x -> %#x", rec, old, v)
	if end := rec + int(v) - 4; r.IntN(2) == 0 && end >= rec && end+4 <= len(b) {
		le.PutUint32(b[end:], v)
		what += " with a matching copy"
	}
	return b, what
}

// mutateEVTStrings points a record's strings, SID or data outside it, or
// claims more of them, or removes the terminator of its strings.
func mutateEVTStrings(r *rand.Rand, b []byte) ([]byte, string) {
	le := binary.LittleEndian
	recs := evtRecords(b)
	if len(recs) == 0 {
		return mutateEVTHeader(r, b)
	}
	rec := recs[r.IntN(len(recs))]
	size := int(le.Uint32(b[rec:]))
	switch r.IntN(4) {
	case 0:
		le.PutUint16(b[rec+26:], 0xffff)
		return b, fmt.Sprintf("record %#x: 65535 strings", rec)
	case 1:
		if size >= evtMinRecord && rec+size <= len(b) {
			// No terminator: every byte after the fixed part non-zero.
			for i := rec + evtFixedSize; i < rec+size-4; i++ {
				if b[i] == 0 {
					b[i] = 'A'
				}
			}
			return b, fmt.Sprintf("record %#x: strings without terminators", rec)
		}
		fallthrough
	default:
		// String offset, SID length/offset, data length/offset.
		field := []int{36, 40, 44, 48, 52}[r.IntN(5)]
		v := absurd(r)
		if r.IntN(2) == 0 {
			v = uint32(size) + uint32(r.IntN(64))
		}
		le.PutUint32(b[rec+field:], v)
		return b, fmt.Sprintf("record %#x field %d = %#x", rec, field, v)
	}
}

// mutantBase is a corpus log to mutate.
type mutantBase struct {
	path   string
	format Format
	data   []byte
}

// mutantBases reads the corpus event logs: the small ones without
// PORTMORTEM_LONG=1, all of them with it. It skips where the corpus is
// absent (corpusDir).
func mutantBases(t *testing.T) []mutantBase {
	t.Helper()
	dir := corpusDir(t)
	var paths []string
	for _, pattern := range []string{"evtx/*/*.evtx", "evtx/*/*.[Ee]vt"} {
		m, err := filepath.Glob(filepath.Join(dir, pattern))
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, m...)
	}
	slices.Sort(paths)
	var out []mutantBase
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if !longTests() && fi.Size() > mutantShortMaxSize {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		format := FormatEVTX
		if strings.EqualFold(filepath.Ext(p), ".evt") {
			format = FormatEVT
		}
		out = append(out, mutantBase{path: p, format: format, data: b})
	}
	if len(out) == 0 {
		t.Fatalf("no event logs in %s", dir)
	}
	return out
}

// mutant is one damaged log and what its child process showed.
type mutant struct {
	base       *mutantBase
	index      int
	kind, what string
	file       string
	// timeout is the hang limit (mutantTimeout if zero); selftest makes
	// the child misbehave instead of parsing (TestEventLogMutantLimits).
	timeout  time.Duration
	selftest string
	// Results.
	err     error
	rss     int64
	elapsed time.Duration
	out     string
}

// TestEventLogMutations parses mutants of every corpus event log, each
// in a child process with the limits above (issue 13, item 5: 0 panics,
// 0 hangs, ≤ 300 MB per mutant). It makes mutantsLong mutants with
// PORTMORTEM_LONG=1, else mutantsShort of the small logs. Each log gets
// an equal share (the logs over sampleMaxSize mutantsPerLarge), the kinds of damage of its format in turn (shifted by
// one from log to log), from a fixed seed: the same mutants every run.
func TestEventLogMutations(t *testing.T) {
	bases := mutantBases(t)
	total := mutantsShort
	if longTests() {
		total = mutantsLong
	}
	seed := uint64(13)
	// A longer or another search: PORTMORTEM_MUTANTS=2000
	// PORTMORTEM_MUTANT_SEED=2 (BENCHMARKS.md).
	if n, err := strconv.Atoi(os.Getenv("PORTMORTEM_MUTANTS")); err == nil && n > 0 {
		total = n
	}
	if v, err := strconv.ParseUint(os.Getenv("PORTMORTEM_MUTANT_SEED"), 10, 64); err == nil {
		seed = v
	}
	dir := t.TempDir()
	var mutants []*mutant
	r := rand.New(rand.NewPCG(seed, 5))
	for i, slot := 0, 0; i < total; slot++ {
		j, round := slot%len(bases), slot/len(bases)
		base := &bases[j]
		if len(base.data) > sampleMaxSize && round >= mutantsPerLarge {
			continue
		}
		kinds := evtxMutations
		if base.format == FormatEVT {
			kinds = evtMutations
		}
		m := kinds[(j+round)%len(kinds)] // every kind, whatever the number of logs
		data, what := m.fn(r, bytes.Clone(base.data))
		file := filepath.Join(dir, fmt.Sprintf("mutant-%03d%s", i, filepath.Ext(base.path)))
		if err := os.WriteFile(file, data, 0o600); err != nil {
			t.Fatal(err)
		}
		mutants = append(mutants, &mutant{base: base, index: i, kind: m.name, what: what, file: file})
		i++
	}

	// Two children at a time: the machine has two cores.
	work := make(chan *mutant)
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for m := range work {
				runMutant(m)
			}
		}()
	}
	for _, m := range mutants {
		work <- m
	}
	close(work)
	wg.Wait()

	var peak int64
	var slowest time.Duration
	kinds := map[string]int{}
	for _, m := range mutants {
		kinds[m.kind]++
		peak, slowest = max(peak, m.rss), max(slowest, m.elapsed)
		if m.err != nil {
			t.Errorf("mutant %d of seed %d (%s of %s: %s): %v\n%s", m.index, seed, m.kind, filepath.Base(m.base.path), m.what, m.err, m.out)
		}
	}
	byTime := slices.Clone(mutants)
	slices.SortFunc(byTime, func(a, b *mutant) int { return int(b.elapsed - a.elapsed) })
	for _, m := range byTime[:min(3, len(byTime))] {
		t.Logf("slow: %v %.1f MB %s %s: %s", m.elapsed.Round(time.Millisecond), float64(m.rss)/(1<<20), filepath.Base(m.base.path), m.kind, m.what)
	}
	t.Logf("%d mutants of %d logs (%v): peak RSS %.1f MB, slowest %v",
		len(mutants), len(bases), kinds, float64(peak)/(1<<20), slowest.Round(time.Millisecond))
}

// TestEventLogMutantLimits checks that runMutant catches what the
// mutation test is for: a child that panics, one that never ends (with a
// 2 s limit here) and one that grows past mutantMaxRSS.
func TestEventLogMutantLimits(t *testing.T) {
	if _, ok := peakRSS(os.Getpid()); !ok {
		t.Log("no peak RSS on this system: the memory case is not checked")
	}
	base := &mutantBase{format: FormatEVTX}
	file := filepath.Join(t.TempDir(), "empty.evtx")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ selftest, want string }{
		{"", ""}, {"panic", "panic"}, {"hang", "hang"}, {"memory", "peak RSS"},
	} {
		t.Run("selftest_"+tt.selftest, func(t *testing.T) {
			if _, ok := peakRSS(os.Getpid()); !ok && tt.selftest == "memory" {
				t.Skip("no peak RSS on this system")
			}
			m := &mutant{base: base, file: file, selftest: tt.selftest, timeout: 2 * time.Second}
			if tt.selftest == "" || tt.selftest == "memory" {
				m.timeout = mutantTimeout // the parse or the growth must not be cut short
			}
			runMutant(m)
			switch {
			case tt.want == "" && m.err != nil:
				t.Errorf("a clean child failed: %v\n%s", m.err, m.out)
			case tt.want != "" && (m.err == nil || !strings.Contains(m.err.Error(), tt.want)):
				t.Errorf("error %v, want one saying %q\n%s", m.err, tt.want, m.out)
			}
		})
	}
}

// runMutant parses m in a child process and records what it found. The
// child's peak RSS is polled while it runs (a child over mutantMaxRSS is
// killed: the limit is hard, GOMEMLIMIT is not) and reported by the
// child itself at its end; the larger of the two counts.
func runMutant(m *mutant) {
	timeout := mutantTimeout
	if m.timeout > 0 {
		timeout = m.timeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestEventLogMutantChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), mutantEnv+"="+m.file, mutantFormatEnv+"="+string(m.base.format),
		mutantSelftestEnv+"="+m.selftest, "GOMEMLIMIT="+mutantMemLimit, "GOTRACEBACK=single")
	cmd.WaitDelay = time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		m.err = err
		return
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	overMemory := false
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
wait:
	for {
		select {
		case err = <-done:
			break wait
		case <-tick.C:
			if rss, ok := peakRSS(cmd.Process.Pid); ok {
				m.rss = max(m.rss, rss)
				if rss > mutantMaxRSS && !overMemory {
					overMemory = true
					cmd.Process.Kill()
				}
			}
		}
	}
	m.elapsed = time.Since(start)
	m.out = tail(out.String(), 3000)
	if _, after, ok := strings.Cut(out.String(), "mutant peak RSS: "); ok {
		if v, err := strconv.ParseInt(strings.Fields(after)[0], 10, 64); err == nil {
			m.rss = max(m.rss, v)
		}
	}
	switch {
	case overMemory || m.rss > mutantMaxRSS:
		m.err = fmt.Errorf("peak RSS %.1f MB, over %d MB", float64(m.rss)/(1<<20), mutantMaxRSS>>20)
	case ctx.Err() != nil:
		m.err = fmt.Errorf("hang: no result after %v", timeout)
	case strings.Contains(out.String(), "panic:") || strings.Contains(out.String(), "fatal error:"):
		m.err = fmt.Errorf("panic (%v)", err)
	case err != nil:
		m.err = fmt.Errorf("child failed: %v", err)
	case !strings.Contains(out.String(), "mutant parsed:"):
		m.err = errors.New("child did not parse the mutant (test filter or environment broken)")
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// TestEventLogMutantChild is the child of TestEventLogMutations: with
// mutantEnv set it parses that file with the parser mutantFormatEnv
// names, checks every error is a *ParseError with a position and every
// record marshals, and prints a summary line. Without it, it does
// nothing.
func TestEventLogMutantChild(t *testing.T) {
	path := os.Getenv(mutantEnv)
	if path == "" {
		return
	}
	log.SetOutput(io.Discard) // golang-evtx logs what it cannot decode
	switch os.Getenv(mutantSelftestEnv) {
	case "panic":
		panic("self-test")
	case "hang":
		time.Sleep(time.Hour)
	case "memory":
		b := make([]byte, 2*mutantMaxRSS)
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1 // resident, page by page
		}
		time.Sleep(time.Minute) // killed before
	}
	p, err := ByName(os.Getenv(mutantFormatEnv))
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	records, errs := 0, 0
	for rec, err := range p.Parse(context.Background(), f) {
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v (%T) is not a *ParseError", err, err)
			}
			if pe.Line <= 0 && pe.Offset < 0 {
				t.Fatalf("error %v has no position", err)
			}
			errs++
			continue
		}
		if _, err := json.Marshal(rec); err != nil {
			t.Fatalf("record does not marshal: %v", err)
		}
		records++
	}
	fmt.Println("mutant parsed: " + strconv.Itoa(records) + " records, " + strconv.Itoa(errs) + " errors")
	if rss, ok := peakRSS(os.Getpid()); ok {
		fmt.Println("mutant peak RSS: " + strconv.FormatInt(rss, 10))
	}
}
