package reports

import (
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/text/width"
)

// cutText returns s cut so that it fits in limit UTF-16 code units (how
// Excel counts a cell's characters), with a note in front saying so. A
// string that fits is returned unchanged.
func cutText(s string, limit int, where string) string {
	n := utf16Len(s)
	if n <= limit {
		return s
	}
	note := fmt.Sprintf("[cut: %s characters in all, the first %%s shown; the full text is in %s] ", thousands(n), where)
	// The note's own length depends on the number it prints; a first guess
	// with a number as wide as the limit is never shorter.
	keep := limit - utf16Len(fmt.Sprintf(note, thousands(limit)))
	if keep < 0 {
		keep = 0
	}
	head := truncateUTF16(s, keep)
	return fmt.Sprintf(note, thousands(utf16Len(head))) + head
}

// utf16Len counts s in UTF-16 code units.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// truncateUTF16 returns the longest prefix of s of at most n UTF-16 code
// units, cut between runes.
func truncateUTF16(s string, n int) string {
	used := 0
	for i, r := range s {
		l := utf16.RuneLen(r)
		if l < 0 {
			l = 1 // invalid UTF-8 becomes U+FFFD, one unit
		}
		if used+l > n {
			return s[:i]
		}
		used += l
	}
	return s
}

// thousands renders n with comma separators: 1,048,576.
func thousands(n int) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// textWidth is how many columns the widest line of s takes: East Asian
// wide and full-width characters count two.
func textWidth(s string) int {
	widest, cur := 0, 0
	for len(s) > 0 {
		r, size := utf8.DecodeRuneInString(s)
		s = s[size:]
		if r == '\n' {
			widest, cur = max(widest, cur), 0
			continue
		}
		switch width.LookupRune(r).Kind() {
		case width.EastAsianWide, width.EastAsianFullwidth:
			cur += 2
		default:
			cur++
		}
	}
	return max(widest, cur)
}

// wrappedLines estimates how many lines s takes in a column cols wide.
func wrappedLines(s string, cols int) int {
	if cols < 1 {
		cols = 1
	}
	n := 0
	for line := range strings.SplitSeq(s, "\n") {
		n += max(1, (textWidth(line)+cols-1)/cols)
	}
	return n
}
