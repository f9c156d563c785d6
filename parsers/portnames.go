package parsers

import "strings"

// portNames maps the service names that netstat -a and tcpvcon (without -n)
// print in place of port numbers to the numbers, as in the services file
// Windows ships (%SystemRoot%\System32\drivers\etc\services). Sources:
// DOMAIN.md §5 and the Windows services file. Entries are "name/proto".
var portNames = map[string]uint16{
	"echo/tcp": 7, "echo/udp": 7, "discard/tcp": 9, "discard/udp": 9,
	"daytime/tcp": 13, "daytime/udp": 13, "qotd/tcp": 17, "qotd/udp": 17,
	"chargen/tcp": 19, "chargen/udp": 19, "ftp-data/tcp": 20, "ftp/tcp": 21,
	"ssh/tcp": 22, "telnet/tcp": 23, "smtp/tcp": 25, "time/tcp": 37, "time/udp": 37,
	"rlp/udp": 39, "nameserver/tcp": 42, "nameserver/udp": 42, "nicname/tcp": 43,
	"domain/tcp": 53, "domain/udp": 53, "bootps/udp": 67, "dhcps/udp": 67,
	"bootpc/udp": 68, "dhcpc/udp": 68, "tftp/udp": 69, "gopher/tcp": 70,
	"finger/tcp": 79, "http/tcp": 80, "www/tcp": 80, "www-http/tcp": 80,
	"hosts2-ns/tcp": 81, "hosts2-ns/udp": 81, "kerberos/tcp": 88, "kerberos/udp": 88,
	"krb5/tcp": 88, "krb5/udp": 88, "kerberos-sec/tcp": 88, "kerberos-sec/udp": 88,
	"hostname/tcp": 101, "iso-tsap/tcp": 102, "rtelnet/tcp": 107, "pop2/tcp": 109,
	"pop3/tcp": 110, "sunrpc/tcp": 111, "sunrpc/udp": 111, "auth/tcp": 113,
	"uucp-path/tcp": 117, "sqlserv/tcp": 118, "nntp/tcp": 119, "ntp/udp": 123,
	"epmap/tcp": 135, "epmap/udp": 135, "loc-srv/tcp": 135, "loc-srv/udp": 135,
	"netbios-ns/tcp": 137, "netbios-ns/udp": 137, "netbios-dgm/udp": 138,
	"netbios-ssn/tcp": 139, "imap/tcp": 143, "sql-net/tcp": 150, "sqlsrv/tcp": 156,
	"pcmail-srv/tcp": 158, "snmp/udp": 161, "snmptrap/udp": 162, "print-srv/tcp": 170,
	"bgp/tcp": 179, "irc/tcp": 194, "ipx/udp": 213, "rtsps/tcp": 322, "rtsps/udp": 322,
	"mftp/tcp": 349, "mftp/udp": 349, "ldap/tcp": 389, "ldap/udp": 389,
	"https/tcp": 443, "https/udp": 443, "microsoft-ds/tcp": 445, "microsoft-ds/udp": 445,
	"kpasswd/tcp": 464, "kpasswd/udp": 464, "isakmp/udp": 500, "ike/udp": 500,
	"exec/tcp": 512, "biff/udp": 512, "login/tcp": 513, "who/udp": 513, "cmd/tcp": 514,
	"syslog/udp": 514, "printer/tcp": 515, "talk/udp": 517, "ntalk/udp": 518,
	"efs/tcp": 520, "router/udp": 520, "ulp/tcp": 522, "ulp/udp": 522, "timed/udp": 525,
	"tempo/tcp": 526, "irc-serv/tcp": 529, "irc-serv/udp": 529, "courier/tcp": 530,
	"conference/tcp": 531, "netnews/tcp": 532, "netwall/udp": 533, "uucp/tcp": 540,
	"klogin/tcp": 543, "kshell/tcp": 544, "dhcpv6-client/tcp": 546, "dhcpv6-client/udp": 546,
	"dhcpv6-server/tcp": 547, "dhcpv6-server/udp": 547, "new-rwho/udp": 550,
	"rtsp/tcp": 554, "rtsp/udp": 554, "remotefs/tcp": 556, "rmonitor/udp": 560,
	"monitor/udp": 561, "nntps/tcp": 563, "whoami/tcp": 565, "whoami/udp": 565,
	"ms-shuttle/tcp": 568, "ms-shuttle/udp": 568, "ms-rome/tcp": 569, "ms-rome/udp": 569,
	"http-rpc-epmap/tcp": 593, "http-rpc-epmap/udp": 593, "hmmp-ind/tcp": 612,
	"hmmp-ind/udp": 612, "hmmp-op/tcp": 613, "hmmp-op/udp": 613, "ldaps/tcp": 636,
	"doom/tcp": 666, "doom/udp": 666, "msexch-routing/tcp": 691, "msexch-routing/udp": 691,
	"kerberos-adm/tcp": 749, "kerberos-adm/udp": 749, "kerberos-iv/udp": 750,
	"mdbs_daemon/tcp": 800, "mdbs_daemon/udp": 800, "ftps-data/tcp": 989, "ftps/tcp": 990,
	"telnets/tcp": 992, "imaps/tcp": 993, "ircs/tcp": 994, "pop3s/tcp": 995,
	"pop3s/udp": 995, "kpop/tcp": 1109, "nfsd-status/tcp": 1110, "nfsd-keepalive/udp": 1110,
	"nfa/tcp": 1155, "nfa/udp": 1155, "activesync/tcp": 1034, "opsmgr/tcp": 1270,
	"opsmgr/udp": 1270, "ms-sql-s/tcp": 1433, "ms-sql-s/udp": 1433, "ms-sql-m/tcp": 1434,
	"ms-sql-m/udp": 1434, "ms-sna-server/tcp": 1477, "ms-sna-server/udp": 1477,
	"ms-sna-base/tcp": 1478, "ms-sna-base/udp": 1478, "wins/tcp": 1512, "wins/udp": 1512,
	"ingreslock/tcp": 1524, "stt/tcp": 1607, "stt/udp": 1607, "l2tp/udp": 1701,
	"pptconference/tcp": 1711, "pptconference/udp": 1711, "pptp/tcp": 1723,
	"msiccp/tcp": 1731, "msiccp/udp": 1731, "remote-winsock/tcp": 1745,
	"remote-winsock/udp": 1745, "ms-streaming/tcp": 1755, "ms-streaming/udp": 1755,
	"msmq/tcp": 1801, "msmq/udp": 1801, "radius/udp": 1812, "radacct/udp": 1813,
	"msnp/tcp": 1863, "msnp/udp": 1863, "ssdp/tcp": 1900, "ssdp/udp": 1900,
	"close-combat/tcp": 1944, "close-combat/udp": 1944, "nfsd/udp": 2049, "nfs/udp": 2049,
	"knetd/tcp": 2053, "mzap/tcp": 2106, "mzap/udp": 2106, "qwave/tcp": 2177,
	"qwave/udp": 2177, "directplay/tcp": 2234, "directplay/udp": 2234,
	"ms-olap3/tcp": 2382, "ms-olap3/udp": 2382, "ms-olap4/tcp": 2383, "ms-olap4/udp": 2383,
	"ms-olap1/tcp": 2393, "ms-olap1/udp": 2393, "ms-olap2/tcp": 2394, "ms-olap2/udp": 2394,
	"ms-theater/tcp": 2460, "ms-theater/udp": 2460, "wlbs/tcp": 2504, "wlbs/udp": 2504,
	"ms-v-worlds/tcp": 2525, "ms-v-worlds/udp": 2525, "sms-rcinfo/tcp": 2701,
	"sms-rcinfo/udp": 2701, "sms-xfer/tcp": 2702, "sms-xfer/udp": 2702,
	"sms-chat/tcp": 2703, "sms-chat/udp": 2703, "sms-remctrl/tcp": 2704,
	"sms-remctrl/udp": 2704, "msolap-ptp2/tcp": 2725,
	"msolap-ptp2/udp": 2725, "icslap/tcp": 2869, "icslap/udp": 2869,
	"cifs/tcp": 3020, "cifs/udp": 3020, "xbox/tcp": 3074, "xbox/udp": 3074,
	"ms-dotnetster/tcp": 3126, "ms-dotnetster/udp": 3126, "ms-rule-engine/tcp": 3132,
	"ms-rule-engine/udp": 3132, "msft-gc/tcp": 3268, "msft-gc/udp": 3268,
	"msft-gc-ssl/tcp": 3269, "msft-gc-ssl/udp": 3269, "ms-cluster-net/tcp": 3343,
	"ms-cluster-net/udp": 3343, "ms-wbt-server/tcp": 3389, "ms-wbt-server/udp": 3389,
	"ms-la/tcp": 3535, "ms-la/udp": 3535, "pnrp-port/tcp": 3540, "pnrp-port/udp": 3540,
	"teredo/tcp": 3544, "teredo/udp": 3544, "p2pgroup/tcp": 3587, "p2pgroup/udp": 3587,
	"ws-discovery/udp": 3702, "dvcprov-port/tcp": 3776, "dvcprov-port/udp": 3776,
	"msfw-control/tcp": 3847, "msdts1/tcp": 3882, "sdp-portmapper/tcp": 3935,
	"sdp-portmapper/udp": 3935, "net-device/tcp": 4350, "net-device/udp": 4350,
	"ipsec-msft/tcp": 4500, "ipsec-msft/udp": 4500, "llmnr/tcp": 5355, "llmnr/udp": 5355,
	"wsd/tcp": 5357, "wsd/udp": 5358, "rrac/tcp": 5678, "rrac/udp": 5678,
	"dccm/tcp": 5679, "dccm/udp": 5679, "ms-licensing/tcp": 5720, "ms-licensing/udp": 5720,
	"directplay8/tcp": 6073, "directplay8/udp": 6073, "man/tcp": 9535,
	"rasadv/tcp": 9753, "rasadv/udp": 9753, "imip-channels/tcp": 11320,
	"imip-channels/udp": 11320, "directplaysrvr/tcp": 47624, "directplaysrvr/udp": 47624,
	"wsman/tcp": 5985, "wsmans/tcp": 5986, "msdp/tcp": 639,
}

// LookupPortName returns the port number of a service name printed by
// netstat -a or tcpvcon without -n, from the services file Windows ships.
// Names are matched case-insensitively; a name known only for the other
// protocol is accepted, since the Windows file lists most names for both.
func LookupPortName(name string, proto Proto) (uint16, bool) {
	name = strings.ToLower(name)
	p := "tcp"
	if proto == UDP {
		p = "udp"
	}
	if n, ok := portNames[name+"/"+p]; ok {
		return n, true
	}
	other := "udp"
	if p == "udp" {
		other = "tcp"
	}
	n, ok := portNames[name+"/"+other]
	return n, ok
}
