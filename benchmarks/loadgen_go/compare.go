package main

// The probes and the driver of benchmarks/compare, the same for Ticket Blue and Centrifugo:
//
//	loadgen probe-drive < SPEC_JSON
//
// Connects `probes` viewers that parse every frame, prints "ready", and on a "go" line on stdin
// makes `rate` seat changes a second for `seconds`: hold the next seat, and once `held` seats are
// held, release the oldest for each new hold. Ticket Blue gets them as hold/release commands over
// a WebSocket of a signed-in user (its real write path, Redis included); Centrifugo as publications
// of {"changes": [[seat, state]]} through its HTTP API (it keeps no seats). Each change is timed
// from just before it is sent to its first arrival at each probe. After the last change the
// probes are given `grace_seconds` to receive them all; what has not arrived by then counts as lost.
// Prints one JSON result line, and exits on the next line ("quit").

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"time"
)

type probeSpec struct {
	Server       string   `json:"server"` // "ticketblue" or "centrifugo"
	Addrs        []string `json:"addrs"`  // probes are dealt over these host:ports
	Round        string   `json:"round"`  // Ticket Blue: the round; Centrifugo: the channel
	DriverPath   string   `json:"driver_path"`
	DriverConns  int      `json:"driver_sockets"` // Ticket Blue: the changes are dealt over this many sockets
	PublishURL   string   `json:"publish_url"`
	SeatIDs      []int    `json:"seat_ids"`
	Rate         float64  `json:"rate"`
	Seconds      float64  `json:"seconds"`
	Probes       int      `json:"probes"`
	Held         int      `json:"held"`
	GraceSeconds float64  `json:"grace_seconds"`
}

type change struct {
	seat  int
	state string
}

// A probe notes when each change first reached it.
type probe struct {
	mu        sync.Mutex
	seen      map[change]time.Time
	frames    int
	snapshots int // Ticket Blue's: the first, and one more each time the server resynced this viewer
}

func (p *probe) read(t target, addr string) error {
	conn, reader, err := t.dial(addr)
	if err != nil {
		return err
	}
	go func() {
		defer conn.Close()
		payload := make([]byte, 0, 4096)
		for {
			var opcode byte
			payload, opcode, err = readFrame(reader, payload)
			if err != nil || opcode == 0x8 || t.keepAlive(conn, opcode, payload) != nil {
				return
			}
			if opcode == 0x1 {
				p.note(time.Now(), payload)
			}
		}
	}()
	return nil
}

// A frame of the seat map ({"type": "delta", "changes": [[seat, state], ...]}), or Centrifugo's
// lines ({"push": {"pub": {"data": {"changes": ...}}}}).
type arrival struct {
	Type    string   `json:"type"`
	Changes [][2]any `json:"changes"`
	Push    *struct {
		Pub struct {
			Data struct {
				Changes [][2]any `json:"changes"`
			} `json:"data"`
		} `json:"pub"`
	} `json:"push"`
}

func (p *probe) note(now time.Time, payload []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, line := range bytes.Split(payload, []byte("\n")) {
		var a arrival
		if json.Unmarshal(line, &a) != nil {
			continue
		}
		changes := a.Changes
		if a.Type == "snapshot" {
			p.snapshots++
			continue
		}
		if a.Push != nil {
			changes = a.Push.Pub.Data.Changes
		} else if a.Type != "delta" {
			continue
		}
		p.frames++
		for _, c := range changes {
			seat, _ := c[0].(float64)
			state, _ := c[1].(string)
			key := change{int(seat), state}
			if _, ok := p.seen[key]; !ok {
				p.seen[key] = now
			}
		}
	}
}

func (p *probe) has(c change) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.seen[c]
	return ok
}

// A driver sends one change.
type driver func(c change) error

// Ticket Blue's changes are holds and releases over `sockets` WebSockets of one signed-in user, a
// seat's always over the same one (its release follows its hold): an on-sale's changes come from many
// people at once, and one socket's commands are answered in turn.
func ticketBlueDriver(addr, path string, sockets int) (driver, error) {
	conns := make([]net.Conn, max(sockets, 1))
	locks := make([]sync.Mutex, len(conns))
	for i := range conns {
		conn, reader, err := dialSocket(addr, path)
		if err != nil {
			return nil, err
		}
		conns[i] = conn
		go func() { // hold results and deltas, read and dropped; pings answered
			payload := make([]byte, 0, 4096)
			for {
				var opcode byte
				payload, opcode, err = readFrame(reader, payload)
				if err != nil || opcode == 0x8 || ticketBlue("").keepAlive(conn, opcode, payload) != nil {
					return
				}
			}
		}()
	}
	return func(c change) error {
		kind := "hold"
		if c.state == "available" {
			kind = "release"
		}
		i := c.seat % len(conns)
		locks[i].Lock()
		defer locks[i].Unlock()
		_, err := conns[i].Write(textFrame([]byte(fmt.Sprintf(`{"type":%q,"seat_ids":[%d]}`, kind, c.seat))))
		return err
	}, nil
}

func centrifugoDriver(url, channel string) driver {
	client := &http.Client{Timeout: 60 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	return func(c change) error {
		body := fmt.Sprintf(`{"channel":%q,"data":{"changes":[[%d,%q]]}}`, channel, c.seat, c.state)
		go func() { // a publish waits for Centrifugo's fan-out; the next change does not wait for it
			response, err := client.Post(url, "application/json", bytes.NewBufferString(body))
			if err == nil {
				response.Body.Close()
			}
		}()
		return nil
	}
}

type probeResult struct {
	LatenciesMs []float64 `json:"latencies_ms"`
	Lost        int       `json:"lost"`
	Changes     int       `json:"changes"`
	Seconds     float64   `json:"seconds"`
	Frames      float64   `json:"frames_per_probe"`
	Resyncs     int       `json:"resyncs"` // snapshots the probes got after their first
	Error       string    `json:"error,omitempty"`
}

func fail(message string, err error) {
	json.NewEncoder(os.Stdout).Encode(probeResult{Error: fmt.Sprintf("%s: %v", message, err)})
	os.Exit(1)
}

func probeDrive() {
	var spec probeSpec
	if err := json.NewDecoder(os.Stdin).Decode(&spec); err != nil {
		fmt.Fprintln(os.Stderr, "bad spec:", err)
		os.Exit(2)
	}
	t, send := ticketBlue(spec.Round), driver(nil)
	var err error
	if spec.Server == "centrifugo" {
		t, send = centrifugo(spec.Round), centrifugoDriver(spec.PublishURL, spec.Round)
	} else if send, err = ticketBlueDriver(spec.Addrs[0], spec.DriverPath, spec.DriverConns); err != nil {
		fail("driver", err)
	}
	probes := make([]*probe, spec.Probes)
	for i := range probes {
		probes[i] = &probe{seen: map[change]time.Time{}}
		if err := probes[i].read(t, spec.Addrs[i%len(spec.Addrs)]); err != nil {
			fail("probe", err)
		}
	}
	fmt.Println("ready")
	stdin := bufio.NewScanner(os.Stdin)
	if !stdin.Scan() || stdin.Text() != "go" {
		os.Exit(0)
	}
	started := time.Now()
	changes, sentAt := []change{}, map[change]time.Time{}
	var held []int
	for n, cursor := 0, 0; n < int(spec.Rate*spec.Seconds); n++ {
		time.Sleep(time.Until(started.Add(time.Duration(float64(n) / spec.Rate * float64(time.Second)))))
		var c change
		if len(held) < spec.Held {
			c = change{spec.SeatIDs[cursor%len(spec.SeatIDs)], "held"}
			cursor++
			held = append(held, c.seat)
		} else {
			c = change{held[0], "available"}
			held = held[1:]
		}
		sentAt[c] = time.Now()
		changes = append(changes, c)
		if err := send(c); err != nil {
			fail("send", err)
		}
	}
	// Until every probe has every change, not just the last one sent: the server may apply a change
	// after one sent later (they come over several sockets, and with --workers to several processes).
	deadline := time.Now().Add(time.Duration(spec.GraceSeconds * float64(time.Second)))
	for time.Now().Before(deadline) && !allHave(probes, changes) {
		time.Sleep(10 * time.Millisecond) // polling the probes' maps, not pacing the server
	}
	result := probeResult{LatenciesMs: []float64{}, Changes: len(changes), Seconds: time.Since(started).Seconds()}
	for _, p := range probes {
		p.mu.Lock()
		for _, c := range changes {
			if at, ok := p.seen[c]; ok {
				result.LatenciesMs = append(result.LatenciesMs, float64(at.Sub(sentAt[c]).Microseconds())/1000)
			} else {
				result.Lost++
			}
		}
		result.Frames += float64(p.frames) / float64(len(probes))
		result.Resyncs += max(p.snapshots-1, 0)
		p.mu.Unlock()
	}
	json.NewEncoder(os.Stdout).Encode(result)
	stdin.Scan() // until "quit": the caller reads this process's CPU time first
}

func allHave(probes []*probe, changes []change) bool {
	for _, p := range probes {
		for _, c := range changes {
			if !p.has(c) {
				return false
			}
		}
	}
	return true
}
