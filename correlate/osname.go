package correlate

import (
	"regexp"
	"strconv"
)

// osVersionText reads the version 6009 logs ("6.01. 7601 Service Pack 1
// Multiprocessor Free", "10.00. 19045  Multiprocessor Free") and
// systeminfo prints ("5.2.3790 Service Pack 2 Build 3790"): major, minor,
// build and the service pack.
var osVersionText = regexp.MustCompile(`^\s*(\d{1,2})\.(\d{1,2})\.?\s*(\d{3,5})?(?:.*?Service Pack (\d))?`)

// OSProduct names the Windows release of a version string as 6009 or
// systeminfo gives it: "6.01. 7601 Service Pack 1 …" → "Windows 7 /
// Server 2008 R2 SP1". The client and the server of one kernel share a
// version, so both are named; Windows 10 and 11 and their servers are told
// apart by the build. ok is false for a version it does not know.
func OSProduct(version string) (name string, ok bool) {
	m := osVersionText.FindStringSubmatch(version)
	if m == nil {
		return "", false
	}
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	build, _ := strconv.Atoi(m[3])
	switch {
	case major == 5 && minor == 0:
		name = "Windows 2000"
	case major == 5 && minor == 1:
		name = "Windows XP"
	case major == 5 && minor == 2:
		name = "Windows Server 2003 / XP x64"
	case major == 6 && minor == 0:
		name = "Windows Vista / Server 2008"
	case major == 6 && minor == 1:
		name = "Windows 7 / Server 2008 R2"
	case major == 6 && minor == 2:
		name = "Windows 8 / Server 2012"
	case major == 6 && minor == 3:
		name = "Windows 8.1 / Server 2012 R2"
	case major == 10 && minor == 0:
		switch {
		case build >= 26100:
			name = "Windows 11 24H2 / Server 2025"
		case build >= 22000:
			name = "Windows 11"
		case build == 20348:
			name = "Windows Server 2022"
		case build == 17763:
			name = "Windows 10 1809 / Server 2019"
		case build == 14393:
			name = "Windows 10 1607 / Server 2016"
		default:
			name = "Windows 10"
		}
	default:
		return "", false
	}
	sp := m[4]
	if sp == "" {
		// 6009 of these releases names no service pack: the build does.
		switch {
		case major == 6 && minor == 1 && build == 7601, major == 6 && minor == 0 && build == 6001:
			sp = "1"
		case major == 6 && minor == 0 && build == 6002:
			sp = "2"
		}
	}
	if sp != "" {
		name += " SP" + sp
	}
	return name, true
}
