package correlate

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"

	"github.com/portmortem/portmortem/parsers"
)

// FailureKind says what kind of event a Failure was decoded from.
type FailureKind string

// The failure kinds.
const (
	// KindServiceFailure: a Service Control Manager start or crash event.
	KindServiceFailure FailureKind = "service-failure"
	// KindBindError: a product's own event that names the address or port
	// it could not bind (HTTP.sys 15005, SQL Server 26023, Apache 3299 …).
	KindBindError FailureKind = "bind-error"
	// KindSignal: an event that shows the consequence or the climate of a
	// conflict rather than a failed start: IPsec block mode, ephemeral port
	// exhaustion, a DNS socket pool overlapping an excluded range.
	KindSignal FailureKind = "signal"
)

// Failure is a service-start failure, an application bind error or a
// related signal, decoded from one event.
type Failure struct {
	Kind      FailureKind
	Time      time.Time
	Channel   string
	Provider  string
	EventID   uint16
	RecordID  uint64
	Recovered bool
	// Service is the display name (SCM) or the product's service name.
	Service string
	// ServiceKey is the locale-independent key name: from the SCM event's
	// <Binary>, or the SQL Server instance's service name.
	ServiceKey string
	// Dependency is the service a 7001 event says failed first.
	Dependency string
	ErrorCode  uint32
	HasError   bool
	// ServiceSpecific marks a 7024 exit code, which is the service's own
	// number even though Windows renders it with the Win32 message table.
	ServiceSpecific bool
	Class           ErrorClass
	// Proto, Addr and Port are the endpoint the event names, if any.
	Proto   parsers.Proto
	Addr    netip.Addr
	Port    uint16
	HasPort bool
	// Message is an English rendering of the event, made offline.
	Message string
}

// scmProvider is the provider of the SCM events. Winlogon also logs
// 7001/7002, so events are matched on provider and ID together.
const scmProvider = "Service Control Manager"

// DecodeFailure decodes ev into a Failure when it is one of the events
// portmortem follows (DOMAIN.md §1 and §3); ok is false otherwise.
func DecodeFailure(ev *parsers.Event) (f Failure, ok bool) {
	if isProvider(ev, scmProvider) {
		// A text export's event: its insertion strings from the rendered
		// message (rendered.go). One that no template matches decodes
		// with empty insertions and is dropped below.
		if fields, _, found := renderedParams(ev); found {
			cp := *ev
			cp.Data = fields
			ev = &cp
		} else if len(ev.Data) == 0 && ev.Message != "" {
			return Failure{}, false
		}
	}
	f = Failure{
		Time: ev.Time, Channel: ev.Channel, Provider: ev.Provider, EventID: ev.EventID,
		RecordID: ev.RecordID, Recovered: ev.Recovered,
	}
	switch {
	case isProvider(ev, scmProvider):
		ok = decodeSCM(ev, &f)
	case isProvider(ev, "Microsoft-Windows-HttpEvent", "HTTP") && ev.EventID == 15005:
		ok = decodeHTTP(ev, &f)
	case isSQLServer(ev.Provider) && (ev.EventID == 26023 || ev.EventID == 26024 || ev.EventID == 17182):
		ok = decodeSQL(ev, &f)
	case isSQLServer(ev.Provider) && (ev.EventID == 17826 || ev.EventID == 17120):
		// The network library did not start: what follows a listener
		// that could not bind, a reason on the instance's failure.
		f.Kind, f.Class = KindSignal, ClassPossiblyPort
		f.Service, f.ServiceKey = ev.Provider, ev.Provider
		f.Message = map[uint16]string{
			17826: "Could not start the network library because of an internal error in the network library. To determine the cause, review the errors immediately preceding this one in the error log.",
			17120: "SQL Server could not spawn FRunCommunicationsManager thread. Check the SQL Server error log and the Windows event logs for information about possible related problems.",
		}[ev.EventID]
		ok = true
	case isProvider(ev, "Apache Service") && ev.EventID == 3299:
		ok = decodeApache(ev, &f)
	case ev.EventID == 3015 && strings.Contains(strings.ToLower(ev.Provider), "activesync"):
		ok = decodeExchange(ev, &f)
	case isProvider(ev, "Microsoft-Windows-DNS-Server-Service", "DNS") && ev.EventID >= 404 && ev.EventID <= 411:
		ok = decodeDNS(ev, &f)
	case strings.EqualFold(ev.Provider, "IPSEC") || strings.EqualFold(ev.EventSource, "IPSEC"):
		if ev.EventID == 4292 {
			f.Kind, f.Service, f.ServiceKey = KindSignal, "IPSEC Services", "PolicyAgent"
			f.Proto, f.Port, f.HasPort = parsers.UDP, 500, true
			f.Class = ClassPortConflict
			f.Message = "The IPSec driver has entered Block mode. IPSec will discard all inbound and outbound TCP/IP network traffic that is not permitted by boot-time IPSec Policy exemptions."
			ok = true
		}
	case isProvider(ev, "Tcpip") && (ev.EventID == 4227 || ev.EventID == 4231 || ev.EventID == 4266):
		f.Kind, f.Class = KindSignal, ClassPossiblyPort
		f.Proto = parsers.TCP
		if ev.EventID == 4266 {
			f.Proto = parsers.UDP
		}
		f.Message = map[uint16]string{
			4227: "TCP/IP failed to establish an outgoing connection because the selected local endpoint was recently used to connect to the same remote endpoint.",
			4231: "A request to allocate an ephemeral port number from the global TCP port space has failed due to all such ports being in use.",
			4266: "A request to allocate an ephemeral port number from the global UDP port space has failed due to all such ports being in use.",
		}[ev.EventID]
		ok = true
	}
	return f, ok
}

func isProvider(ev *parsers.Event, names ...string) bool {
	for _, n := range names {
		if strings.EqualFold(ev.Provider, n) || strings.EqualFold(ev.EventSource, n) {
			return true
		}
	}
	return false
}

func isSQLServer(p string) bool {
	return strings.EqualFold(p, "MSSQLSERVER") || strings.HasPrefix(strings.ToUpper(p), "MSSQL$")
}

// param returns insertion string i (1-based): the Data named "param<i>",
// or the i-th Data element when the names are missing (legacy logs).
func param(ev *parsers.Event, i int) string {
	name := "param" + strconv.Itoa(i)
	for _, d := range ev.Data {
		if strings.EqualFold(d.Name, name) {
			return d.Value
		}
	}
	if i-1 < len(ev.Data) && !strings.HasPrefix(strings.ToLower(ev.Data[i-1].Name), "param") {
		return ev.Data[i-1].Value
	}
	return ""
}

// errorParam reads an SCM error insertion: %%N, or on Windows 2003 the
// message text itself.
func errorParam(s string) (uint32, bool) {
	if code, ok := ParseInsertion(s); ok {
		return code, true
	}
	return CodeFromText(s)
}

func decodeSCM(ev *parsers.Event, f *Failure) bool {
	f.Kind = KindServiceFailure
	f.ServiceKey = serviceKeyFromBinary(ev.Binary)
	switch ev.EventID {
	case 7000, 7023:
		f.Service = param(ev, 1)
		f.ErrorCode, f.HasError = errorParam(param(ev, 2))
		f.Class = classOf(f.ErrorCode, f.HasError)
		verb := "failed to start due to the following error"
		if ev.EventID == 7023 {
			verb = "terminated with the following error"
		}
		f.Message = fmt.Sprintf("The %s service %s: %s", f.Service, verb, errorText(f.ErrorCode, f.HasError, param(ev, 2)))
	case 7001:
		f.Service, f.Dependency = param(ev, 1), param(ev, 2)
		f.ErrorCode, f.HasError = errorParam(param(ev, 3))
		f.Class = ClassNotPort
		f.Message = fmt.Sprintf("The %s service depends on the %s service which failed to start because of the following error: %s",
			f.Service, f.Dependency, errorText(f.ErrorCode, f.HasError, param(ev, 3)))
	case 7009, 7011:
		f.Service = param(ev, 2)
		f.Class = ClassPossiblyPort
		if ev.EventID == 7009 {
			f.Message = fmt.Sprintf("A timeout was reached (%s milliseconds) while waiting for the %s service to connect.", param(ev, 1), f.Service)
		} else {
			f.Message = fmt.Sprintf("A timeout (%s milliseconds) was reached while waiting for a transaction response from the %s service.", param(ev, 1), f.Service)
		}
	case 7022:
		f.Service = param(ev, 1)
		f.Class = ClassPossiblyPort
		f.Message = fmt.Sprintf("The %s service hung on starting.", f.Service)
	case 7024:
		f.Service = param(ev, 1)
		f.ErrorCode, f.HasError = errorParam(param(ev, 2))
		f.ServiceSpecific = true
		f.Class = ClassPossiblyPort
		if info, ok := LookupError(f.ErrorCode); ok && info.Class == ClassPortConflict {
			f.Class = ClassPortConflict
		}
		f.Message = fmt.Sprintf("The %s service terminated with service-specific error %s.", f.Service, strconv.FormatUint(uint64(f.ErrorCode), 10))
		if info, ok := LookupError(f.ErrorCode); ok && f.HasError {
			f.Message += fmt.Sprintf(" (Windows renders it as %q, which describes the Win32 code of the same number.)", info.Text)
		}
	case 7031:
		f.Service = param(ev, 1)
		f.Class = ClassPossiblyPort
		f.Message = fmt.Sprintf("The %s service terminated unexpectedly.  It has done this %s time(s).  The following corrective action will be taken in %s milliseconds: %s.",
			f.Service, param(ev, 2), param(ev, 3), param(ev, 5))
	case 7034:
		f.Service = param(ev, 1)
		f.Class = ClassPossiblyPort
		f.Message = fmt.Sprintf("The %s service terminated unexpectedly.  It has done this %s time(s).", f.Service, param(ev, 2))
	default:
		return false
	}
	return true
}

func classOf(code uint32, has bool) ErrorClass {
	if !has {
		return ClassUnknown
	}
	info, _ := LookupError(code)
	return info.Class
}

// errorText renders an error insertion the way Event Viewer would, falling
// back to the raw insertion string.
func errorText(code uint32, has bool, raw string) string {
	if has {
		if info, ok := LookupError(code); ok {
			return info.Text
		}
		return "error " + FormatCode(code)
	}
	return raw
}

// serviceKeyFromBinary decodes the UTF-16LE service key name that SCM
// events carry in <Binary> ("WinDefend/4" in 7036: the part before '/').
func serviceKeyFromBinary(h string) string {
	b, err := hex.DecodeString(strings.TrimSpace(h))
	if err != nil || len(b) < 2 || len(b) > 1024 {
		return ""
	}
	u := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		c := binary.LittleEndian.Uint16(b[i:])
		if c == 0 {
			break
		}
		u = append(u, c)
	}
	s := string(utf16.Decode(u))
	s, _, _ = strings.Cut(s, "/")
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return ""
		}
	}
	return s
}

// binaryDWORDs returns the little-endian DWORDs of a hex <Binary>.
func binaryDWORDs(h string) []uint32 {
	b, err := hex.DecodeString(strings.TrimSpace(h))
	if err != nil {
		return nil
	}
	out := make([]uint32, 0, len(b)/4)
	for i := 0; i+4 <= len(b); i += 4 {
		out = append(out, binary.LittleEndian.Uint32(b[i:]))
	}
	return out
}

// allText joins the insertion strings and the rendered message, for the
// events whose address or error sits in free text.
func allText(ev *parsers.Event) string {
	var b strings.Builder
	for _, d := range ev.Data {
		b.WriteString(d.Value)
		b.WriteByte(' ')
	}
	b.WriteString(ev.Message)
	return b.String()
}

var endpointRE = regexp.MustCompile(`(\[[0-9A-Fa-f:.%a-zA-Z]*\]|[0-9]{1,3}(?:\.[0-9]{1,3}){3}|\*|[A-Za-z0-9.-]+):([0-9]{1,5})\b`)

// findEndpoint finds the first addr:port in s. Port 0 is no port: a
// service binds a port it names.
func findEndpoint(s string) (netip.Addr, uint16, bool) {
	for _, m := range endpointRE.FindAllStringSubmatch(s, -1) {
		port, err := strconv.ParseUint(m[2], 10, 16)
		if err != nil || port == 0 {
			continue
		}
		host := strings.Trim(m[1], "[]")
		addr, err := netip.ParseAddr(host)
		if err != nil && host != "*" && !strings.EqualFold(host, "localhost") {
			continue
		}
		if strings.EqualFold(host, "localhost") {
			addr = netip.MustParseAddr("127.0.0.1")
		}
		return addr, uint16(port), true
	}
	return netip.Addr{}, 0, false
}

func decodeHTTP(ev *parsers.Event, f *Failure) bool {
	f.Kind, f.Service, f.ServiceKey = KindBindError, "HTTP", "HTTP"
	f.Proto = parsers.TCP
	f.Addr, f.Port, f.HasPort = findEndpoint(allText(ev))
	if dw := binaryDWORDs(ev.Binary); len(dw) >= 11 {
		f.ErrorCode, f.HasError = dw[len(dw)-1], true
	}
	f.Class = ClassPortConflict
	if f.HasError {
		if info, ok := LookupError(f.ErrorCode); ok {
			f.Class = info.Class
		} else {
			f.Class = ClassPossiblyPort
		}
	}
	f.Message = fmt.Sprintf("Unable to bind to the underlying transport for %s. The IP Listen-Only list may contain a reference to an interface which may not exist on this machine.", endpointText(f))
	if f.HasError {
		f.Message += " Status " + FormatCode(f.ErrorCode) + "."
	}
	return true
}

func endpointText(f *Failure) string {
	if !f.HasPort {
		return "an unknown address"
	}
	if !f.Addr.IsValid() {
		return "*:" + strconv.Itoa(int(f.Port))
	}
	return netip.AddrPortFrom(f.Addr, f.Port).String()
}

// SQL Server's listener events come in two layouts: one rendered text
// ("Server TCP provider failed to listen on [ 'any' <ipv4> 1433]. Tcp
// port is already in use.", "TDSSNIClient initialization failed with
// error 0x2740, status code 0xa. Reason: …") or the same values as
// separate insertion strings ('any' / ipv4 / 1433; 0x2740 or 2740 / 0xa /
// the reason), with the reason in the server's language. The decoders
// read the values, never the words around them.
var (
	// [ 'any' <ipv4> 1433] (26023), or fe80::1%6 < ipv6 > 1433 (26024).
	sqlListenRE = regexp.MustCompile(`\[?\s*'?([^'\]\[<\s]*)'?\s*<\s*(ipv4|ipv6)\s*>\s*(\d{1,5})\s*\]?`)
	hexCodeRE   = regexp.MustCompile(`(?i)\b0x[0-9a-f]{1,8}\b`)
	bareHexRE   = regexp.MustCompile(`(?i)^[0-9a-f]{1,8}$`)
)

func decodeSQL(ev *parsers.Event, f *Failure) bool {
	f.Kind, f.Service, f.ServiceKey = KindBindError, ev.Provider, ev.Provider
	f.Proto = parsers.TCP
	text := allText(ev)
	switch ev.EventID {
	case 26023, 26024:
		if m := sqlListenRE.FindStringSubmatch(text); m != nil {
			if p, err := strconv.ParseUint(m[3], 10, 16); err == nil && p > 0 {
				f.Port, f.HasPort = uint16(p), true
			}
			if a, err := netip.ParseAddr(m[1]); err == nil {
				f.Addr = a
			}
		} else if p, ok := lonePort(ev); ok {
			f.Port, f.HasPort = p, true
			if len(ev.Data) > 0 {
				if a, err := netip.ParseAddr(strings.Trim(strings.TrimSpace(ev.Data[0].Value), "'[]")); err == nil {
					f.Addr = a
				}
			}
		}
		if ev.EventID == 26023 {
			// "Tcp port is already in use": the event says so itself.
			f.ErrorCode, f.HasError, f.Class = 10048, true, ClassPortConflict
			f.Message = fmt.Sprintf("Server TCP provider failed to listen on port %d. Tcp port is already in use.", f.Port)
			break
		}
		// 26024 "Server failed to listen on … Error: 0x2741." names its error.
		code, ok := sqlError(ev, text, -1)
		if !ok {
			return false
		}
		f.ErrorCode, f.HasError, f.Class = code, true, classOf(code, true)
		f.Message = fmt.Sprintf("Server failed to listen on %s. Error: %s.", endpointText(f), FormatCode(code))
	case 17182:
		code, ok := sqlError(ev, text, 0)
		if !ok {
			return false
		}
		f.ErrorCode, f.HasError = code, true
		f.Class = classOf(code, true)
		if f.Class != ClassPortConflict {
			return false // 17182 is logged for many network-library errors
		}
		f.Message = fmt.Sprintf("TDSSNIClient initialization failed with error %s: unable to initialize the TCP/IP listener.", FormatCode(code))
	}
	return true
}

// sqlError finds the error code of a SQL Server listener event: an
// insertion string that is a 0x… code, else (bareAt ≥ 0) the insertion
// string at index bareAt read as hex without its 0x (the message file
// may write the "0x" itself: "error 0x%1"), else the first 0x… value of
// the rendered text.
func sqlError(ev *parsers.Event, text string, bareAt int) (uint32, bool) {
	for _, d := range ev.Data {
		if v := strings.TrimSpace(d.Value); len(v) <= 10 && hexCodeRE.FindString(v) == v && v != "" {
			return ParseInsertion(v)
		}
	}
	if bareAt >= 0 && bareAt < len(ev.Data) {
		if v := strings.TrimSpace(ev.Data[bareAt].Value); bareHexRE.MatchString(v) {
			c, err := strconv.ParseUint(v, 16, 32)
			return uint32(c), err == nil
		}
	}
	if m := hexCodeRE.FindString(text); m != "" {
		return ParseInsertion(m)
	}
	return 0, false
}

// lonePort returns the one insertion string that is a port number, for
// events whose layout is not known exactly.
func lonePort(ev *parsers.Event) (uint16, bool) {
	var port uint16
	n := 0
	for _, d := range ev.Data {
		if p, err := strconv.ParseUint(strings.TrimSpace(d.Value), 10, 16); err == nil && p > 0 {
			port = uint16(p)
			n++
		}
	}
	return port, n == 1
}

var (
	apacheOSRE   = regexp.MustCompile(`\(OS (\d+)\)`)
	apacheBindRE = regexp.MustCompile(`could not bind to address (\S+)`)
	apacheNameRE = regexp.MustCompile(`The Apache service named (\S+) reported`)
)

func decodeApache(ev *parsers.Event, f *Failure) bool {
	text := allText(ev)
	m := apacheBindRE.FindStringSubmatch(text)
	if m == nil {
		return false // the other lines of the same stderr burst
	}
	f.Kind, f.Proto = KindBindError, parsers.TCP
	f.Service = strings.TrimSpace(param(ev, 2))
	if f.Service == "" {
		// Rendered only (an export): Apache's message file is English.
		if n := apacheNameRE.FindStringSubmatch(text); n != nil {
			f.Service = n[1]
		}
	}
	f.ServiceKey = f.Service
	if ap, err := netip.ParseAddrPort(strings.TrimRight(m[1], ".,;")); err == nil && ap.Port() > 0 {
		f.Addr, f.Port, f.HasPort = ap.Addr(), ap.Port(), true
	} else {
		f.Addr, f.Port, f.HasPort = findEndpoint(m[1])
	}
	f.Class = ClassPortConflict
	if osm := apacheOSRE.FindStringSubmatch(text); osm != nil {
		code, _ := strconv.ParseUint(osm[1], 10, 32)
		f.ErrorCode, f.HasError = uint32(code), true
		f.Class = classOf(f.ErrorCode, true)
	}
	f.Message = fmt.Sprintf("The Apache service named %s reported: make_sock: could not bind to address %s", f.Service, endpointText(f))
	if f.HasError {
		f.Message += " (" + errorText(f.ErrorCode, true, "") + ")"
	}
	return true
}

// Exchange's 3015 gives its values in brackets in any language: "UDP
// port [2883]", "UDP-Port [2883]", "port UDP [2883]"; "Error code
// [0x80004005]", "Fehlercode [0x80004005]".
var (
	bracketPortRE = regexp.MustCompile(`(?i)\b(udp|tcp)\b[^\[\]]{0,24}\[(\d{1,5})\]`)
	bracketCodeRE = regexp.MustCompile(`(?i)\[(0x[0-9a-f]{1,8})\]`)
)

func decodeExchange(ev *parsers.Event, f *Failure) bool {
	text := allText(ev)
	m := bracketPortRE.FindStringSubmatch(text)
	if m == nil {
		return false
	}
	f.Kind, f.Service, f.ServiceKey = KindBindError, "Exchange ActiveSync (AUTD)", ev.Provider
	f.Proto = parsers.Proto(strings.ToUpper(m[1]))
	// Not ParseUint's clamped 65535 for a number over 16 bits, nor 0.
	if p, err := strconv.ParseUint(m[2], 10, 16); err == nil && p > 0 {
		f.Port, f.HasPort = uint16(p), true
	}
	f.Class = ClassPortConflict
	if c := bracketCodeRE.FindStringSubmatch(text); c != nil {
		f.ErrorCode, f.HasError = ParseInsertion(c[1])
	}
	port := "its " + string(f.Proto) + " port"
	if f.HasPort {
		port = fmt.Sprintf("%s port %d", f.Proto, f.Port)
	}
	f.Message = "IP-based AUTD failed to initialize: verify that no other applications are bound to " + port + "."
	return true
}

// addrRE finds IPv4 and IPv6 literals in a text.
var addrRE = regexp.MustCompile(`\b(?:[0-9]{1,3}(?:\.[0-9]{1,3}){3}|[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7})\b`)

// firstAddr returns the first IP address literal of s.
func firstAddr(s string) (netip.Addr, bool) {
	for _, m := range addrRE.FindAllString(s, -1) {
		if a, err := netip.ParseAddr(m); err == nil {
			return a, true
		}
	}
	return netip.Addr{}, false
}

func decodeDNS(ev *parsers.Event, f *Failure) bool {
	f.Service, f.ServiceKey = "DNS Server", "DNS"
	// The address is the first insertion string; an export or a pasted
	// event gives only the rendered text, in the server's language, with
	// the address somewhere in it.
	addrText := strings.TrimSpace(param(ev, 1))
	if a, err := netip.ParseAddr(addrText); err == nil {
		f.Addr = a
	} else if a, ok := firstAddr(allText(ev)); ok {
		f.Addr, addrText = a, a.String()
	}
	if dw := binaryDWORDs(ev.Binary); len(dw) > 0 {
		f.ErrorCode, f.HasError = dw[0], true
	}
	f.Port, f.HasPort = 53, true
	f.Class = classOf(f.ErrorCode, f.HasError)
	if f.Class == ClassUnknown {
		f.Class = ClassPossiblyPort
	}
	switch ev.EventID {
	case 404:
		f.Kind, f.Proto = KindBindError, parsers.TCP
		f.Message = fmt.Sprintf("The DNS server could not bind a Transmission Control Protocol (TCP) socket to address %s.", addrText)
	case 407:
		f.Kind, f.Proto = KindBindError, parsers.UDP
		f.Message = fmt.Sprintf("The DNS server could not bind a User Datagram Protocol (UDP) socket to %s.", addrText)
	case 408:
		f.Kind, f.Proto = KindBindError, parsers.UDP
		f.Message = fmt.Sprintf("The DNS server could not open socket for address %s.", addrText)
	case 411:
		f.Kind, f.HasPort, f.Port, f.Proto = KindSignal, false, 0, parsers.UDP
		f.Class = ClassPossiblyPort
		f.Message = "The DNS server has bound one or more socket pool sockets to port numbers from an excluded range."
	default:
		return false
	}
	return true
}
