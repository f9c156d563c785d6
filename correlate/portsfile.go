package correlate

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/portmortem/portmortem/parsers"
)

// LoadPorts reads a --ports file: CSV lines service,proto,port where port
// may be a range a-b of at most 1024 ports, and # starts a comment. The
// result, keyed by the lower-cased service key or display name, is
// Input.UserPorts. name is the file's name, for the errors, which give its
// line.
func LoadPorts(r io.Reader, name string) (map[string][]PortSpec, error) {
	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.FieldsPerRecord = 3
	cr.TrimLeadingSpace = true
	out := map[string][]PortSpec{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		line, _ := cr.FieldPos(0)
		proto := parsers.Proto(strings.ToUpper(strings.TrimSpace(rec[1])))
		if proto != parsers.TCP && proto != parsers.UDP {
			return nil, fmt.Errorf("%s:%d: protocol %q: want tcp or udp", name, line, rec[1])
		}
		lo, hi, isRange := strings.Cut(strings.TrimSpace(rec[2]), "-")
		if !isRange {
			hi = lo
		}
		a, err1 := strconv.ParseUint(lo, 10, 16)
		b, err2 := strconv.ParseUint(hi, 10, 16)
		if err1 != nil || err2 != nil || a == 0 || b < a || b-a > 1024 {
			return nil, fmt.Errorf("%s:%d: port %q: want a number or a range a-b of at most 1024 ports", name, line, rec[2])
		}
		key := strings.ToLower(strings.TrimSpace(rec[0]))
		for p := a; p <= b; p++ {
			out[key] = append(out[key], PortSpec{Proto: proto, Port: uint16(p)})
		}
	}
}
