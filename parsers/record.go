package parsers

import (
	"net/netip"
	"time"
)

// Format names an artifact format. The values are stable: they are printed by
// `portmortem inspect --json` and stored in the database.
type Format string

// The formats portmortem reads.
const (
	FormatUnknown       Format = "unknown"
	FormatRefused       Format = "refused"        // a file or archive entry the bundle walk did not read (why: the artifact's notes)
	FormatNetstat       Format = "netstat"        // netstat -an, -ano, -anob, -anoq, -a
	FormatTasklist      Format = "tasklist"       // tasklist /svc (table or /fo csv)
	FormatTcpvcon       Format = "tcpvcon"        // tcpvcon -a [-c] [-n]
	FormatNetshExcluded Format = "netsh-excluded" // netsh int ipv4 show excludedportrange protocol=tcp|udp
	FormatNetshDynamic  Format = "netsh-dynamic"  // netsh int ipv4 show dynamicport tcp|udp
	FormatPSNetTCP      Format = "ps-nettcp"      // Get-NetTCPConnection | Export-Csv
	FormatPSNetUDP      Format = "ps-netudp"      // Get-NetUDPEndpoint | Export-Csv
	FormatServices      Format = "services"       // %SystemRoot%\System32\drivers\etc\services
	FormatEVTX          Format = "evtx"           // binary Windows event log (Vista+)
	FormatEVTXXML       Format = "evtx-xml"       // wevtutil qe /f:xml, Event Viewer "Save as XML"
	FormatEVT           Format = "evt"            // legacy Windows 2000/XP/2003 event log
	FormatEventExport   Format = "event-export"   // Event Viewer "Save All Events As" CSV/TXT, Get-WinEvent/Get-EventLog | Export-Csv
	FormatSysteminfo    Format = "systeminfo"     // systeminfo (default list form, or /fo csv)
)

// Kind says which payload a Record carries.
type Kind string

// The record kinds.
const (
	KindSocket      Kind = "socket"       // Record.Socket
	KindProcess     Kind = "process"      // Record.Process
	KindPortRange   Kind = "port-range"   // Record.PortRange
	KindServicePort Kind = "service-port" // Record.ServicePort
	KindEvent       Kind = "event"        // Record.Event
	KindMeta        Kind = "meta"         // Record.Meta: facts about the artifact itself
)

// Record is one parsed item of an artifact. Exactly one payload pointer is set,
// the one that Kind names. Line (text formats, 1-based) or Offset (binary
// formats) tells where in the artifact the item came from.
type Record struct {
	Kind        Kind         `json:"kind"`
	Line        int          `json:"line,omitempty"`
	Offset      int64        `json:"offset,omitempty"`
	Socket      *Socket      `json:"socket,omitempty"`
	Process     *Process     `json:"process,omitempty"`
	PortRange   *PortRange   `json:"port_range,omitempty"`
	ServicePort *ServicePort `json:"service_port,omitempty"`
	Event       *Event       `json:"event,omitempty"`
	Meta        *Meta        `json:"meta,omitempty"`
}

// Proto is a transport protocol: "TCP" or "UDP".
type Proto string

// The transport protocols.
const (
	TCP Proto = "TCP"
	UDP Proto = "UDP"
)

// Normalised socket states. Localised state words (German ABHÖREN …) are
// mapped to these; StateRaw keeps what the artifact said.
const (
	StateListening   = "LISTENING"
	StateEstablished = "ESTABLISHED"
	StateTimeWait    = "TIME_WAIT"
	StateCloseWait   = "CLOSE_WAIT"
	StateSynSent     = "SYN_SENT"
	StateSynReceived = "SYN_RECEIVED"
	StateFinWait1    = "FIN_WAIT_1"
	StateFinWait2    = "FIN_WAIT_2"
	StateLastAck     = "LAST_ACK"
	StateClosing     = "CLOSING"
	StateClosed      = "CLOSED"
	StateBound       = "BOUND"
	StateDeleteTCB   = "DELETE_TCB"
)

// Socket is one endpoint from netstat, Tcpvcon or Get-NetTCPConnection /
// Get-NetUDPEndpoint.
type Socket struct {
	Proto Proto `json:"proto"`
	// LocalAddr is the local IP address; the zero Addr when the artifact
	// gave a host name instead (LocalHost then holds it).
	LocalAddr netip.Addr `json:"local_addr,omitzero"`
	LocalHost string     `json:"local_host,omitempty"`
	// LocalPort is valid only when HasPort is true: Tcpvcon 4.x prints no ports.
	LocalPort uint16 `json:"local_port"`
	HasPort   bool   `json:"has_port"`
	// LocalPortName is the service name printed instead of a number
	// (netstat -a, tcpvcon without -n); LocalPort holds its number when
	// the built-in table knows it (HasPort is false otherwise).
	LocalPortName  string     `json:"local_port_name,omitempty"`
	RemoteAddr     netip.Addr `json:"remote_addr,omitzero"`
	RemoteHost     string     `json:"remote_host,omitempty"`
	RemotePort     uint16     `json:"remote_port,omitempty"`
	RemotePortName string     `json:"remote_port_name,omitempty"`
	// State is one of the State constants, or "" for UDP endpoints.
	State    string `json:"state,omitempty"`
	StateRaw string `json:"state_raw,omitempty"`
	// PID is the owning process, -1 when the artifact does not say.
	PID      int      `json:"pid"`
	Image    string   `json:"image,omitempty"`
	Services []string `json:"services,omitempty"`
	// Owner is a line such as "Can not obtain ownership information" that
	// netstat -b printed instead of an image name.
	Owner string `json:"owner,omitempty"`
	// CreatedAt is the bind time where the artifact records it
	// (Get-NetTCPConnection CreationTime). When CreatedLocal is set it is
	// the host's wall-clock time, stored with the UTC location, and the
	// host's zone must still be applied.
	CreatedAt    time.Time `json:"created_at,omitzero"`
	CreatedLocal bool      `json:"created_local,omitempty"`
}

// Listening reports whether the socket holds its local port for incoming
// traffic: a TCP listener (whatever the state word says when the foreign
// address is 0.0.0.0:0 or [::]:0), a bound TCP socket, or a UDP endpoint.
func (s *Socket) Listening() bool {
	if s.Proto == UDP {
		return true
	}
	return s.State == StateListening || s.State == StateBound
}

// Process maps a PID to its image and the services it hosts (tasklist /svc).
type Process struct {
	PID      int      `json:"pid"`
	Image    string   `json:"image"`
	Services []string `json:"services,omitempty"`
	// Truncated is set when the image name may be cut (tasklist cuts at 25 chars).
	Truncated bool `json:"truncated,omitempty"`
}

// PortRange is an excluded port range (netsh show excludedportrange) or the
// dynamic (ephemeral) range (netsh show dynamicport).
type PortRange struct {
	// Kind is "excluded" or "dynamic".
	Kind  string `json:"kind"`
	Proto Proto  `json:"proto,omitempty"`
	// IPVersion is "ipv4" or "ipv6" when the artifact says, else "".
	IPVersion string `json:"ip_version,omitempty"`
	Start     uint16 `json:"start"`
	End       uint16 `json:"end"`
	// Administered marks a persistent, netsh-added exclusion (the `*` rows).
	Administered bool `json:"administered,omitempty"`
}

// ServicePort is one line of a services file: a port name and its number.
type ServicePort struct {
	Name    string   `json:"name"`
	Port    uint16   `json:"port"`
	Proto   Proto    `json:"proto"`
	Aliases []string `json:"aliases,omitempty"`
}

// Meta carries facts an artifact states about itself: its UI language, the
// command variant that produced it and the host. (Its capture time comes
// from a timestamp line, which Read finds: Artifact.CapturedAt.)
type Meta struct {
	Locale  string `json:"locale,omitempty"`
	Variant string `json:"variant,omitempty"`
	Host    string `json:"host,omitempty"`
	// Note is a free-form remark, e.g. "no port columns (Tcpvcon 4.x)".
	Note string `json:"note,omitempty"`

	// System holds the host facts a systeminfo capture states; nil for
	// other artifacts. It is a pointer so that Meta stays comparable.
	System *SystemFacts `json:"system,omitempty"`
}

// SystemFacts are the facts about a host that systeminfo prints.
type SystemFacts struct {
	// OSName, OSVersion and Domain are as printed: "Microsoft Windows 10
	// Enterprise", "10.0.19042 N/A Build 19042" (major.minor.build, then
	// the service pack and the build again), a domain or workgroup name.
	OSName    string `json:"os_name,omitempty"`
	OSVersion string `json:"os_version,omitempty"`
	Domain    string `json:"domain,omitempty"`
	// BootTime is the last boot. When BootTimeLocal is set it is the
	// host's wall-clock time, stored with the UTC location, and the host's
	// zone must still be applied.
	BootTime      time.Time `json:"boot_time,omitzero"`
	BootTimeLocal bool      `json:"boot_time_local,omitempty"`
	// Uptime is how long the host had been up when the artifact was taken
	// (Windows XP/2003 systeminfo prints it instead of a boot time): the
	// boot was at the capture time minus Uptime.
	Uptime time.Duration `json:"uptime,omitempty"`
	// TimeZone is the zone's display name, "(UTC-05:00) Eastern Time (US &
	// Canada)". UTCOffset, valid when HasUTCOffset is set, is the standard
	// offset that name starts with: daylight saving time is not applied.
	TimeZone     string        `json:"time_zone,omitempty"`
	UTCOffset    time.Duration `json:"utc_offset,omitempty"`
	HasUTCOffset bool          `json:"has_utc_offset,omitempty"`
	// Addresses are the IP addresses of the host's network cards.
	Addresses []netip.Addr `json:"addresses,omitempty"`
}

// Event is one event log record, from .evtx, an XML export or .evt.
type Event struct {
	Channel      string `json:"channel,omitempty"`
	Provider     string `json:"provider"`
	ProviderGUID string `json:"provider_guid,omitempty"`
	// EventSource is the classic EventSourceName when it differs from Provider.
	EventSource string `json:"event_source,omitempty"`
	// EventID is masked with 0xFFFF.
	EventID    uint16    `json:"event_id"`
	Qualifiers uint16    `json:"qualifiers,omitempty"`
	Level      uint8     `json:"level,omitempty"`
	RecordID   uint64    `json:"record_id"`
	Time       time.Time `json:"time"`
	// TimeLocal is set when Time is the host's wall-clock time (a text
	// export's date and time), stored with the UTC location: the host's
	// zone must still be applied.
	TimeLocal bool   `json:"time_local,omitempty"`
	Computer  string `json:"computer,omitempty"`
	// Data holds EventData (or flattened UserData) in document order.
	Data []Field `json:"data,omitempty"`
	// Binary is the <Binary> element as upper-case hex.
	Binary string `json:"binary,omitempty"`
	// Message is the rendered message where the source carries one
	// (RenderingInfo in XML exports).
	Message string `json:"message,omitempty"`
	// Recovered is set for records carved from slack space or damaged chunks.
	Recovered bool `json:"recovered,omitempty"`
}

// Field is one EventData value. Name is empty for unnamed <Data> elements.
type Field struct {
	Name  string `json:"name,omitempty"`
	Value string `json:"value"`
}
