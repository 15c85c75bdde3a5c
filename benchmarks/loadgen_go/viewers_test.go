package main

import (
	"bytes"
	"syscall"
	"testing"
)

func serverFrame(opcode byte, payload []byte) []byte {
	head := []byte{0x80 | opcode}
	switch n := len(payload); {
	case n < 126:
		head = append(head, byte(n))
	case n < 1<<16:
		head = append(head, 126, byte(n>>8), byte(n))
	default:
		head = append(head, 127, 0, 0, 0, 0, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(head, payload...)
}

// A stream of frames cut at every size answers each ping once, with its payload, and stops at a close.
func TestPolledViewerAnswersPingsWhereverTheStreamIsCut(t *testing.T) {
	stream := bytes.Join([][]byte{
		serverFrame(0x1, bytes.Repeat([]byte("a"), 300)),
		serverFrame(0x9, []byte("p1")),
		serverFrame(0x1, bytes.Repeat([]byte("b"), 70000)),
		serverFrame(0x9, nil),
		serverFrame(0x1, []byte("{}")),
	}, nil)
	pongs := append(clientFrame(0xA, []byte("p1")), clientFrame(0xA, nil)...)
	for _, cut := range []int{1, 2, 3, 7, 125, 4096, len(stream)} {
		pair, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
		if err != nil {
			t.Fatal(err)
		}
		v := &polledViewer{fd: pair[0], target: ticketBlue("1")}
		for start := 0; start < len(stream); start += cut {
			if !v.feed(stream[start:min(start+cut, len(stream))]) {
				t.Fatalf("cut %d: stopped early", cut)
			}
		}
		if v.feed(serverFrame(0x8, nil)) {
			t.Fatalf("cut %d: a close frame did not stop it", cut)
		}
		got := make([]byte, 1024)
		n, _ := syscall.Read(pair[1], got)
		if !bytes.Equal(got[:n], pongs) {
			t.Fatalf("cut %d: wrote %q, want %q", cut, got[:n], pongs)
		}
		syscall.Close(pair[0])
		syscall.Close(pair[1])
	}
}

// Centrifugo's ping is an empty object on a line of its own, alone or among pushes.
func TestPolledViewerAnswersCentrifugoPings(t *testing.T) {
	pair, _ := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	defer syscall.Close(pair[0])
	defer syscall.Close(pair[1])
	v := &polledViewer{fd: pair[0], target: centrifugo("seats")}
	v.feed(serverFrame(0x1, []byte("{\"push\":{}}\n{}")))
	v.feed(serverFrame(0x1, []byte("{\"push\":{}}")))
	got := make([]byte, 1024)
	n, _ := syscall.Read(pair[1], got)
	if want := textFrame([]byte("{}")); !bytes.Equal(got[:n], want) {
		t.Fatalf("wrote %q, want %q", got[:n], want)
	}
}
