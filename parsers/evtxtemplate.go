package parsers

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	goevtx "github.com/0xrawsec/golang-evtx/evtx"
)

// The fast path of the EVTX decoder (see evtx): a record is a fragment
// header (4 bytes: token 0x0F, versions, flags) and a template instance:
//
//	token 0x0C, unknown int8, unknown int32, definition offset int32
//	[the definition, when its offset is right here: unknown int32,
//	 GUID [16]byte, size int32, and size bytes of BinXML fragment]
//	value count int32, count × (size uint16, type uint8, unknown uint8),
//	the values one after the other
//
// A BinXML-typed value (0x21) is a fragment holding a template instance
// of its own. The decoder reads these headers itself, and leaves the
// definitions and the values to the library.
const (
	evtxTokenFragment = 0x0F
	evtxTokenInstance = 0x0C
	// evtxInstanceHeader is the token and the three header fields.
	evtxInstanceHeader = 10
	// evtxDefinitionHeader is what precedes the definition's fragment:
	// unknown, GUID and size.
	evtxDefinitionHeader = 24
)

// evtxTemplate is a template definition of a chunk, parsed once by the
// library and compiled.
type evtxTemplate struct {
	data goevtx.TemplateDefinitionData
	ops  []evtxOp
	// nodes, attrs and children count the elements, attributes and
	// child elements of ops, for the walk to allocate them at once.
	nodes, attrs, children int
	// parsed is how many bytes the library's parse of the definition
	// read: where an inline definition's instance data starts after a
	// fresh parse, whatever its size field says.
	parsed int
}

type evtxOpKind uint8

const (
	evtxOpStart    evtxOpKind = iota // element start: name, attrs
	evtxOpEnd                        // end of element, or empty element
	evtxOpText                       // text, character or entity reference
	evtxOpSubst                      // normal substitution id
	evtxOpOptional                   // optional substitution id
	evtxOpError                      // an element the walk rejects: err
)

// evtxOp is one step of a compiled template: the library's element list
// with the elements the walk ignores dropped and the names and texts
// converted to strings once.
type evtxOp struct {
	kind  evtxOpKind
	text  string // element name, or text
	id    int
	attrs []evtxAttrOp
	// children is how many elements the definition has directly in
	// this one (without those substitutions bring).
	children int
	err      error
}

// evtxAttrOp is an attribute of an element start: a text, or a
// substitution (subst), or an attribute the walk rejects (err).
type evtxAttrOp struct {
	name, text string
	subst      bool
	id         int
	err        error
}

// compileTemplate turns a definition's element list into ops, as
// xmlTree.template reads them.
func compileTemplate(elems []goevtx.Element) []evtxOp {
	ops := make([]evtxOp, 0, len(elems))
	var open []int // the element starts not ended yet
	for _, e := range elems {
		switch e := e.(type) {
		case *goevtx.ElementStart:
			if len(open) > 0 {
				ops[open[len(open)-1]].children++
			}
			open = append(open, len(ops))
			op := evtxOp{kind: evtxOpStart, text: e.Name.String()}
			if n := len(e.AttributeList.Attributes); n > 0 {
				op.attrs = make([]evtxAttrOp, 0, n)
			}
			for _, a := range e.AttributeList.Attributes {
				at := evtxAttrOp{name: a.Name.String()}
				switch v := a.AttributeData.(type) {
				case *goevtx.ValueText:
					at.text = v.String()
				case *goevtx.CharEntityRef:
					at.text = string(rune(uint16(v.Value)))
				case *goevtx.BinXMLEntityReference:
					at.text = v.String()
				case *goevtx.NormalSubstitution:
					at.subst, at.id = true, int(v.SubID)
				case *goevtx.OptionalSubstitution:
					at.subst, at.id = true, int(v.SubID)
				default:
					at.err = fmt.Errorf("attribute %s of %s: binxml: unexpected %T", at.name, op.text, v)
				}
				op.attrs = append(op.attrs, at)
			}
			ops = append(ops, op)
		case *goevtx.BinXMLCloseStartElementTag, *goevtx.BinXMLEOF:
		case *goevtx.BinXMLCloseEmptyElementTag, *goevtx.BinXMLEndElementTag:
			if len(open) > 0 {
				open = open[:len(open)-1]
			}
			ops = append(ops, evtxOp{kind: evtxOpEnd})
		case *goevtx.ValueText:
			ops = append(ops, evtxOp{kind: evtxOpText, text: e.String()})
		case *goevtx.CharEntityRef:
			ops = append(ops, evtxOp{kind: evtxOpText, text: string(rune(uint16(e.Value)))})
		case *goevtx.BinXMLEntityReference:
			ops = append(ops, evtxOp{kind: evtxOpText, text: e.String()})
		case *goevtx.NormalSubstitution:
			ops = append(ops, evtxOp{kind: evtxOpSubst, id: int(e.SubID)})
		case *goevtx.OptionalSubstitution:
			ops = append(ops, evtxOp{kind: evtxOpOptional, id: int(e.SubID)})
		default:
			// The walk stops here: nothing after matters.
			return append(ops, evtxOp{kind: evtxOpError, err: fmt.Errorf("binxml: unexpected %T in template", e)})
		}
	}
	return ops
}

// evtxInstance is a template instance read by the fast path.
type evtxInstance struct {
	tmpl *evtxTemplate
	evtxValues
}

// errEVTXSlowPath makes decodeCached hand a record to the generic path.
var errEVTXSlowPath = errors.New("binxml: not for the fast path")

// decodeCached decodes the record at off by the fast path. It reports
// done false, having changed nothing the generic path reads, when the
// record does not fit the path or fails in any way: the generic path then
// decodes it, and gives the event or error it always gave. The one
// failure it keeps is the work limit: the generic path makes at least the
// reads the fast path made, on the same bytes, so it fails there too
// (unless the fast path parsed afresh a definition the generic path
// takes from the library's table, or, in a template nested some
// hundreds deep, the generic path's stack check fires first and it
// reports the nesting limit instead). Its reads count for the chunk's
// work limit either way.
func (d *evtxDecoder) decodeCached(off, size int) (ev *Event, done bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			ev, done = nil, false
			if r == errEVTXWork && !d.reparsed {
				done, err = true, errEVTXWork
			}
		}
		if !done {
			d.reads += d.rd.reads
		}
	}()
	d.reparsed = false
	d.rd.reset(d.job.data, 0)
	end := off + size - 4 // the size copy
	in, x, _, err := d.instance(off+evtxRecordHeader, end, 0, true)
	if err != nil {
		return nil, false, nil
	}
	t := xmlTree{data: d.job.data, recStart: off, recEnd: off + size}
	root := &xmlNode{}
	if err := t.instance(root, in, 0); err != nil {
		return nil, false, nil
	}
	if ev, err = eventFromXML(root); err != nil {
		return nil, false, nil
	}
	// The generic path would have put the record's template into the
	// library's table and kept it there: later records that take the
	// generic path must find the table as it would be.
	if _, ok := d.chunk.TemplateTable[x]; !ok {
		d.chunk.TemplateTable[x] = in.tmpl.data
	}
	d.known[x] = true
	return ev, true, nil
}

// instance reads the fragment and template instance at p, of the record
// ending at end; top marks the record's own (outermost) one, which the
// generic path looks up in the library's table. It returns the instance,
// its definition's offset and the offset after its last value. Where the
// library would read instance data is mirrored exactly: after an inline
// definition parsed afresh, or, for a definition in the library's table,
// after the size the definition declares.
func (d *evtxDecoder) instance(p, end, depth int, top bool) (*evtxInstance, int32, int, error) {
	data := d.job.data
	le := binary.LittleEndian
	if depth > evtxMaxDepth || p < 0 || p >= end {
		return nil, 0, 0, errEVTXSlowPath
	}
	// The record is a fragment; a BinXML value is a fragment, or an
	// instance alone.
	q := p
	if data[p] == evtxTokenFragment {
		q += 4
	} else if top {
		return nil, 0, 0, errEVTXSlowPath
	}
	if q+evtxInstanceHeader > end || data[q] != evtxTokenInstance {
		return nil, 0, 0, errEVTXSlowPath
	}
	x := int32(le.Uint32(data[q+6:]))
	if _, ok := d.templates[x]; !ok && top && d.known[x] {
		d.reparsed = true
	}
	tmpl, err := d.template(x, top && d.rd.reads == 0 && !d.known[x])
	if err != nil {
		return nil, 0, 0, err
	}
	pos := q + evtxInstanceHeader
	if int64(x) == int64(pos) {
		if top && d.known[x] {
			pos += evtxDefinitionHeader + int(tmpl.data.Size)
		} else {
			pos += tmpl.parsed
		}
	}
	if pos < 0 || pos+4 > end {
		return nil, 0, 0, errEVTXSlowPath
	}
	n := int(int32(le.Uint32(data[pos:])))
	pos += 4
	if n < 0 || n > (end-pos)/4 {
		return nil, 0, 0, errEVTXSlowPath
	}
	in := &evtxInstance{tmpl: tmpl, evtxValues: evtxValues{
		descs:  make([]goevtx.ValueDescriptor, n),
		values: make([]goevtx.Element, n),
	}}
	for i := range in.descs {
		b := data[pos+4*i:]
		in.descs[i] = goevtx.ValueDescriptor{Size: le.Uint16(b), ValType: goevtx.ValueType(b[2]), Unknown: int8(b[3])}
	}
	pos += 4 * n
	for i, vd := range in.descs {
		if vd.ValType == goevtx.BinXmlType {
			inner, _, next, err := d.instance(pos, end, depth+1, false)
			if err != nil {
				return nil, 0, 0, err
			}
			if in.nested == nil {
				in.nested = make([]*evtxInstance, n)
			}
			in.nested[i], pos = inner, next
			continue
		}
		if _, err := d.rd.Seek(int64(pos), io.SeekStart); err != nil {
			return nil, 0, 0, err
		}
		v, err := goevtx.ParseValueReader(vd, &d.rd)
		if err != nil {
			return nil, 0, 0, err
		}
		in.values[i] = v
		next, err := d.rd.Seek(0, io.SeekCurrent)
		if err != nil {
			return nil, 0, 0, err
		}
		pos = int(next)
	}
	if pos > end {
		return nil, 0, 0, errEVTXSlowPath
	}
	return in, x, pos, nil
}

// template returns the definition at offset x of the chunk from the
// cache, or has the library parse and compiles it. A definition that
// does not parse is remembered as such (a nil entry); one whose parse
// panics is not cached. fresh says nothing has been read for the record
// yet: a definition whose parse then exceeds the record's work limit is
// remembered too (slack holds records whose templates were overwritten,
// and the library reads garbage names in full), and a record that
// starts with it again is failed at once, charged the reads the parse
// would take.
func (d *evtxDecoder) template(x int32, fresh bool) (*evtxTemplate, error) {
	if fresh && d.overLimit[x] {
		d.rd.reads = evtxRecordReads + 1
		panic(errEVTXWork)
	}
	if t, ok := d.templates[x]; ok {
		if t == nil {
			return nil, errEVTXSlowPath
		}
		return t, nil
	}
	if x < 0 || int(x)+evtxDefinitionHeader > len(d.job.data) {
		return nil, errEVTXSlowPath
	}
	if _, err := d.rd.Seek(int64(x), io.SeekStart); err != nil {
		return nil, err
	}
	if fresh {
		defer func() {
			if r := recover(); r != nil {
				if r == errEVTXWork {
					d.overLimit[x] = true
				}
				panic(r)
			}
		}()
	}
	var td goevtx.TemplateDefinitionData
	if err := td.Parse(&d.rd); err != nil {
		d.templates[x] = nil
		return nil, err
	}
	after, err := d.rd.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, err
	}
	t := &evtxTemplate{data: td, ops: compileTemplate(td.Elements), parsed: int(after) - int(x)}
	for _, op := range t.ops {
		if op.kind == evtxOpStart {
			t.nodes++
			t.attrs += len(op.attrs)
			t.children += op.children
		}
	}
	d.templates[x] = t
	return t, nil
}

// instance walks the compiled template of in, as template walks the
// library's element list.
func (t *xmlTree) instance(parent *xmlNode, in *evtxInstance, depth int) error {
	if depth > evtxMaxDepth {
		return errEVTXDepth
	}
	vals := &in.evtxValues
	var buf [16]*xmlNode
	stack := append(buf[:0], parent)
	// The elements, and their attributes and children as far as the
	// template says, in three allocations; each element's share is
	// capped, so appending past it reallocates.
	nodes := make([]xmlNode, in.tmpl.nodes)
	attrs := make([]xmlAttr, in.tmpl.attrs)
	children := make([]*xmlNode, in.tmpl.children)
	for i := range in.tmpl.ops {
		op := &in.tmpl.ops[i]
		cur := stack[len(stack)-1]
		switch op.kind {
		case evtxOpStart:
			if t.nodes++; t.nodes > evtxMaxNodes {
				return errEVTXLarge
			}
			n := &nodes[0]
			nodes = nodes[1:]
			n.name = op.text
			n.attrs, attrs = attrs[:0:len(op.attrs)], attrs[len(op.attrs):]
			n.children, children = children[:0:op.children], children[op.children:]
			for _, a := range op.attrs {
				if a.err != nil {
					return a.err
				}
				if !a.subst {
					n.attrs = append(n.attrs, xmlAttr{a.name, a.text})
					continue
				}
				v, null, err := t.attrSubst(a.id, vals)
				if err != nil {
					return fmt.Errorf("attribute %s of %s: %w", a.name, n.name, err)
				}
				if !null {
					n.attrs = append(n.attrs, xmlAttr{a.name, v})
				}
			}
			cur.children = append(cur.children, n)
			stack = append(stack, n)
		case evtxOpEnd:
			var err error
			if stack, err = t.end(stack); err != nil {
				return err
			}
		case evtxOpText:
			if err := t.addText(cur, op.text); err != nil {
				return err
			}
		case evtxOpSubst:
			if err := t.substitute(cur, op.id, vals, depth); err != nil {
				return err
			}
		case evtxOpOptional:
			if id := op.id; id >= 0 && id < len(vals.values) {
				if _, null := vals.values[id].(*goevtx.ValueNull); null {
					cur.null = true
					continue
				}
			}
			if err := t.substitute(cur, op.id, vals, depth); err != nil {
				return err
			}
		case evtxOpError:
			return op.err
		}
	}
	return nil
}
