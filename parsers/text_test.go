package parsers

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/simplifiedchinese"
	xunicode "golang.org/x/text/encoding/unicode"
)

func encode(t *testing.T, e encoding.Encoding, s string) []byte {
	t.Helper()
	b, err := e.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatalf("encode %q: %v", s, err)
	}
	return b
}

func TestDetectEncoding(t *testing.T) {
	const en = "\r\nActive Connections\r\n\r\n  Proto  Local Address          Foreign Address        State           PID\r\n"
	const de = "\r\nAktive Verbindungen\r\n\r\n  Proto  Lokale Adresse         Remoteadresse          Status\r\n  TCP    0.0.0.0:135            0.0.0.0:0              ABHÖREN\r\n"
	const ru = "\r\nАктивные подключения\r\n\r\n  Имя    Локальный адрес        Внешний адрес          Состояние\r\n"
	const zh = "\r\n活动连接\r\n\r\n  协议  本地地址          外部地址        状态           PID\r\n"
	const ja = "\r\nアクティブな接続\r\n\r\n  プロトコル  ローカル アドレス        外部アドレス           状態\r\n"
	const cz = "\r\nAktivní připojení\r\n\r\n  Proto  Místní adresa          Cizí adresa            Stav\r\n"
	tests := []struct {
		name  string
		input []byte
		want  Encoding
	}{
		{"ascii", []byte(en), EncUTF8},
		{"utf8_bom", append([]byte{0xEF, 0xBB, 0xBF}, en...), EncUTF8BOM},
		{"utf16le_bom", encode(t, xunicode.UTF16(xunicode.LittleEndian, xunicode.UseBOM), de), EncUTF16LEBOM},
		{"utf16be_bom", encode(t, xunicode.UTF16(xunicode.BigEndian, xunicode.UseBOM), de), EncUTF16BEBOM},
		{"utf16le_nobom", encode(t, xunicode.UTF16(xunicode.LittleEndian, xunicode.IgnoreBOM), en), EncUTF16LE},
		{"utf16be_nobom", encode(t, xunicode.UTF16(xunicode.BigEndian, xunicode.IgnoreBOM), en), EncUTF16BE},
		{"utf8_german", []byte(de), EncUTF8},
		{"cp850_german", encode(t, charmap.CodePage850, de), EncCP850},
		{"cp866_russian", encode(t, charmap.CodePage866, ru), EncCP866},
		{"cp936_chinese", encode(t, simplifiedchinese.GBK, zh), EncCP936},
		{"cp932_japanese", encode(t, japanese.ShiftJIS, ja), EncCP932},
		{"cp852_czech", encode(t, charmap.CodePage852, cz), EncCP852},
		{"empty", nil, EncUTF8},
		{"binary", []byte("ElfFile\x00\x00\x00\x00\x00\x01\x02\xff\xfe"), EncBinary},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DetectEncoding(tt.input); got != tt.want {
				t.Errorf("DetectEncoding = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestDecoderRoundTrip(t *testing.T) {
	const de = "Aktive Verbindungen\r\n  TCP    0.0.0.0:135            0.0.0.0:0              ABHÖREN\r\n"
	for _, e := range []struct {
		enc Encoding
		e   encoding.Encoding
	}{
		{EncUTF16LEBOM, xunicode.UTF16(xunicode.LittleEndian, xunicode.UseBOM)},
		{EncUTF16BEBOM, xunicode.UTF16(xunicode.BigEndian, xunicode.UseBOM)},
		{EncUTF8BOM, xunicode.UTF8BOM},
		{EncCP850, charmap.CodePage850},
	} {
		t.Run(string(e.enc), func(t *testing.T) {
			raw := encode(t, e.e, de)
			if got := DetectEncoding(raw); got != e.enc {
				t.Fatalf("DetectEncoding = %s, want %s", got, e.enc)
			}
			got, err := io.ReadAll(Decoder(bytes.NewReader(raw), e.enc))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != de {
				t.Errorf("decoded %q, want %q", got, de)
			}
		})
	}
}

func TestLineScanner(t *testing.T) {
	long := strings.Repeat("x", maxLine+100)
	tests := []struct {
		name     string
		input    string
		want     []string
		wantLong []bool
	}{
		{"crlf", "a\r\nb\r\n", []string{"a", "b"}, []bool{false, false}},
		{"lf_no_final_newline", "a\nb", []string{"a", "b"}, []bool{false, false}},
		{"blank_lines", "\r\n\r\nx\r\n", []string{"", "", "x"}, []bool{false, false, false}},
		{"empty", "", nil, nil},
		{"long_line_cut", "a\n" + long + "\nb\n", []string{"a", long[:maxLine], "b"}, []bool{false, true, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newLineScanner(strings.NewReader(tt.input))
			var got []string
			var gotLong []bool
			for s.Scan() {
				if s.line != len(got)+1 {
					t.Fatalf("line number %d, want %d", s.line, len(got)+1)
				}
				got = append(got, s.text)
				gotLong = append(gotLong, s.long)
			}
			if err := s.Err(); err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d lines, want %d", len(got), len(tt.want))
			}
			for i := range got {
				if got[i] != tt.want[i] || gotLong[i] != tt.wantLong[i] {
					t.Errorf("line %d = %.20q (long %v), want %.20q (long %v)", i+1, got[i], gotLong[i], tt.want[i], tt.wantLong[i])
				}
			}
		})
	}
}

func TestDecodeHeadCutsAtRune(t *testing.T) {
	head := []byte(strings.Repeat("Ö", SniffLen)) // 2 bytes a rune
	got := decodeHead(head, EncUTF8)
	if len(got) > SniffLen {
		t.Fatalf("head is %d bytes, more than SniffLen", len(got))
	}
	if !bytes.HasSuffix(got, []byte("Ö")) {
		t.Errorf("head ends in a cut rune: % x", got[len(got)-3:])
	}
}
