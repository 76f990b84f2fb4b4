package harness

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/domac/crddemo/internal/porthold"
)

const (
	// proxyDialTimeout bounds a dial to the target, which on loopback
	// either answers at once or refuses.
	proxyDialTimeout = 5 * time.Second
	// acceptRetry is how long the proxy waits after a failed Accept that
	// was not its own closing, such as one for lack of file descriptors.
	acceptRetry = 10 * time.Millisecond
)

// Proxy forwards TCP connections from a loopback port to a target, such as
// the API server, so that a test can cut one client, such as crddemo, off
// the API server while the API server keeps running for everyone else. It
// passes the bytes through untouched, TLS included: a client that trusts the
// target's certificate trusts it through the proxy, as long as the
// certificate names the proxy's address, 127.0.0.1, as envtest's API server
// certificate does.
type Proxy struct {
	addr   string
	target string
	// ctx ends when the proxy closes; it bounds the dials to the target.
	ctx    context.Context
	cancel context.CancelFunc
	// running counts the goroutines that Close waits for.
	running sync.WaitGroup

	// latency is how long each byte waits in the proxy, in nanoseconds.
	latency atomic.Int64

	mu       sync.Mutex
	listener net.Listener   // nil while cut and once closed
	held     *porthold.Port // holds addr while cut
	closed   bool
	links    map[*link]struct{}
}

// link is a client's connection and, once dialed, the proxy's connection to
// the target on its behalf.
type link struct {
	client, server net.Conn
}

// StartProxy listens on a free loopback port and forwards every connection
// made to it to target, a host:port. The proxy closes, as by Close, when ctx
// ends.
func StartProxy(ctx context.Context, target string) (*Proxy, error) {
	var config net.ListenConfig
	listener, err := config.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("starting a proxy to %s: %w", target, err)
	}
	p := &Proxy{
		addr:     listener.Addr().String(),
		target:   target,
		listener: listener,
		links:    map[*link]struct{}{},
	}
	p.ctx, p.cancel = context.WithCancel(ctx)
	p.running.Add(2)
	go p.serve(listener)
	context.AfterFunc(p.ctx, func() {
		defer p.running.Done()
		p.shutdown()
	})
	return p, nil
}

// Addr is the proxy's host:port, such as 127.0.0.1:41234, for a client to
// connect to instead of the target. It stays the same across Cut and
// Restore.
func (p *Proxy) Addr() string {
	return p.addr
}

// Cut drops every connection through the proxy at once, with a reset, and
// refuses new ones until Restore, as a stopped server would: a client sees
// its requests fail and its reconnects refused, while the target serves
// everyone else. Cutting a cut proxy does nothing.
//
// The proxy stops listening meanwhile but keeps its port (see porthold), so
// that no other program takes it before Restore.
func (p *Proxy) Cut() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return errors.New("cutting a closed proxy")
	}
	if p.listener == nil {
		return nil
	}
	// The port can be held only once nothing listens on it.
	_ = p.listener.Close() // its accept loop ends with net.ErrClosed
	p.listener = nil
	p.dropLinks()
	held, err := porthold.Take(p.addr)
	if err != nil {
		return fmt.Errorf("cutting the proxy at %s: %w", p.addr, err)
	}
	p.held = held
	return nil
}

// Restore makes the proxy accept and forward connections again after Cut.
// Restoring a proxy that is not cut does nothing.
func (p *Proxy) Restore() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return errors.New("restoring a closed proxy")
	}
	if p.listener != nil {
		return nil
	}
	// Listening while the port is still held leaves it free at no moment.
	var config net.ListenConfig
	listener, err := config.Listen(p.ctx, "tcp", p.addr)
	if err != nil {
		return fmt.Errorf("restoring the proxy at %s: %w", p.addr, err)
	}
	// The socket that held the port is closed whatever Release says.
	_ = p.held.Release()
	p.held = nil
	p.listener = listener
	p.running.Add(1)
	go p.serve(listener)
	return nil
}

// Close drops every connection, stops listening and releases the port, and
// returns once every goroutine of the proxy has ended. It is safe to call
// more than once. Errors from closing sockets are ignored: there is nothing
// left to do about them.
func (p *Proxy) Close() {
	p.cancel()
	p.running.Wait()
}

// shutdown does the work of Close, once the proxy's ctx has ended.
func (p *Proxy) shutdown() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	if p.listener != nil {
		_ = p.listener.Close()
		p.listener = nil
	}
	_ = p.held.Release()
	p.held = nil
	p.dropLinks()
}

// dropLinks resets every connection through the proxy, with p.mu held.
func (p *Proxy) dropLinks() {
	for l := range p.links {
		abort(l.client)
		if l.server != nil {
			abort(l.server)
		}
	}
	clear(p.links)
}

// serve accepts connections on listener until it is closed.
func (p *Proxy) serve(listener net.Listener) {
	defer p.running.Done()
	for {
		client, err := listener.Accept()
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			select {
			case <-p.ctx.Done():
				return
			case <-time.After(acceptRetry):
				continue
			}
		}
		p.running.Add(1)
		go p.forward(client)
	}
}

// forward connects client to the target and copies bytes both ways until
// both sides are done, or the proxy is cut or closed.
func (p *Proxy) forward(client net.Conn) {
	defer p.running.Done()
	l := &link{client: client}
	if !p.add(l) {
		abort(client)
		return
	}
	var dialer net.Dialer
	ctx, cancel := context.WithTimeout(p.ctx, proxyDialTimeout)
	server, err := dialer.DialContext(ctx, "tcp", p.target)
	cancel()
	if err != nil {
		// The client sees a reset, the nearest a proxy can give to the
		// refusal it would have had from the target itself.
		p.remove(l)
		abort(client)
		return
	}
	if !p.attach(l, server) { // cut or closed while dialing
		abort(server)
		return
	}

	done := make(chan struct{})
	go func() {
		defer close(done)
		p.pipe(server, client)
	}()
	p.pipe(client, server)
	<-done
	p.remove(l)
	_ = client.Close()
	_ = server.Close()
}

// add registers l, unless the proxy is cut or closed: a connection accepted
// just before is refused all the same.
func (p *Proxy) add(l *link) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || p.listener == nil {
		return false
	}
	p.links[l] = struct{}{}
	return true
}

// attach records l's connection to the target, unless l was dropped.
func (p *Proxy) attach(l *link, server net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.links[l]; !ok {
		return false
	}
	l.server = server
	return true
}

func (p *Proxy) remove(l *link) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.links, l)
}

// SetLatency makes every byte through the proxy, either way, arrive latency
// after it was sent, as over a slow link; 0 passes bytes on at once again.
// It holds for bytes sent from then on, on every connection.
func (p *Proxy) SetLatency(latency time.Duration) {
	p.latency.Store(int64(latency))
}

// chunk is bytes read from one side of a link, due on the other side at due.
type chunk struct {
	data []byte
	due  time.Time
}

// pipe copies src to dst, each byte the proxy's latency after it was read.
// When src ends cleanly, it passes the end on by closing dst for writing
// only, so that a client that half-closes still reads the rest of the
// answer. When either side fails, it resets both, as the failure would have
// reached the other end without a proxy.
func (p *Proxy) pipe(dst, src net.Conn) {
	chunks := make(chan chunk, 64)
	var readErr error
	go func() {
		defer close(chunks)
		for {
			buf := make([]byte, 32*1024)
			n, err := src.Read(buf)
			if n > 0 {
				chunks <- chunk{data: buf[:n], due: time.Now().Add(time.Duration(p.latency.Load()))}
			}
			if err != nil {
				readErr = err
				return
			}
		}
	}()
	for c := range chunks {
		time.Sleep(time.Until(c.due))
		if _, err := dst.Write(c.data); err != nil {
			abort(dst)
			abort(src)
			for range chunks { // until the reader sees the reset
			}
			return
		}
	}
	// The reader has returned: chunks is closed only after readErr is set.
	if !errors.Is(readErr, io.EOF) {
		abort(dst)
		abort(src)
		return
	}
	if tcp, ok := dst.(*net.TCPConn); ok {
		_ = tcp.CloseWrite()
	}
}

// abort closes conn with a reset rather than an orderly close, so that its
// peer fails at once, as against a vanished server, and no TIME_WAIT is left
// behind by tests that cut connections again and again.
func abort(conn net.Conn) {
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = conn.Close()
}
