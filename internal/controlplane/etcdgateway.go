package controlplane

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// etcdGateway calls etcd's gRPC API through the JSON gateway that etcd
// serves on its client URL (--enable-grpc-gateway, on by default), with
// plain net/http: the few calls the tests make need no etcd client module.
// envtest's etcd listens on plain HTTP on loopback.
type etcdGateway struct {
	url    string // such as http://127.0.0.1:2379
	client *http.Client
}

// etcdHeader is the header of every etcd response. The gateway writes
// 64-bit integers as JSON strings, as protobuf's JSON mapping does.
type etcdHeader struct {
	Revision int64 `json:"revision,string"`
}

// etcdError is the body of a failed call: the gRPC status as JSON.
type etcdError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func (e *etcdError) Error() string {
	return fmt.Sprintf("etcd: %s (gRPC code %d)", e.Message, e.Code)
}

// call POSTs request as JSON to path, such as /v3/kv/range, and decodes the
// answer into response. A failed call's error is an *etcdError.
func (g etcdGateway) call(ctx context.Context, path string, request, response any) error {
	body, err := json.Marshal(request)
	if err != nil {
		return fmt.Errorf("encoding the request to etcd's %s: %w", path, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(g.url, "/")+path, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("calling etcd's %s: %w", path, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := g.client.Do(req)
	if err != nil {
		return fmt.Errorf("calling etcd's %s: %w", path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("reading the answer of etcd's %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		failure := &etcdError{}
		if err := json.Unmarshal(data, failure); err != nil || failure.Message == "" {
			return fmt.Errorf("calling etcd's %s: status %d: %s", path, resp.StatusCode, bytes.TrimSpace(data))
		}
		return fmt.Errorf("calling etcd's %s: %w", path, failure)
	}
	if err := json.Unmarshal(data, response); err != nil {
		return fmt.Errorf("decoding the answer of etcd's %s: %w", path, err)
	}
	return nil
}

// put writes value under key and returns the revision of the write.
func (g etcdGateway) put(ctx context.Context, key, value string) (int64, error) {
	// []byte fields are base64 in JSON, as the gateway wants keys and values.
	request := map[string]any{"key": []byte(key), "value": []byte(value)}
	var response struct{ Header etcdHeader }
	if err := g.call(ctx, "/v3/kv/put", request, &response); err != nil {
		return 0, err
	}
	if response.Header.Revision <= 0 {
		return 0, fmt.Errorf("etcd answered a put with revision %d", response.Header.Revision)
	}
	return response.Header.Revision, nil
}

// compact discards etcd's history before revision. physical makes etcd
// answer only once the old revisions are removed from its backend, rather
// than only marked as gone, which reads already treat as compacted.
func (g etcdGateway) compact(ctx context.Context, revision int64) error {
	request := map[string]any{"revision": fmt.Sprint(revision), "physical": true}
	var response struct{ Header etcdHeader }
	return g.call(ctx, "/v3/kv/compaction", request, &response)
}
