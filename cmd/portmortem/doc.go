// Command portmortem finds out, offline, why a Windows service failed to
// start when the cause is a port conflict. It reads what consultants
// collect from customers — netstat, tasklist, Tcpvcon, netsh, PowerShell
// CSV exports and event logs — from directories and archives.
//
// Usage:
//
//	portmortem analyze [flags] BUNDLE...       ingest bundles into SQLite, correlate, write the reports
//	portmortem report [flags] [BUNDLE...]      write the reports again from the database
//	portmortem inspect [flags] PATH...         list every artifact found, with format, encoding and records
//	portmortem synth evtx|netstat|bundles ...  write synthetic artifacts and bundles for benchmarks
//	portmortem version                         print the version
//	portmortem help [COMMAND]                  print help
//
// Exit codes:
//
//	0    the run worked (whatever it found)
//	1    an error stopped the run or a PATH could not be read
//	2    usage error (unknown command or flag, help for an unknown command)
//	3    the run finished but some input could not be parsed, and --strict was given
//	4    analyze --fail-on: a finding has one of the named verdicts
//	130  interrupted (Ctrl-C, SIGINT)
//	143  stopped by SIGTERM
//	129  stopped by SIGHUP
//
// This package is the command line only. Each cmd_<name>.go holds one
// command: its options (a struct with AddFlags and validate) and its run
// function; run.go dispatches and maps errors to exit codes; progress.go
// draws the progress line and keeps it out of the way of what is printed.
// The work is elsewhere: store/ingest runs an analysis, correlate decides
// (decoding, capture times, host facts, verdicts), store keeps the
// database, reports writes the terminal table, the workbook, the page and
// findings.json, and parsers/synth makes synthetic input.
package main
