package parsers

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/portmortem/portmortem/parsers/evtxwrite"
)

// TestEVTXLayoutMatchesWriter pins the reader's layout constants to the
// writer's: both packages define them, and the writer's output is this
// reader's oracle.
func TestEVTXLayoutMatchesWriter(t *testing.T) {
	tests := []struct {
		name      string
		got, want any
	}{
		{"file_magic", evtxFileMagic, evtxwrite.FileMagic},
		{"chunk_magic", evtxChunkMagic, evtxwrite.ChunkMagic},
		{"record_magic", evtxRecordMagic, evtxwrite.RecordMagic},
		{"file_header_size", evtxHeaderBlock, evtxwrite.FileHeaderSize},
		{"chunk_size", evtxChunkSize, evtxwrite.ChunkSize},
		{"records_start", evtxRecordsStart, evtxwrite.ChunkHeaderSize},
		{"record_header", evtxRecordHeader, evtxwrite.RecordHeaderSize},
		{"flag_dirty", evtxFlagDirty, evtxwrite.FlagDirty},
		{"token_fragment", evtxTokenFragment, evtxwrite.TokenFragment},
		{"token_template_instance", evtxTokenInstance, evtxwrite.TokenTemplateInstance},
		{"instance_header", evtxInstanceHeader, evtxwrite.InstanceHeaderSize},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: reader %v, writer %v", tt.name, tt.got, tt.want)
		}
	}
}

// TestEVTXReadsWriter writes events of every shape the writer knows and
// reads them back through Read: each comes back as written.
func TestEVTXReadsWriter(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 8, 0, 0, 123456700, time.UTC)
	scm := "Service Control Manager"
	events := []evtxwrite.Event{
		{Channel: "System", Provider: scm, EventSource: scm, ProviderGUID: "{555908d1-a6d7-4695-8e1e-26931d2012f4}",
			EventID: 7023, Qualifiers: 49152, Level: 2, Time: t0, Computer: "SRV01.corp.example",
			Data:   []evtxwrite.Field{{Name: "param1", Value: "Internet Authentication Service"}, {Name: "param2", Value: "%%10048"}},
			Binary: evtxwrite.UTF16Hex("IAS")},
		{Channel: "System", Provider: "EventLog", EventID: 6009, Qualifiers: 32768, Level: 4, Time: t0.Add(time.Second),
			Computer: "SRV01.corp.example", Data: []evtxwrite.Field{{Value: "6.01."}, {Value: "7601"}, {}, {Value: "Multiprocessor Free"}}},
		{Channel: "System", Provider: "Microsoft-Windows-Kernel-General", ProviderGUID: "a68ca8b7-004f-d7b6-a698-07e2de0f1f5d",
			EventID: 12, Level: 4, Time: t0.Add(2 * time.Second), Computer: "SRV01.corp.example",
			Data: []evtxwrite.Field{{Name: "StartTime", Value: "2026-03-02T07:59:40.5Z"}}},
		{Channel: "Application", Provider: "Apache Service", EventID: 3299, Qualifiers: 49152, Level: 2, RecordID: 10,
			Time: t0.Add(3 * time.Second), Computer: "SRV01.corp.example",
			Data: []evtxwrite.Field{{Value: "Größe 🖨\r\n(OS 10048)"}}, Binary: "00ff"},
		{Channel: "System", Provider: "Microsoft-Windows-Dhcp-Client", EventID: 50036, Level: 4, Time: t0.Add(4 * time.Second)},
	}
	data := writerLog(t, events)
	var got []Event
	a, seq := Read(context.Background(), "w.evtx", bytes.NewReader(data), "")
	for rec, err := range seq {
		if err != nil {
			t.Fatal(err)
		}
		if rec.Kind == KindMeta {
			continue // the host the events name
		}
		got = append(got, *rec.Event)
	}
	if a.Format != FormatEVTX || len(got) != len(events) {
		t.Fatalf("read %s with %d events, want evtx with %d", a.Format, len(got), len(events))
	}
	ids := []uint64{1, 2, 3, 10, 11}
	for i, ev := range events {
		want := Event{Channel: ev.Channel, Provider: ev.Provider, ProviderGUID: ev.ProviderGUID, EventSource: ev.EventSource,
			EventID: ev.EventID, Qualifiers: ev.Qualifiers, Level: ev.Level, RecordID: ids[i], Time: ev.Time,
			Computer: ev.Computer, Binary: ev.Binary}
		// What the reader normalises: EventSource only when it differs
		// from Provider, the GUID in braces, Binary in upper case.
		if want.EventSource == want.Provider {
			want.EventSource = ""
		}
		if g := want.ProviderGUID; g != "" && !strings.HasPrefix(g, "{") {
			want.ProviderGUID = "{" + g + "}"
		}
		want.Binary = strings.ToUpper(want.Binary)
		for _, d := range ev.Data {
			want.Data = append(want.Data, Field{Name: d.Name, Value: d.Value})
		}
		g, _ := json.Marshal(got[i])
		wj, _ := json.Marshal(want)
		if !bytes.Equal(g, wj) {
			t.Errorf("event %d:\n got %s\nwant %s", i, g, wj)
		}
	}
}
