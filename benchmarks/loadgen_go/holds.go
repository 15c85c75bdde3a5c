package main

// Hold+release over the WebSocket for benchmarks/holds, the same load as `python -m benchmarks.loadgen`
// in "ws" mode: each user holds its own seat and releases it in a closed loop, timing each command
// from its send to its hold_result. Every frame in between (the deltas of everybody's holds) is
// read and skipped without being parsed. Spec on stdin and result on stdout as benchmarks/loadgen.py.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"sync"
	"time"
)

type holdSpec struct {
	URLs    []string             `json:"urls"`
	RoundID int                  `json:"round_id"`
	Users   [][2]json.RawMessage `json:"users"` // [token, seat_id]
	Seconds float64              `json:"seconds"`
}

type holdResult struct {
	HoldMs    []float64      `json:"hold_ms"`
	ReleaseMs []float64      `json:"release_ms"`
	Outcomes  map[string]int `json:"outcomes"`
	Seconds   float64        `json:"seconds"`
}

type outcome struct {
	kind string
	ms   float64
	ok   bool
	err  string
}

func holdUser(address string, round int, token string, seat json.RawMessage, until time.Time, out chan<- outcome) {
	conn, reader, err := dialSocket(address, fmt.Sprintf("/ws/rounds/%d?token=%s", round, url.QueryEscape(token)))
	if err != nil {
		out <- outcome{kind: "error", err: "connect"}
		return
	}
	defer conn.Close()
	payload := make([]byte, 0, 4096)
	for req := 1; time.Now().Before(until); req++ {
		kind := "hold"
		if req%2 == 0 {
			kind = "release"
		}
		command := fmt.Sprintf(`{"type":%q,"req":%d,"seat_ids":[%s]}`, kind, req, seat)
		answer := []byte(fmt.Sprintf(`"req":%d,`, req))
		started := time.Now()
		if _, err := conn.Write(textFrame([]byte(command))); err != nil {
			out <- outcome{kind: "error", err: "write"}
			return
		}
		for {
			var opcode byte
			payload, opcode, err = readFrame(reader, payload)
			if err != nil || opcode == 8 {
				out <- outcome{kind: "error", err: "closed"}
				return
			}
			if bytes.Contains(payload, []byte(`"hold_result"`)) && bytes.Contains(payload, answer) {
				break
			}
		}
		result := outcome{kind: kind, ms: float64(time.Since(started).Microseconds()) / 1000,
			ok: bytes.Contains(payload, []byte(`"ok":true`))}
		if !result.ok {
			var frame struct {
				Error struct{ Code string } `json:"error"`
			}
			json.Unmarshal(payload, &frame)
			result.err = frame.Error.Code
		}
		out <- result
	}
}

func wsHolds() {
	var spec holdSpec
	if err := json.NewDecoder(os.Stdin).Decode(&spec); err != nil {
		fmt.Fprintln(os.Stderr, "bad spec:", err)
		os.Exit(2)
	}
	result := holdResult{HoldMs: []float64{}, ReleaseMs: []float64{}, Outcomes: map[string]int{}}
	outcomes := make(chan outcome, 4096)
	collected := make(chan struct{})
	go func() {
		for o := range outcomes {
			switch {
			case o.kind == "error":
				result.Outcomes["error "+o.err]++
				continue
			case o.kind == "hold":
				result.HoldMs = append(result.HoldMs, o.ms)
			default:
				result.ReleaseMs = append(result.ReleaseMs, o.ms)
			}
			if o.ok {
				result.Outcomes[o.kind+" ok"]++
			} else {
				result.Outcomes[o.kind+" "+o.err]++
			}
		}
		close(collected)
	}()
	started := time.Now()
	until := started.Add(time.Duration(spec.Seconds * float64(time.Second)))
	var users sync.WaitGroup
	for i, user := range spec.Users {
		var token string
		json.Unmarshal(user[0], &token)
		address, _ := url.Parse(spec.URLs[i%len(spec.URLs)])
		users.Add(1)
		go func(address, token string, seat json.RawMessage) {
			defer users.Done()
			holdUser(address, spec.RoundID, token, seat, until, outcomes)
		}(address.Host, token, user[1])
	}
	users.Wait()
	result.Seconds = time.Since(started).Seconds()
	close(outcomes)
	<-collected
	json.NewEncoder(os.Stdout).Encode(result)
}
