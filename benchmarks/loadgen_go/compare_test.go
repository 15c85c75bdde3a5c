package main

import (
	"testing"
	"time"
)

// A probe times the changes of deltas (one payload may hold several lines) and of Centrifugo's pushes,
// and counts Ticket Blue's snapshots instead of reading changes out of them.
func TestProbeNotesDeltasAndCountsSnapshots(t *testing.T) {
	p := &probe{seen: map[change]time.Time{}}
	at := time.Unix(100, 0)
	p.note(at, []byte(`{"type":"snapshot","seq":1,"seats":{"available":[1,2],"held":[]}}`))
	p.note(at, []byte(`{"type":"delta","seq":2,"changes":[[1,"held"]]}`+"\n"+`{"type":"delta","seq":3,"changes":[[2,"held"]]}`))
	p.note(at.Add(time.Second), []byte(`{"type":"delta","seq":4,"changes":[[1,"held"]]}`))
	p.note(at, []byte(`{"type":"snapshot","seq":4,"seats":{"available":[],"held":[1,2]}}`))
	p.note(at, []byte(`{"push":{"pub":{"data":{"changes":[[3,"available"]]}}}}`))
	if p.snapshots != 2 || p.frames != 4 {
		t.Fatalf("snapshots %d, frames %d; want 2 and 4", p.snapshots, p.frames)
	}
	for _, c := range []change{{1, "held"}, {2, "held"}, {3, "available"}} {
		if !p.has(c) {
			t.Errorf("%v not noted", c)
		}
	}
	if p.has(change{1, "available"}) || !p.seen[change{1, "held"}].Equal(at) {
		t.Errorf("a snapshot's seats were noted, or a later arrival replaced the first: %v", p.seen)
	}
}

// The wait after the drive ends when every probe has every change: a probe that has the last change
// sent may still be waiting for an earlier one the server applied after it.
func TestAllHaveWaitsForEveryChange(t *testing.T) {
	first, last := change{1, "held"}, change{2, "held"}
	p, q := &probe{seen: map[change]time.Time{}}, &probe{seen: map[change]time.Time{}}
	p.note(time.Now(), []byte(`{"type":"delta","changes":[[1,"held"],[2,"held"]]}`))
	q.note(time.Now(), []byte(`{"type":"delta","changes":[[2,"held"]]}`))
	if allHave([]*probe{p, q}, []change{first, last}) {
		t.Fatal("a probe without the first change counted as having them all")
	}
	q.note(time.Now(), []byte(`{"type":"delta","changes":[[1,"held"]]}`))
	if !allHave([]*probe{p, q}, []change{first, last}) {
		t.Fatal("probes with every change not counted as having them")
	}
}
