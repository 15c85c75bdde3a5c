// Load generators for the benchmarks, in Go so that they cost little CPU: the server they measure
// shares this machine's two cores with them (the Python ones in benchmarks/ do the same work, slower).
//
//	loadgen viewers [--centrifugo] PORT ROUND_ID|CHANNEL COUNT   counting viewers (benchmarks/fanout and
//	                                      compare; see viewers.go)
//	loadgen probe-drive < SPEC_JSON       timing probes and the driver of benchmarks/compare (compare.go)
//	loadgen ws-holds < SPEC_JSON          hold+release over the WebSocket (benchmarks/holds; see holds.go)
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: loadgen viewers [--centrifugo] PORT ROUND_ID|CHANNEL COUNT | probe-drive | ws-holds < SPEC_JSON")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "viewers":
		viewers(os.Args[2:])
	case "probe-drive":
		probeDrive()
	case "ws-holds":
		wsHolds()
	default:
		fmt.Fprintln(os.Stderr, "unknown command", os.Args[1])
		os.Exit(2)
	}
}
