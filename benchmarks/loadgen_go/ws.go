package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
)

// dialSocket opens a WebSocket to PATH on ADDR (host:port) and returns the connection and a reader
// positioned after the upgrade response (which may already hold the first frames).
func dialSocket(addr, path string) (net.Conn, *bufio.Reader, error) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, nil, err
	}
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", path, addr)
	reader := bufio.NewReaderSize(conn, 64*1024)
	status, err := reader.ReadString('\n')
	if err != nil || len(status) < 12 || status[9:12] != "101" {
		conn.Close()
		return nil, nil, fmt.Errorf("no upgrade: %q %v", status, err)
	}
	for {
		line, err := reader.ReadString('\n')
		if err != nil {
			conn.Close()
			return nil, nil, err
		}
		if line == "\r\n" {
			return conn, reader, nil
		}
	}
}

// readFrame returns the payload of the next server frame (server frames are never masked) and its
// opcode.
func readFrame(reader *bufio.Reader, payload []byte) ([]byte, byte, error) {
	var head [10]byte
	if _, err := io.ReadFull(reader, head[:2]); err != nil {
		return nil, 0, err
	}
	n := headerLength(head[1])
	if _, err := io.ReadFull(reader, head[2:n]); err != nil {
		return nil, 0, err
	}
	opcode, size := head[0]&0x0f, payloadSize(head[:n])
	if size > 16<<20 {
		return nil, 0, errors.New("frame too large")
	}
	if uint64(cap(payload)) < size {
		payload = make([]byte, size)
	}
	payload = payload[:size]
	_, err := io.ReadFull(reader, payload)
	return payload, opcode, err
}

// headerLength is the length of a server frame's header, from its second byte (RFC 6455 5.2: a
// 16-bit or a 64-bit extended length follows the first two bytes when their 7-bit one says so).
func headerLength(second byte) int {
	switch second & 0x7f {
	case 126:
		return 4
	case 127:
		return 10
	}
	return 2
}

// payloadSize is the payload length a server frame's whole header (`head`) gives.
func payloadSize(head []byte) uint64 {
	switch len(head) {
	case 4:
		return uint64(binary.BigEndian.Uint16(head[2:4]))
	case 10:
		return binary.BigEndian.Uint64(head[2:10])
	}
	return uint64(head[1] & 0x7f)
}

// textFrame is a client text frame: masked, as RFC 6455 requires (with a zero mask: the bytes
// stay as they are, the server unmasks all the same).
func textFrame(payload []byte) []byte {
	return clientFrame(0x1, payload)
}

// clientFrame is a final client frame of `opcode` (0x1 text, 0xA pong), masked as textFrame's.
func clientFrame(opcode byte, payload []byte) []byte {
	var frame bytes.Buffer
	frame.WriteByte(0x80 | opcode)
	switch n := len(payload); {
	case n < 126:
		frame.WriteByte(0x80 | byte(n))
	default:
		frame.WriteByte(0x80 | 126)
		binary.Write(&frame, binary.BigEndian, uint16(n))
	}
	frame.Write([]byte{0, 0, 0, 0})
	frame.Write(payload)
	return frame.Bytes()
}

// A server the harness measures: Ticket Blue's seat map, or Centrifugo with one channel. What its
// viewers connect to, what they say first, and how they keep the connection alive.
type target struct {
	path       string
	hello      []byte // sent once after the upgrade (Centrifugo's connect and subscribe), or nil
	centrifugo bool
}

func ticketBlue(round string) target {
	return target{path: "/ws/rounds/" + round}
}

// Centrifugo's JSON protocol: commands one per line, answered by replies and pushes one per line.
// An anonymous connect (allowed by the benchmark's config) and a subscribe to the channel.
func centrifugo(channel string) target {
	hello := fmt.Sprintf("{\"id\":1,\"connect\":{}}\n{\"id\":2,\"subscribe\":{\"channel\":%q}}", channel)
	return target{path: "/connection/websocket", hello: []byte(hello), centrifugo: true}
}

// dial opens a viewer's connection and says hello.
func (t target) dial(addr string) (net.Conn, *bufio.Reader, error) {
	conn, reader, err := dialSocket(addr, t.path)
	if err == nil && t.hello != nil {
		if _, err = conn.Write(textFrame(t.hello)); err != nil {
			conn.Close()
		}
	}
	return conn, reader, err
}

// keepAlive answers what a server sends to see the viewer is still there (see keepAliveReply).
func (t target) keepAlive(conn net.Conn, opcode byte, payload []byte) error {
	if reply := t.keepAliveReply(opcode, payload); reply != nil {
		_, err := conn.Write(reply)
		return err
	}
	return nil
}

// keepAliveReply is the answer to a frame that asks whether the viewer is still there, or nil: a
// WebSocket ping (Ticket Blue, aiohttp's heartbeat) or Centrifugo's application-level ping, an empty
// object on a line of its own. A viewer that did not answer would be closed mid-run.
func (t target) keepAliveReply(opcode byte, payload []byte) []byte {
	if opcode == 0x9 {
		return clientFrame(0xA, payload)
	}
	if t.centrifugo && opcode == 0x1 {
		for _, line := range bytes.Split(payload, []byte("\n")) {
			if string(line) == "{}" {
				return textFrame(line)
			}
		}
	}
	return nil
}
