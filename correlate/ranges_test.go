package correlate

import (
	"slices"
	"testing"
	"time"

	"github.com/portmortem/portmortem/parsers"
)

// inTable gives range rows the capture time of their netsh artifact.
func inTable(t time.Time, src parsers.CaptureSource, refs ...RangeRef) []RangeRef {
	for i := range refs {
		refs[i].CapturedAt, refs[i].CaptureSource = t, src
	}
	return refs
}

// sql17182 is SQL Server's listener failure with error 0x271d (10013):
// the event names no port, so TCP 1433 comes from the catalog.
func sql17182(t *testing.T, when time.Time, rec uint64) FailureRef {
	return failure(t, "Application.evtx", &parsers.Event{Provider: "MSSQLSERVER", EventID: 17182, Channel: "Application", Time: when, RecordID: rec,
		Data: []parsers.Field{{Value: "TDSSNIClient initialization failed with error 0x271d, status code 0x10. Reason: Unable to initialize the TCP/IP listener. An attempt was made to access a socket in a way forbidden by its access permissions. "}}})
}

// hypervStaleRanges: Server 2019 Hyper-V host. In boot 1 (a day before)
// netsh showed TCP 1382-1481 reserved by WinNAT (no *) and 50000-50059
// administered; in boot 2 SQL Server cannot listen on 1433 (10013) and a
// netstat of boot 2 shows 1433 free. The boot-1 table is no evidence for
// boot 2's reservations.
func hypervStaleRanges(t *testing.T) Input {
	boots := []BootRef{boot12(sysEvtx, at(-24*time.Hour), 100), boot12(sysEvtx, at(0), 200)}
	return Input{
		Bundle: "hyperv-stale-ranges", Host: "HV01", OSVersion: "10.0.17763",
		Failures: []FailureRef{sql17182(t, at(2*time.Minute), 7100)},
		Boots:    boots,
		Snapshots: []Snapshot{{ID: 1, Artifact: netstat, Format: parsers.FormatNetstat, Host: "HV01",
			CapturedAt: at(30 * time.Minute), CaptureSource: parsers.CaptureTimestampLine}},
		Ranges: inTable(at(-23*time.Hour), parsers.CaptureTimestampLine,
			RangeRef{Artifact: "excluded-tcp-monday.txt", Line: 7, Range: parsers.PortRange{Kind: "excluded", Proto: parsers.TCP, Start: 1382, End: 1481}},
			RangeRef{Artifact: "excluded-tcp-monday.txt", Line: 8, Range: parsers.PortRange{Kind: "excluded", Proto: parsers.TCP, Start: 50000, End: 50059, Administered: true}},
		),
		Owners: &fakeOwners{refs: []SocketRef{listen(1, 5, "0.0.0.0:135", 900), listen(1, 6, "0.0.0.0:445", 4)}},
	}
}

// TestRangesBelongToABoot (issue 12, item 1): the verdict moves as the
// table moves between boots.
func TestRangesBelongToABoot(t *testing.T) {
	boot2 := func(in *Input, rows ...RangeRef) {
		in.Ranges = append(in.Ranges, inTable(at(20*time.Minute), parsers.CaptureTimestampLine, rows...)...)
	}
	tests := []struct {
		name     string
		mutate   func(*Input)
		port     uint16
		verdict  Verdict
		rule     Rule
		minConf  float64
		maxConf  float64
		reasons  []string
		evidence string
		coverage string // status of CheckExcludedRanges
	}{
		{name: "table_of_other_boot", mutate: func(*Input) {}, port: 1433, verdict: NoConflictSeen, minConf: 0.45, maxConf: 0.5,
			reasons: []string{"The range table excluded-tcp-monday.txt was taken 23 h 2 min before the failure", "in boot session 1, and the failure happened in boot session 2: another boot",
				"not evidence of an exclusion in the failure's boot", "a reservation in the failure's boot cannot be ruled out"},
			evidence: "excluded-tcp-monday.txt", coverage: StatusPartial},
		{name: "table_removed", mutate: func(in *Input) { in.Ranges = nil }, port: 1433, verdict: NoConflictSeen, minConf: 0.55, maxConf: 0.65,
			reasons: []string{"excluded port ranges for TCP were not collected"}, coverage: StatusMissing},
		{name: "table_moved_into_failure_boot", mutate: func(in *Input) {
			for i := range in.Ranges {
				in.Ranges[i].CapturedAt = at(20 * time.Minute)
			}
		}, port: 1433, verdict: ReservedRange, rule: RuleExcludedRange, minConf: 0.9, maxConf: 0.9,
			reasons:  []string{"excluded port range 1382-1481", "in the failure's boot session (2): its ranges are those of the failure's boot"},
			evidence: "excluded-tcp-monday.txt", coverage: StatusPartial},
		{name: "own_table_decides_against_other_boot", mutate: func(in *Input) {
			in.Ranges = nil
			boot2(in, RangeRef{Artifact: "excluded-tcp-tuesday.txt", Line: 6, Range: parsers.PortRange{Kind: "excluded", Proto: parsers.TCP, Start: 5357, End: 5357}})
			in.Ranges = append(in.Ranges, hypervStaleRanges(t).Ranges...)
		}, port: 1433, verdict: NoConflictSeen, minConf: 0.55, maxConf: 0.65,
			reasons: []string{"the failure's boot has its own range table (excluded-tcp-tuesday.txt), which does not exclude it: that table decides"}, coverage: StatusPartial},
		{name: "own_table_decides_for_range", mutate: func(in *Input) {
			boot2(in, RangeRef{Artifact: "excluded-tcp-tuesday.txt", Line: 6, Range: parsers.PortRange{Kind: "excluded", Proto: parsers.TCP, Start: 1400, End: 1499}})
		}, port: 1433, verdict: ReservedRange, rule: RuleExcludedRange, minConf: 0.9, maxConf: 0.9,
			reasons:  []string{"excluded port range 1400-1499", "excluded-tcp-tuesday.txt was taken 18 min after the failure, in the failure's boot session (2)"},
			evidence: "excluded-tcp-tuesday.txt"},
		{name: "table_time_unknown", mutate: func(in *Input) {
			for i := range in.Ranges {
				in.Ranges[i].CapturedAt = time.Time{}
			}
		}, port: 1433, verdict: ReservedRange, rule: RuleExcludedRange, minConf: 0.72, maxConf: 0.72,
			reasons: []string{"capture time of the range table excluded-tcp-monday.txt is unknown", "may not be the failure's"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := hypervStaleRanges(t)
			tt.mutate(&in)
			fs, cov := analyze(t, in)
			f := findPort(t, fs, parsers.TCP, tt.port)
			t.Cleanup(func() {
				if t.Failed() {
					dumpFinding(t, f)
				}
			})
			if f.Verdict != tt.verdict || f.Rule != tt.rule {
				t.Errorf("got %s %q, want %s %q", f.Verdict, f.Rule, tt.verdict, tt.rule)
			}
			if f.Confidence < tt.minConf || f.Confidence > tt.maxConf {
				t.Errorf("confidence %v, want [%v, %v]", f.Confidence, tt.minConf, tt.maxConf)
			}
			for _, r := range tt.reasons {
				if !hasReason(f, r) {
					t.Errorf("no reason contains %q", r)
				}
			}
			if tt.evidence != "" && !slices.ContainsFunc(f.Evidence, func(e Evidence) bool { return e.Artifact == tt.evidence }) {
				t.Errorf("no evidence cites %s", tt.evidence)
			}
			if tt.coverage != "" {
				if got := coverageOf(cov, CheckExcludedRanges); got.Status != tt.coverage {
					t.Errorf("coverage %s = %s (%s), want %s", CheckExcludedRanges, got.Status, got.Reason, tt.coverage)
				}
			}
		})
	}
}

// TestAdministeredRangeAcrossBoots (issue 12, item 1): an administered
// range (*) of another boot still applies; the same range without * does
// not.
func TestAdministeredRangeAcrossBoots(t *testing.T) {
	for _, administered := range []bool{true, false} {
		in := hypervStaleRanges(t)
		in.Failures = []FailureRef{failure(t, sysEvtx, scmAt(at(2*time.Minute), 7200, 7023, "Tomcat9", "Apache Tomcat 9.0 Tomcat9", "%%10013"))}
		in.Ranges = inTable(at(-23*time.Hour), parsers.CaptureTimestampLine,
			RangeRef{Artifact: "excluded-tcp-monday.txt", Line: 8, Range: parsers.PortRange{Kind: "excluded", Proto: parsers.TCP, Start: 8080, End: 8080, Administered: administered}})
		fs, _ := analyze(t, in)
		f := findPort(t, fs, parsers.TCP, 8080)
		want, reason := NoConflictSeen, "not evidence of an exclusion in the failure's boot"
		if administered {
			want, reason = ReservedRange, "administered (*): such exclusions persist across reboots, so it applies to the failure's boot too"
		}
		if f.Verdict != want || !hasReason(f, reason) {
			t.Errorf("administered=%v: got %s, want %s with a reason containing %q", administered, f.Verdict, want, reason)
			dumpFinding(t, f)
		}
		// Without a snapshot, the administered range still decides.
		in.Snapshots, in.Owners = nil, nil
		fs, _ = analyze(t, in)
		f = findPort(t, fs, parsers.TCP, 8080)
		if want := map[bool]Verdict{true: ReservedRange, false: NoSnapshot}[administered]; f.Verdict != want {
			t.Errorf("administered=%v, no snapshot: got %s, want %s", administered, f.Verdict, want)
			dumpFinding(t, f)
		}
	}
}

// TestDynamicPortRangeOfABoot (issue 12, item 1): a dynamicport table of
// another boot does not set the failure's ephemeral range; one of its own
// boot does.
func TestDynamicPortRangeOfABoot(t *testing.T) {
	in := hypervStaleRanges(t)
	out := sock(1, 9, parsers.TCP, "10.0.0.9:1433", "10.0.0.20:443", "ESTABLISHED", 3100)
	in.Owners = &fakeOwners{refs: []SocketRef{out}}
	for _, tt := range []struct {
		name   string
		when   time.Time
		rule   Rule
		reason string
		cov    string
	}{
		// The default of Server 2019 (49152-65535) is assumed: 1433 is outside it.
		{"other_boot", at(-23 * time.Hour), RuleOther, "No known culprit pattern matches", StatusPartial},
		{"own_boot", at(20 * time.Minute), RuleEphemeral, "dynamic-tcp.txt line 4", StatusOK},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in.Ranges = inTable(tt.when, parsers.CaptureTimestampLine,
				RangeRef{Artifact: "dynamic-tcp.txt", Line: 4, Range: parsers.PortRange{Kind: "dynamic", Proto: parsers.TCP, Start: 1024, End: 65535}})
			fs, cov := analyze(t, in)
			f := findPort(t, fs, parsers.TCP, 1433)
			if f.Rule != tt.rule || tt.reason != "" && !hasReason(f, tt.reason) {
				t.Errorf("rule %q, want %q with a reason containing %q", f.Rule, tt.rule, tt.reason)
				dumpFinding(t, f)
			}
			if got := coverageOf(cov, CheckDynamicRange); got.Status != tt.cov {
				t.Errorf("coverage %s = %s (%s), want %s", CheckDynamicRange, got.Status, got.Reason, tt.cov)
			}
		})
	}
}

// dockerNetshOnly: Server 2022 Docker host; the bundle has the event logs
// and netsh tables of the failure's boot, and no socket snapshot. Apache
// cannot bind 0.0.0.0:8080 (OS 10013, the port from the event), SQL
// Server cannot listen (0x271d, TCP 1433 from the catalog); WinNAT's
// reservations cover both.
func dockerNetshOnly(t *testing.T) Input {
	app := &parsers.Event{Provider: "Apache Service", EventID: 3299, Channel: "Application", Time: at(3 * time.Minute), RecordID: 610, Data: []parsers.Field{
		{Value: "The Apache service named"}, {Value: "Apache2.4"}, {Value: "reported the following error:\r\n>>>"},
		{Value: "(OS 10013)An attempt was made to access a socket in a way forbidden by its access permissions.  : AH00072: make_sock: could not bind to address 0.0.0.0:8080"}}}
	return Input{
		Bundle: "docker-netsh-only", Host: "DOCK01", OSVersion: "10.0.20348",
		Failures: []FailureRef{
			failure(t, sysEvtx, scmAt(at(3*time.Minute+time.Second), 8410, 7024, "Apache2.4", "Apache2.4", "%%1")),
			failure(t, "Application.evtx", app),
			sql17182(t, at(4*time.Minute), 611),
		},
		Boots: []BootRef{boot12(sysEvtx, at(0), 8400)},
		Ranges: inTable(at(40*time.Minute), parsers.CaptureTimestampLine,
			RangeRef{Artifact: "excluded-tcp.txt", Line: 7, Range: parsers.PortRange{Kind: "excluded", Proto: parsers.TCP, Start: 1383, End: 1482}},
			RangeRef{Artifact: "excluded-tcp.txt", Line: 8, Range: parsers.PortRange{Kind: "excluded", Proto: parsers.TCP, Start: 8039, End: 8138}},
			RangeRef{Artifact: "excluded-tcp.txt", Line: 9, Range: parsers.PortRange{Kind: "excluded", Proto: parsers.TCP, Start: 50000, End: 50059, Administered: true}},
		),
	}
}

// TestReservedRangeWithoutSnapshot (issue 12, item 2): a table of the
// failure's boot gives RESERVED_RANGE with no netstat, for event and
// catalog ports; without the table the verdict is NO_SNAPSHOT.
func TestReservedRangeWithoutSnapshot(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*Input)
		port    uint16
		source  PortSource
		verdict Verdict
		rule    Rule
		minConf float64
		reasons []string
	}{
		{"event_port", func(*Input) {}, 8080, PortSourceEvent, ReservedRange, RuleExcludedRange, 0.9,
			[]string{"No socket snapshot was supplied, and none is needed", "excluded port range 8039-8138", "10013", "in the failure's boot session (1)"}},
		{"catalog_port", func(*Input) {}, 1433, PortSourceCatalog, ReservedRange, RuleExcludedRange, 0.9,
			[]string{"No socket snapshot was supplied, and none is needed", "excluded port range 1383-1482"}},
		{"event_port_table_removed", func(in *Input) { in.Ranges = nil }, 8080, PortSourceEvent, NoSnapshot, "", 0,
			[]string{"No socket snapshot"}},
		{"catalog_port_table_removed", func(in *Input) { in.Ranges = nil }, 1433, PortSourceCatalog, NoSnapshot, "", 0,
			[]string{"No socket snapshot"}},
		{"table_of_other_boot", func(in *Input) {
			for i := range in.Ranges {
				in.Ranges[i].CapturedAt = at(-time.Hour)
			}
			in.Boots = append(in.Boots, boot12(sysEvtx, at(-5*time.Hour), 8000))
		}, 8080, PortSourceEvent, NoSnapshot, "", 0,
			[]string{"another boot", "not evidence of an exclusion in the failure's boot"}},
		{"table_time_unknown", func(in *Input) {
			for i := range in.Ranges {
				in.Ranges[i].CapturedAt = time.Time{}
			}
		}, 8080, PortSourceEvent, NoSnapshot, RuleExcludedRange, 0,
			[]string{"lies in the excluded port range 8039-8138", "of a table whose boot is unknown"}},
		{"error_10048", func(in *Input) {
			in.Failures[1].Failure.ErrorCode = 10048
		}, 8080, PortSourceEvent, NoSnapshot, RuleExcludedRange, 0,
			[]string{"10048 (address in use)", "without a socket snapshot the range does not explain it"}},
		{"scm_7023_10013_catalog_port", func(in *Input) {
			in.Failures = []FailureRef{failure(t, sysEvtx, scmAt(at(3*time.Minute), 8420, 7023, "Tomcat9", "Apache Tomcat 9.0 Tomcat9", "%%10013"))}
		}, 8080, PortSourceCatalog, ReservedRange, RuleExcludedRange, 0.9,
			[]string{"No socket snapshot was supplied, and none is needed", "excluded port range 8039-8138"}},
		{"scm_7024_exit_code_catalog_port", func(in *Input) {
			in.Failures = []FailureRef{failure(t, sysEvtx, scmAt(at(3*time.Minute), 8420, 7024, "Tomcat9", "Apache Tomcat 9.0 Tomcat9", "%%1"))}
		}, 8080, PortSourceCatalog, ReservedRange, RuleExcludedRange, 0.45,
			[]string{"No socket snapshot was supplied, and none is needed"}},
		// SQL Server names the port in 26024 with the same 0x271d.
		{"sql_26024_access_denied_event_port", func(in *Input) {
			in.Failures = []FailureRef{failure(t, "Application.evtx", &parsers.Event{Provider: "MSSQLSERVER", EventID: 26024, Channel: "Application", Time: at(4 * time.Minute), RecordID: 612,
				Data: []parsers.Field{{Value: "Server failed to listen on 'any' <ipv4> 1450. Error: 0x271d. To proceed, notify your system administrator."}}}),
				sql17182(t, at(4*time.Minute), 613)}
		}, 1450, PortSourceEvent, ReservedRange, RuleExcludedRange, 0.85,
			[]string{"No socket snapshot was supplied, and none is needed", "excluded port range 1383-1482"}},
		// 26023's "Tcp port is already in use" is its wording for any
		// listen failure; the 17182 beside it names the real error.
		{"sql_26023_with_17182_access_denied", func(in *Input) {
			in.Failures = []FailureRef{failure(t, "Application.evtx", &parsers.Event{Provider: "MSSQLSERVER", EventID: 26023, Channel: "Application", Time: at(4 * time.Minute), RecordID: 612,
				Data: []parsers.Field{{Value: "'any'"}, {Value: "ipv4"}, {Value: "1450"}}}),
				sql17182(t, at(4*time.Minute), 613)}
		}, 1450, PortSourceEvent, ReservedRange, RuleExcludedRange, 0.85,
			[]string{"No socket snapshot was supplied, and none is needed", "10013"}},
		{"unknown_error_catalog_port", func(in *Input) {
			in.Failures = []FailureRef{failure(t, sysEvtx, scmAt(at(3*time.Minute), 8420, 7034, "MSSQLSERVER", "SQL Server (MSSQLSERVER)", "1"))}
		}, 1433, PortSourceCatalog, ReservedRange, RuleExcludedRange, 0.45,
			[]string{"No socket snapshot was supplied, and none is needed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := dockerNetshOnly(t)
			tt.mutate(&in)
			fs, cov := analyze(t, in)
			f := findPort(t, fs, parsers.TCP, tt.port)
			t.Cleanup(func() {
				if t.Failed() {
					dumpFinding(t, f)
				}
			})
			if f.Verdict != tt.verdict || f.Rule != tt.rule || f.PortSource != tt.source {
				t.Errorf("got %s %q from %s, want %s %q from %s", f.Verdict, f.Rule, f.PortSource, tt.verdict, tt.rule, tt.source)
			}
			if f.Confidence < tt.minConf {
				t.Errorf("confidence %v, want at least %v", f.Confidence, tt.minConf)
			}
			for _, r := range tt.reasons {
				if !hasReason(f, r) {
					t.Errorf("no reason contains %q", r)
				}
			}
			if f.Verdict == ReservedRange && (f.OwnerPID != -1 || len(f.Remedy) == 0) {
				t.Errorf("RESERVED_RANGE with owner %d and %d remedy lines", f.OwnerPID, len(f.Remedy))
			}
			if got := coverageOf(cov, CheckSnapshots); got.Status != StatusMissing {
				t.Errorf("coverage snapshots = %s, want missing", got.Status)
			}
		})
	}
}

// TestRangeTablesOddInput: odd tables never crash the analysis and give
// findings in bounds.
func TestRangeTablesOddInput(t *testing.T) {
	far := time.Date(30827, 12, 31, 0, 0, 0, 0, time.UTC)
	odd := []RangeRef{
		{Range: parsers.PortRange{Kind: "excluded", Start: 1400, End: 1500}, CapturedAt: at(time.Hour), CapturedLocal: true, CaptureSource: parsers.CaptureZipDOS},
		{Artifact: "a.txt", Range: parsers.PortRange{Kind: "excluded", Start: 1433, End: 1433}, CapturedAt: far},
		{Artifact: "a.txt", Range: parsers.PortRange{Kind: "dynamic", Start: 2000, End: 1000}, CapturedAt: at(-time.Hour)}, // same artifact, another time
		{Artifact: "b.txt", Range: parsers.PortRange{Kind: "excluded", Proto: "SCTP", Start: 0, End: 65535, Administered: true}},
		{Artifact: "c.txt", Range: parsers.PortRange{Kind: "", Start: 1433, End: 1433}, CapturedAt: at(time.Minute)},
	}
	for _, snaps := range []bool{true, false} {
		in := dockerNetshOnly(t)
		in.Ranges = odd
		in.Boots = append(in.Boots, BootRef{Boot: BootMarker{Kind: BootStart, EventID: 12, BootTime: far}})
		if snaps {
			in.Snapshots = hypervStaleRanges(t).Snapshots
			in.Owners = &fakeOwners{}
		}
		fs, cov := analyze(t, in)
		if len(fs) == 0 || len(cov) == 0 {
			t.Fatalf("snapshots %v: %d findings, %d coverage entries", snaps, len(fs), len(cov))
		}
		for _, f := range fs {
			if f.Verdict == "" || f.Confidence < 0 || f.Confidence > 1 || len(f.Reasons) == 0 {
				t.Errorf("bad finding %+v", f)
			}
		}
	}
}

// FuzzRangeBoots places excluded ranges of either kind at arbitrary times
// around two boots: whatever the times, a RESERVED_RANGE without a
// snapshot rests on a range of the failure's boot or an administered one.
func FuzzRangeBoots(f *testing.F) {
	f.Add(int64(40), false, int64(-90), true, int64(0))
	f.Add(int64(-60), false, int64(-60), false, int64(-30))
	f.Add(int64(0), true, int64(5), false, int64(2))
	f.Fuzz(func(t *testing.T, t1 int64, adm1 bool, t2 int64, adm2 bool, fail int64) {
		minute := func(m int64) time.Time { return at(time.Duration(m%100000) * time.Minute) }
		in := dockerNetshOnly(t)
		in.Failures = []FailureRef{sql17182(t, minute(fail), 611)}
		in.Boots = []BootRef{boot12(sysEvtx, at(-24*time.Hour), 8000), boot12(sysEvtx, at(0), 8400)}
		in.Ranges = append(
			inTable(minute(t1), parsers.CaptureTimestampLine, RangeRef{Artifact: "one.txt", Line: 7, Range: parsers.PortRange{Kind: "excluded", Proto: parsers.TCP, Start: 1400, End: 1450, Administered: adm1}}),
			inTable(minute(t2), parsers.CaptureTimestampLine, RangeRef{Artifact: "two.txt", Line: 7, Range: parsers.PortRange{Kind: "excluded", Proto: parsers.TCP, Start: 1430, End: 1440, Administered: adm2}})...)
		fs, _, err := Analyze(t.Context(), in)
		if err != nil {
			t.Fatal(err)
		}
		sessions := BuildSessions(in.Boots)
		fs0 := sessions.At(in.Failures[0].Failure.Time)
		for _, fd := range fs {
			if fd.Port != 1433 || fd.Verdict != ReservedRange {
				continue
			}
			ok := false
			for _, r := range in.Ranges {
				if slices.ContainsFunc(fd.Evidence, func(e Evidence) bool { return e.Artifact == r.Artifact }) &&
					(r.Range.Administered || fs0 >= 0 && sessions.At(r.CapturedAt) == fs0) {
					ok = true
				}
			}
			if !ok {
				t.Errorf("RESERVED_RANGE without a snapshot rests on no range of the failure's boot: %+v", fd.Evidence)
			}
		}
	})
}

// TestRangeOfFailureBootOutweighsOwnerOfAnotherBoot (issue 12, item 1):
// an owner in a snapshot of a later boot does not outweigh an excluded
// range of the failure's boot; with the table in another boot it does.
func TestRangeOfFailureBootOutweighsOwnerOfAnotherBoot(t *testing.T) {
	for _, tt := range []struct {
		name    string
		table   time.Time
		verdict Verdict
		reason  string
	}{
		{"table_of_failure_boot", at(20 * time.Minute), ReservedRange, "so no process could hold it then"},
		{"table_of_later_boot", at(26 * time.Hour), Probable, "PIDs are not comparable across boots"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := dockerNetshOnly(t)
			in.Failures = in.Failures[2:] // SQL Server, 1433 from the catalog
			in.Boots = append(in.Boots, boot12(sysEvtx, at(25*time.Hour), 8900))
			in.Snapshots = []Snapshot{{ID: 1, Artifact: netstat, Format: parsers.FormatNetstat, CapturedAt: at(26 * time.Hour), CaptureSource: parsers.CaptureTimestampLine}}
			in.Owners = &fakeOwners{refs: []SocketRef{listen(1, 5, "0.0.0.0:1433", 2400)}}
			for i := range in.Ranges {
				in.Ranges[i].CapturedAt = tt.table
			}
			fs, _ := analyze(t, in)
			f := findPort(t, fs, parsers.TCP, 1433)
			if f.Verdict != tt.verdict || !hasReason(f, tt.reason) {
				t.Errorf("got %s, want %s with a reason containing %q", f.Verdict, tt.verdict, tt.reason)
				dumpFinding(t, f)
			}
		})
	}
}

// TestFindingErrorStated: a finding of SQL Server's 26023 (whose "Tcp
// port is already in use" is only its wording) carries the error the
// 17182 beside it states, as the verdict reads it.
func TestFindingErrorStated(t *testing.T) {
	in := dockerNetshOnly(t)
	in.Failures = []FailureRef{failure(t, "Application.evtx", &parsers.Event{Provider: "MSSQLSERVER", EventID: 26023, Channel: "Application", Time: at(4 * time.Minute), RecordID: 612,
		Data: []parsers.Field{{Value: "'any'"}, {Value: "ipv4"}, {Value: "1450"}}}),
		sql17182(t, at(4*time.Minute), 613)}
	fs, _ := analyze(t, in)
	f := findPort(t, fs, parsers.TCP, 1450)
	if f.EventID != 26023 || !f.HasError || f.ErrorCode != 10013 {
		t.Errorf("event %d error %d (has %v), want event 26023 with 17182's 10013", f.EventID, f.ErrorCode, f.HasError)
	}
	in.Failures = in.Failures[:1] // 26023 alone: its worded 10048
	fs, _ = analyze(t, in)
	if f := findPort(t, fs, parsers.TCP, 1450); f.ErrorCode != 10048 {
		t.Errorf("26023 alone: error %d, want 10048", f.ErrorCode)
	}
}
