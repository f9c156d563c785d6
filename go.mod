module github.com/portmortem/portmortem

go 1.26.0

require (
	github.com/0xrawsec/golang-evtx v1.2.9
	github.com/mattn/go-sqlite3 v1.14.53
	github.com/spf13/pflag v1.1.0
	golang.org/x/text v0.44.0
)

require github.com/0xrawsec/golang-utils v1.3.0 // indirect
