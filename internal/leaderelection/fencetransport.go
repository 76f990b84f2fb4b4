package leaderelection

import (
	"fmt"
	"net/http"
)

// FenceTransport wraps rt, the transport of the clients that write under
// Run's writeCtx, so that each request made under a fence's context is
// checked against the fence's deadline when it is sent, not only by the
// fence's timer (see fence.allowsSend). Other requests, such as the
// informer's, pass unchecked. It fits rest.Config's Wrap.
func FenceTransport(rt http.RoundTripper) http.RoundTripper {
	return fencedTransport{next: rt}
}

type fencedTransport struct {
	next http.RoundTripper
}

func (t fencedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if f, ok := fenceOf(req.Context()); ok {
		if err := f.allowsSend(); err != nil {
			// RoundTrip must close the body, even when it sends nothing.
			if req.Body != nil {
				req.Body.Close()
			}
			return nil, fmt.Errorf("not sending %s %s: %w", req.Method, req.URL.Path, err)
		}
	}
	return t.next.RoundTrip(req)
}
