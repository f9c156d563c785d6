package parsers

import (
	"bufio"
	"bytes"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/simplifiedchinese"
	xunicode "golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// Encoding names the character encoding of a text artifact, as recorded per
// artifact: "utf-8", "utf-8-bom", "utf-16le-bom", "utf-16be-bom", "utf-16le",
// "utf-16be", or an OEM code page "cp437", "cp850", "cp852", "cp866",
// "cp932", "cp936".
type Encoding string

// The encodings DetectEncoding can return.
const (
	EncUTF8       Encoding = "utf-8"
	EncUTF8BOM    Encoding = "utf-8-bom"
	EncUTF16LEBOM Encoding = "utf-16le-bom"
	EncUTF16BEBOM Encoding = "utf-16be-bom"
	EncUTF16LE    Encoding = "utf-16le"
	EncUTF16BE    Encoding = "utf-16be"
	EncCP437      Encoding = "cp437"
	EncCP850      Encoding = "cp850"
	EncCP852      Encoding = "cp852"
	EncCP866      Encoding = "cp866"
	EncCP932      Encoding = "cp932"
	EncCP936      Encoding = "cp936"
	// EncBinary marks input that is not text (event logs).
	EncBinary Encoding = "binary"
)

// oemCandidates are the console code pages tried, in order of preference
// when the evidence does not decide.
var oemCandidates = []struct {
	enc Encoding
	cm  encoding.Encoding
}{
	{EncCP850, charmap.CodePage850},
	{EncCP437, charmap.CodePage437},
	{EncCP852, charmap.CodePage852},
	{EncCP866, charmap.CodePage866},
	{EncCP936, simplifiedchinese.GBK},
	{EncCP932, japanese.ShiftJIS},
}

// oemKeywords are words of localized Windows console output. A code page
// whose decoding of the head contains one of them is chosen.
var oemKeywords = []struct {
	enc  Encoding
	word string
}{
	{EncCP850, "ABHÖREN"},
	{EncCP850, "Aktive Verbindungen"},
	{EncCP850, "Abbildname"},
	{EncCP850, "État"},
	{EncCP850, "Dirección"},
	{EncCP850, "Conexões"},
	{EncCP850, "Endereço"},
	{EncCP850, "Porta de início"},
	{EncCP850, "Port de démarrage"},
	{EncCP850, "exclusión"},
	{EncCP852, "Aktivní připojení"},
	{EncCP852, "Místní adresa"},
	{EncCP852, "Aktywne połączenia"},
	{EncCP852, "Adres lokalny"},
	{EncCP852, "Aktív kapcsolatok"},
	{EncCP866, "Активные подключения"},
	{EncCP866, "Локальный адрес"},
	{EncCP866, "Имя образа"},
	{EncCP936, "活动连接"},
	{EncCP936, "本地地址"},
	{EncCP936, "映像名称"},
	{EncCP936, "端口"},
	{EncCP932, "アクティブな接続"},
	{EncCP932, "ローカル アドレス"},
	{EncCP932, "イメージ名"},
	{EncCP932, "ポート"},
}

// DetectEncoding decides the encoding of a text artifact from its first
// bytes: a BOM, then the NUL pattern of BOM-less UTF-16, then other NULs
// (EncBinary: not text), then UTF-8 validity, then the OEM code page whose decoding shows localized keywords
// (or, failing that, looks most like text).
func DetectEncoding(head []byte) Encoding {
	switch {
	case bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}):
		return EncUTF8BOM
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}):
		return EncUTF16LEBOM
	case bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		return EncUTF16BEBOM
	}
	if enc, ok := utf16NoBOM(head); ok {
		return enc
	}
	if bytes.IndexByte(head, 0) >= 0 {
		return EncBinary // no text format has NULs outside UTF-16
	}
	if validUTF8Prefix(head) {
		return EncUTF8
	}
	return guessOEM(head)
}

// utf16NoBOM looks for the NULs that ASCII text has in every other byte.
func utf16NoBOM(head []byte) (Encoding, bool) {
	n := len(head) &^ 1
	if n < 8 {
		return "", false
	}
	var even, odd int
	for i := 0; i < n; i += 2 {
		if head[i] == 0 {
			even++
		}
		if head[i+1] == 0 {
			odd++
		}
	}
	pairs := n / 2
	switch {
	case odd*10 >= pairs*4 && even*10 <= pairs:
		return EncUTF16LE, true
	case even*10 >= pairs*4 && odd*10 <= pairs:
		return EncUTF16BE, true
	}
	return "", false
}

// validUTF8Prefix reports whether head is UTF-8, allowing a rune cut at the end.
func validUTF8Prefix(head []byte) bool {
	for i := 0; i < len(head); {
		r, size := utf8.DecodeRune(head[i:])
		if r == utf8.RuneError && size <= 1 {
			if len(head)-i < utf8.UTFMax && !utf8.FullRune(head[i:]) {
				return true
			}
			return false
		}
		i += size
	}
	return true
}

func guessOEM(head []byte) Encoding {
	best, bestScore := EncCP850, -1<<31
	for _, c := range oemCandidates {
		text, err := c.cm.NewDecoder().Bytes(head)
		if err != nil {
			continue
		}
		s := string(text)
		for _, k := range oemKeywords {
			if k.enc == c.enc && strings.Contains(s, k.word) {
				return c.enc
			}
		}
		if score := textScore(s); score > bestScore {
			best, bestScore = c.enc, score
		}
	}
	return best
}

// textScore rewards letters and penalises symbols, box drawing and
// replacement characters among the non-ASCII runes.
func textScore(s string) int {
	score := 0
	for _, r := range s {
		switch {
		case r < 0x80:
		case r == utf8.RuneError:
			score -= 4
		case unicode.IsLetter(r):
			score++
		default:
			score -= 2
		}
	}
	return score
}

// Decoder returns a reader that yields r's text as UTF-8, without BOM.
func Decoder(r io.Reader, enc Encoding) io.Reader {
	var e encoding.Encoding
	switch enc {
	case EncUTF8BOM:
		e = xunicode.UTF8BOM
	case EncUTF16LEBOM, EncUTF16BEBOM:
		e = xunicode.UTF16(xunicode.LittleEndian, xunicode.ExpectBOM)
	case EncUTF16LE:
		e = xunicode.UTF16(xunicode.LittleEndian, xunicode.IgnoreBOM)
	case EncUTF16BE:
		e = xunicode.UTF16(xunicode.BigEndian, xunicode.IgnoreBOM)
	default:
		for _, c := range oemCandidates {
			if c.enc == enc {
				e = c.cm
			}
		}
	}
	if e == nil {
		return r
	}
	return transform.NewReader(r, e.NewDecoder())
}

// maxLine is the longest line text parsers look at; the rest of a longer
// line is skipped and reported.
const maxLine = 64 << 10

// lineScanner reads lines of any length without holding more than maxLine
// bytes, strips CR and counts lines from 1.
type lineScanner struct {
	r    *bufio.Reader
	line int
	text string
	long bool // the current line was longer than maxLine and was cut
	err  error
}

func newLineScanner(r io.Reader) *lineScanner {
	return &lineScanner{r: bufio.NewReaderSize(r, 64<<10)}
}

// Scan advances to the next line. It returns false at EOF or on a read error
// (see Err).
func (s *lineScanner) Scan() bool {
	if s.err != nil {
		return false
	}
	s.long = false
	var buf []byte
	for {
		chunk, err := s.r.ReadSlice('\n')
		if len(buf)+len(chunk) <= maxLine {
			buf = append(buf, chunk...)
		} else {
			if room := maxLine - len(buf); room > 0 {
				buf = append(buf, chunk[:room]...)
			}
			s.long = true
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			if err != io.EOF {
				s.err = err
			} else {
				s.err = io.EOF
			}
			if len(buf) == 0 {
				return false
			}
		}
		break
	}
	s.line++
	buf = bytes.TrimRight(buf, "\r\n")
	if !s.long {
		buf = bytes.TrimSuffix(buf, []byte("\r"))
	}
	s.text = string(buf)
	return true
}

// Err returns the read error that stopped Scan, or nil at EOF.
func (s *lineScanner) Err() error {
	if s.err == io.EOF {
		return nil
	}
	return s.err
}

// allDigits reports whether s is a non-empty run of ASCII digits.
func allDigits[T string | []byte](s T) bool {
	if len(s) == 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
