package correlate

import (
	"bufio"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/portmortem/portmortem/parsers"
)

// builtinCatalog is the port catalog shipped with portmortem (catalog.tsv
// says where each row comes from).
//
//go:embed catalog.tsv
var builtinCatalog string

// Catalog limits: a user file is read line by line, but its rows are kept.
const (
	maxCatalogLine    = 64 << 10
	maxCatalogEntries = 100_000
)

// DisplayName is one display name of a service. Lang is "" for the en-US
// name and a language tag ("de", "fr", "es") for a localized one.
type DisplayName struct {
	Lang string
	Name string
}

// CatalogEntry is one service the catalog knows: its key name, display
// names, images, the ports it binds itself and the product it belongs to.
type CatalogEntry struct {
	// Key is the service key name. It may hold '*' wildcards (MSSQL$*).
	Key    string
	Names  []DisplayName
	Images []string
	Ports  []PortSpec
	// Product groups services of one product (sqlserver, apache-httpd), so
	// that a second instance can be recognised; "" when none.
	Product string
	// Source says where the row comes from; Line is its line in the file.
	Source string
	Line   int
	// User marks a row from the user's file.
	User bool
}

// Catalog maps services to the ports they need. It is read-only once
// built, so one Catalog can serve many concurrent analyses.
type Catalog struct {
	entries []CatalogEntry
	version string
}

// defaultCatalog parses the embedded catalog once.
var defaultCatalog = sync.OnceValues(func() (*Catalog, error) {
	entries, err := parseCatalog(strings.NewReader(builtinCatalog), false)
	if err != nil {
		return nil, fmt.Errorf("built-in catalog: %w", err)
	}
	return &Catalog{entries: entries, version: "built-in " + shortSum([]byte(builtinCatalog))}, nil
})

// DefaultCatalog returns the built-in port catalog (catalog.tsv).
func DefaultCatalog() (*Catalog, error) {
	return defaultCatalog()
}

// LoadCatalog returns the built-in catalog extended with the rows of r, a
// file in catalog.tsv's format. A row of r replaces the built-in row with
// the same key, and r's rows are searched first.
func LoadCatalog(r io.Reader) (*Catalog, error) {
	base, err := DefaultCatalog()
	if err != nil {
		return nil, err
	}
	sum := sha256.New()
	user, err := parseCatalog(io.TeeReader(r, sum), true)
	if err != nil {
		return nil, err
	}
	replaced := make(map[string]bool, len(user))
	for _, e := range user {
		replaced[strings.ToLower(e.Key)] = true
	}
	entries := make([]CatalogEntry, 0, len(user)+len(base.entries))
	entries = append(entries, user...)
	for _, e := range base.entries {
		if !replaced[strings.ToLower(e.Key)] {
			entries = append(entries, e)
		}
	}
	version := fmt.Sprintf("%s + %d user row(s) %s", base.version, len(user), hex.EncodeToString(sum.Sum(nil))[:12])
	return &Catalog{entries: entries, version: version}, nil
}

// Version names the catalog's content, for the record of what an analysis
// used: "built-in 3f2a9c01b7de", plus the user's rows and their file's
// hash when LoadCatalog added some. A nil Catalog is the built-in one.
func (c *Catalog) Version() string {
	if c == nil {
		if d, err := DefaultCatalog(); err == nil {
			return d.version
		}
		return ""
	}
	return c.version
}

// shortSum is the first 12 hex digits of b's SHA-256.
func shortSum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])[:12]
}

// Entries returns the catalog's rows in lookup order.
func (c *Catalog) Entries() []CatalogEntry {
	if c == nil {
		return nil
	}
	return c.entries
}

var errCatalogColumns = errors.New("want at least 5 tab-separated columns: key, names, image, ports, product")

func parseCatalog(r io.Reader, user bool) ([]CatalogEntry, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxCatalogLine)
	var out []CatalogEntry
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimRight(sc.Text(), "\r")
		if line == 1 {
			text = strings.TrimPrefix(text, "\uFEFF")
		}
		if strings.TrimSpace(text) == "" || strings.HasPrefix(strings.TrimSpace(text), "#") {
			continue
		}
		e, err := parseCatalogLine(text)
		if err != nil {
			return nil, fmt.Errorf("catalog line %d: %w", line, err)
		}
		if len(out) >= maxCatalogEntries {
			return nil, fmt.Errorf("catalog line %d: more than %d entries", line, maxCatalogEntries)
		}
		e.Line, e.User = line, user
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("catalog line %d: %w", line+1, err)
	}
	return out, nil
}

func parseCatalogLine(text string) (CatalogEntry, error) {
	cols := strings.Split(text, "\t")
	if len(cols) < 5 {
		return CatalogEntry{}, errCatalogColumns
	}
	for i := range cols {
		cols[i] = strings.TrimSpace(cols[i])
	}
	e := CatalogEntry{Key: cols[0]}
	if e.Key == "" || e.Key == "-" {
		return CatalogEntry{}, errors.New("empty service key")
	}
	for _, n := range splitList(cols[1], "|") {
		dn := DisplayName{Name: n}
		if lang, name, ok := strings.Cut(n, ":"); ok && isLangTag(lang) {
			dn = DisplayName{Lang: lang, Name: strings.TrimSpace(name)}
		}
		if dn.Name != "" {
			e.Names = append(e.Names, dn)
		}
	}
	e.Images = splitList(cols[2], "|")
	for _, p := range splitList(cols[3], ",") {
		spec, err := parsePortSpec(p)
		if err != nil {
			return CatalogEntry{}, err
		}
		e.Ports = append(e.Ports, spec)
	}
	if cols[4] != "-" {
		e.Product = cols[4]
	}
	if len(cols) > 5 {
		e.Source = strings.Join(cols[5:], " ")
	}
	return e, nil
}

// isLangTag reports whether s looks like "de", "fr", "pt-BR".
func isLangTag(s string) bool {
	if len(s) < 2 || len(s) > 8 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-') {
			return false
		}
	}
	return true
}

func splitList(s, sep string) []string {
	if s == "" || s == "-" {
		return nil
	}
	var out []string
	for _, part := range strings.Split(s, sep) {
		if part = strings.TrimSpace(part); part != "" && part != "-" {
			out = append(out, part)
		}
	}
	return out
}

func parsePortSpec(s string) (PortSpec, error) {
	proto, num, ok := strings.Cut(s, "/")
	if !ok {
		return PortSpec{}, fmt.Errorf("port %q: want proto/port such as udp/1812", s)
	}
	var p PortSpec
	switch strings.ToUpper(strings.TrimSpace(proto)) {
	case "TCP":
		p.Proto = parsers.TCP
	case "UDP":
		p.Proto = parsers.UDP
	default:
		return PortSpec{}, fmt.Errorf("port %q: protocol must be tcp or udp", s)
	}
	n, err := strconv.ParseUint(strings.TrimSpace(num), 10, 16)
	if err != nil || n == 0 {
		return PortSpec{}, fmt.Errorf("port %q: want a number from 1 to 65535", s)
	}
	p.Port = uint16(n)
	return p, nil
}

// ByKey finds the entry for a service key: an exact (case-insensitive)
// key first, then the first wildcard key that matches.
func (c *Catalog) ByKey(key string) (CatalogEntry, bool) {
	key = strings.TrimSpace(key)
	if c == nil || key == "" {
		return CatalogEntry{}, false
	}
	return c.find(func(e *CatalogEntry, exact bool) bool {
		return matchName(e.Key, key, exact)
	})
}

// ByName finds the entry for a display name in any language the catalog
// knows, case-insensitively; exact names before wildcard ones. When nothing
// matches it tries again without a trailing parenthesised part
// ("Serveur NPS (Network Policy Server)" → "Serveur NPS"). The second result
// is the matching display name.
func (c *Catalog) ByName(name string) (CatalogEntry, DisplayName, bool) {
	name = strings.TrimSpace(name)
	if c == nil || name == "" {
		return CatalogEntry{}, DisplayName{}, false
	}
	for _, n := range []string{name, trimParenthesised(name)} {
		if n == "" {
			continue
		}
		var hit DisplayName
		e, ok := c.find(func(e *CatalogEntry, exact bool) bool {
			for _, dn := range e.Names {
				if matchName(dn.Name, n, exact) {
					hit = dn
					return true
				}
			}
			return false
		})
		if ok {
			return e, hit, true
		}
	}
	return CatalogEntry{}, DisplayName{}, false
}

// ByImage finds the first entry whose image matches image (case-insensitive).
// Callers should not ask for shared hosts such as svchost.exe or lsass.exe.
func (c *Catalog) ByImage(image string) (CatalogEntry, bool) {
	image = strings.TrimSpace(image)
	if c == nil || image == "" {
		return CatalogEntry{}, false
	}
	return c.find(func(e *CatalogEntry, exact bool) bool {
		for _, im := range e.Images {
			if matchName(im, image, exact) {
				return true
			}
		}
		return false
	})
}

// find runs match over the entries twice: exact patterns first, then
// wildcard ones.
func (c *Catalog) find(match func(e *CatalogEntry, exact bool) bool) (CatalogEntry, bool) {
	for _, exact := range []bool{true, false} {
		for i := range c.entries {
			if match(&c.entries[i], exact) {
				return c.entries[i], true
			}
		}
	}
	return CatalogEntry{}, false
}

// matchName compares a catalog pattern with a value: in the exact pass only
// patterns without '*' take part, compared case-insensitively; in the
// wildcard pass only patterns with '*'.
func matchName(pattern, value string, exact bool) bool {
	hasStar := strings.Contains(pattern, "*")
	if exact {
		return !hasStar && strings.EqualFold(pattern, value)
	}
	return hasStar && globFold(pattern, value)
}

// globFold matches s against a pattern whose only special character is
// '*', case-insensitively.
func globFold(pattern, s string) bool {
	p, v := strings.ToLower(pattern), strings.ToLower(s)
	parts := strings.Split(p, "*")
	if !strings.HasPrefix(v, parts[0]) {
		return false
	}
	v = v[len(parts[0]):]
	last := len(parts) - 1
	for i := 1; i < last; i++ {
		j := strings.Index(v, parts[i])
		if j < 0 {
			return false
		}
		v = v[j+len(parts[i]):]
	}
	return last == 0 && v == "" || last > 0 && strings.HasSuffix(v, parts[last])
}

func trimParenthesised(s string) string {
	if !strings.HasSuffix(s, ")") {
		return ""
	}
	i := strings.LastIndex(s, " (")
	if i <= 0 {
		return ""
	}
	return strings.TrimSpace(s[:i])
}

// isPattern reports whether a catalog key or image holds a wildcard.
func isPattern(s string) bool { return strings.Contains(s, "*") }
