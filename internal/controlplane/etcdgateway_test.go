package controlplane

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// fakeEtcd answers the gateway calls that CompactEtcd makes the way etcd
// does, and records them.
type fakeEtcd struct {
	mu        sync.Mutex
	revision  int64
	puts      []string // the keys written
	compacted int64
	// compactStatus, if set, and compactBody are the compaction's answer.
	compactStatus int
	compactBody   string
}

func (f *fakeEtcd) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var request struct {
		Key      []byte
		Revision int64 `json:",string"`
		Physical bool
	}
	if err := json.NewDecoder(r.Body).Decode(&request); err != nil || r.Method != http.MethodPost {
		http.Error(w, `{"code":3,"message":"bad request"}`, http.StatusBadRequest)
		return
	}
	switch r.URL.Path {
	case "/v3/kv/put":
		f.revision++
		f.puts = append(f.puts, string(request.Key))
	case "/v3/kv/compaction":
		if f.compactStatus != 0 {
			http.Error(w, f.compactBody, f.compactStatus)
			return
		}
		if !request.Physical {
			http.Error(w, `{"code":3,"message":"want physical"}`, http.StatusBadRequest)
			return
		}
		f.compacted = request.Revision
	default:
		http.NotFound(w, r)
		return
	}
	// As etcd does, with the revision as a string.
	fmt.Fprintf(w, `{"header":{"cluster_id":"1","revision":"%d"}}`, f.revision)
}

// withFakeEtcd returns a ControlPlane whose etcd is fake.
func withFakeEtcd(t *testing.T, fake *fakeEtcd) *ControlPlane {
	t.Helper()
	server := httptest.NewServer(fake)
	t.Cleanup(server.Close)
	etcdURL, err := url.Parse(server.URL)
	if err != nil {
		t.Fatal(err)
	}
	return &ControlPlane{plane: &envtest.ControlPlane{Etcd: &envtest.Etcd{URL: etcdURL}}}
}

func TestCompactEtcdCompactsAfterTwoWritesOfItsOwn(t *testing.T) {
	fake := &fakeEtcd{revision: 100}
	cp := withFakeEtcd(t, fake)
	revision, err := cp.CompactEtcd(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if revision != 102 || fake.compacted != 102 {
		t.Errorf("CompactEtcd = %d, etcd compacted at %d; want both at 102, the second write", revision, fake.compacted)
	}
	if len(fake.puts) != 2 || fake.puts[0] != compactionKey || strings.HasPrefix(compactionKey, "/registry") {
		t.Errorf("keys written = %q, want %s twice, outside /registry", fake.puts, compactionKey)
	}
}

func TestCompactEtcdAcceptsACompactionAlreadyPast(t *testing.T) {
	fake := &fakeEtcd{revision: 7, compactStatus: http.StatusBadRequest,
		compactBody: `{"error":"etcdserver: mvcc: required revision has been compacted","code":11,"message":"etcdserver: mvcc: required revision has been compacted"}`}
	if _, err := withFakeEtcd(t, fake).CompactEtcd(t.Context()); err != nil {
		t.Fatalf("CompactEtcd of a revision compacted meanwhile: %v, want no error", err)
	}
}

func TestCompactEtcdReportsEtcdsError(t *testing.T) {
	fake := &fakeEtcd{compactStatus: http.StatusBadRequest,
		compactBody: `{"code":11,"message":"etcdserver: mvcc: required revision is a future revision"}`}
	_, err := withFakeEtcd(t, fake).CompactEtcd(t.Context())
	var failure *etcdError
	if !errors.As(err, &failure) || failure.Code != 11 || !strings.Contains(err.Error(), "future revision") {
		t.Fatalf("CompactEtcd of a future revision: %v, want etcd's error", err)
	}
}

func TestEtcdGatewayReportsAnAnswerThatIsNotJSON(t *testing.T) {
	fake := &fakeEtcd{compactStatus: http.StatusServiceUnavailable, compactBody: "etcd is down"}
	_, err := withFakeEtcd(t, fake).CompactEtcd(t.Context())
	if err == nil || !strings.Contains(err.Error(), "status 503: etcd is down") {
		t.Fatalf("CompactEtcd when etcd answers 503 in plain text: %v, want the status and body", err)
	}
}
