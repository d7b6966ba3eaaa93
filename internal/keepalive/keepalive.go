// Package keepalive is an HTTP/1.1 client for tests of what a server does with one
// connection: a request, its answer, the next request on the same connection. Unlike
// net/http's client it never retries and never opens a connection on its own, so a request
// the server drops shows up as lost instead of being sent again.
package keepalive

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// exchangeTimeout bounds one request and its answer.
const exchangeTimeout = 10 * time.Second

// Conn is one client connection.
type Conn struct {
	conn net.Conn
	r    *bufio.Reader
}

// Dial connects to addr, from the local IP local unless it is empty.
func Dial(local, addr string) (*Conn, error) {
	d := net.Dialer{Timeout: 2 * time.Second}
	if local != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(local)}
	}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	return &Conn{conn: c, r: bufio.NewReader(c)}, nil
}

// Do sends one request (headers in name/value pairs; a body is sent as JSON) and reads its
// whole answer, which it returns with the request as it went on the wire. The answer's body
// stays readable. An error means the request went out on an open connection and got no
// answer.
func (k *Conn) Do(method, path, body string, headers ...string) (request string, resp *http.Response, err error) {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: accounts.test\r\n", method, path)
	for i := 0; i+1 < len(headers); i += 2 {
		fmt.Fprintf(&b, "%s: %s\r\n", headers[i], headers[i+1])
	}
	switch {
	case body != "":
		fmt.Fprintf(&b, "Content-Type: application/json\r\nContent-Length: %d\r\n", len(body))
	case method != http.MethodGet:
		b.WriteString("Content-Length: 0\r\n")
	}
	b.WriteString("\r\n" + body)
	request = b.String()
	_ = k.conn.SetDeadline(time.Now().Add(exchangeTimeout))
	if _, err := io.WriteString(k.conn, request); err != nil {
		return request, nil, err
	}
	resp, err = http.ReadResponse(k.r, nil)
	if err != nil {
		return request, nil, err
	}
	answer, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(answer))
	return request, resp, err
}

// ClosedByServer reports whether the server closes the connection within d, without
// sending anything more.
func (k *Conn) ClosedByServer(d time.Duration) bool {
	_ = k.conn.SetReadDeadline(time.Now().Add(d))
	_, err := k.r.ReadByte()
	return err == io.EOF
}

// Close closes the connection.
func (k *Conn) Close() error { return k.conn.Close() }
