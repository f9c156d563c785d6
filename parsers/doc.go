// Package parsers turns the artifacts consultants collect from Windows hosts
// into typed records, streaming. It knows nothing of SQL or reports and
// imports none of portmortem's other packages.
//
// Every format has one file (netstat.go, tasklist.go, …) with a type that
// implements Parser. The registry in registry.go lists them in detection
// order. Read is the entry point: it sniffs the format, decodes text
// (DetectEncoding, Decoder), runs the parser and collects what the artifact
// says about itself in an Artifact. Read takes one artifact as an
// io.Reader and does not know where it came from: folders and archives
// are opened by package parsers/bundle, which imports this package (never
// the other way round).
//
// Artifact sources (how consultants collect them):
//
//	netstat          netstat -ano > netstat.txt   (also -anob elevated, -anoq, -an, -a)
//	tasklist         tasklist /svc > tasklist.txt (or /svc /fo csv)
//	tcpvcon          tcpvcon -accepteula -a -c -n > tcpvcon.csv (or without -c)
//	netsh-excluded   netsh int ipv4 show excludedportrange protocol=tcp (and udp)
//	netsh-dynamic    netsh int ipv4 show dynamicport tcp (and udp)
//	ps-nettcp        Get-NetTCPConnection | Export-Csv nettcp.csv
//	ps-netudp        Get-NetUDPEndpoint | Export-Csv netudp.csv
//	services         %SystemRoot%\System32\drivers\etc\services
//	systeminfo       systeminfo > systeminfo.txt (or systeminfo /fo csv)
//	evtx             wevtutil epl System System.evtx (also Application, "DNS Server")
//	evtx-xml         wevtutil qe System /f:xml > System.xml, or Event Viewer "Save as XML"
//	evt              Windows 2000/XP/2003: %SystemRoot%\System32\config\SysEvent.Evt (or Event Viewer "Save Log File As")
//	event-export     Event Viewer "Save All Events As…" CSV or Text (Tab delimited); Get-WinEvent -LogName System | Export-Csv;
//	                 Get-EventLog -LogName System | Export-Csv, or either cmdlet's Format-List output pasted as text
//	                 (rendered messages, local times)
//
// Binary formats (evtx, evt) need an io.ReaderAt: they seek chunk by chunk
// and recover what a damaged file still holds. Test and benchmark data
// comes from outside the read path: package parsers/evtxwrite writes .evtx
// files (this package's tests use it as an oracle for the reader) and
// package parsers/synth makes synthetic artifacts and bundles. Tests that
// need synth live in the external package parsers_test (bench_test.go),
// since synth may import parsers.
//
// Adding a format:
//  1. Add a Format constant in record.go.
//  2. Write <format>.go with a value type implementing Parser: a Sniff that
//     decides on structure, not on English words, and a Parse that streams
//     (lineScanner for text), checks ctx once per record, stops when yield
//     returns false, and yields a *ParseError with the line (or offset) for
//     anything it cannot read, then goes on.
//  3. Add it to the registry in order: magic bytes before heuristics.
//  4. Copy real samples to ../testdata/<format>/ with their source in
//     ../testdata/SOURCES.md, write golden files with go test -update and
//     review them, add wrong-format, empty and truncated cases, and a
//     Fuzz<Format> test seeded from the samples.
//  5. Bump Version whenever the output changes.
package parsers
