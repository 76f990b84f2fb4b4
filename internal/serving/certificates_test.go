package serving

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	certutil "k8s.io/client-go/util/cert"
	"k8s.io/klog/v2"
)

// keyPair is a certificate and its key, PEM encoded.
type keyPair struct{ cert, key []byte }

// newKeyPair makes a self-signed certificate for host.
func newKeyPair(t *testing.T, host string) keyPair {
	t.Helper()
	cert, key, err := certutil.GenerateSelfSignedCertKey(host, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return keyPair{cert, key}
}

// write writes the pair to certFile and keyFile.
func (p keyPair) write(t *testing.T, certFile, keyFile string) {
	t.Helper()
	if err := os.WriteFile(certFile, p.cert, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, p.key, 0o600); err != nil {
		t.Fatal(err)
	}
}

// servedCertificate connects to addr and returns the certificate it
// presents, without trusting or checking it.
func servedCertificate(t *testing.T, addr string) *x509.Certificate {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatalf("connecting to %s: %v", addr, err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0]
}

// TestCertificatesReloadWhenTheFilesChange serves HTTPS from files, then
// rewrites them as cert-manager would: the next connection gets the new
// certificate. A pair that does not match is logged once and the old
// certificate kept.
func TestCertificatesReloadWhenTheFilesChange(t *testing.T) {
	logger, logs := newBufferedLogger(t, 0)
	ctx := klog.NewContext(t.Context(), logger)
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	first, second := newKeyPair(t, "first.example"), newKeyPair(t, "second.example")
	first.write(t, certFile, keyFile)

	certs, err := LoadCertificates(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	addr, err := ServeTLS(ctx, "test", "127.0.0.1:0", http.NotFoundHandler(), certs)
	if err != nil {
		t.Fatal(err)
	}
	if got := servedCertificate(t, addr.String()).DNSNames; len(got) != 1 || got[0] != "first.example" {
		t.Fatalf("served a certificate for %q, want first.example", got)
	}

	second.write(t, certFile, keyFile)
	if got := servedCertificate(t, addr.String()).DNSNames; len(got) != 1 || got[0] != "second.example" {
		t.Errorf("after the files changed, served a certificate for %q, want second.example", got)
	}
	if !strings.Contains(logs.String(), `Serving a new certificate certFile=`) {
		t.Errorf("the log does not say that the certificate changed:\n%s", logs.String())
	}

	// first's certificate with second's key: half of a rotation.
	if err := os.WriteFile(certFile, first.cert, 0o600); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if got := servedCertificate(t, addr.String()).DNSNames; len(got) != 1 || got[0] != "second.example" {
			t.Errorf("with a certificate and key that do not match, served %q, want the previous second.example", got)
		}
	}
	if n := strings.Count(logs.String(), "Cannot use the changed serving certificate"); n != 1 {
		t.Errorf("the mismatched pair was logged %d times, want once:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "private key does not match public key") {
		t.Errorf("the log does not say what is wrong with the pair:\n%s", logs.String())
	}
}

func TestLoadCertificatesFailsAtOnce(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	mismatchedKey := filepath.Join(dir, "other.key")
	pair := newKeyPair(t, "crddemo.example")
	pair.write(t, certFile, keyFile)
	if err := os.WriteFile(mismatchedKey, newKeyPair(t, "other.example").key, 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.crt")

	tests := []struct {
		name, certFile, keyFile, wantErr string
	}{
		{"a missing certificate", missing, keyFile,
			fmt.Sprintf("reading the serving certificate: open %s: no such file or directory", missing)},
		{"a missing key", certFile, missing,
			fmt.Sprintf("reading the serving certificate's private key: open %s: no such file or directory", missing)},
		{"a key of another certificate", certFile, mismatchedKey,
			fmt.Sprintf("using the certificate %s with the key %s: tls: private key does not match public key", certFile, mismatchedKey)},
		{"a key as the certificate", keyFile, keyFile,
			fmt.Sprintf("using the certificate %s with the key %s: tls: ", keyFile, keyFile)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadCertificates(tt.certFile, tt.keyFile)
			if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) || strings.Contains(err.Error(), "\n") {
				t.Errorf("LoadCertificates = %v, want one line starting %q", err, tt.wantErr)
			}
		})
	}
}

// TestSelfSignedCertificates serves HTTPS with the certificate made at
// start: a client that trusts its CA can verify it for localhost and the
// loopback addresses.
func TestSelfSignedCertificates(t *testing.T) {
	certs, err := SelfSignedCertificates()
	if err != nil {
		t.Fatal(err)
	}
	addr, err := ServeTLS(t.Context(), "test", "127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, r.Proto)
	}), certs)
	if err != nil {
		t.Fatal(err)
	}

	chain := certs.current.Certificate
	if len(chain) != 2 {
		t.Fatalf("the self-signed certificate has a chain of %d, want itself and its CA", len(chain))
	}
	ca, err := x509.ParseCertificate(chain[1])
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	for _, name := range []string{"localhost", "127.0.0.1", "::1"} {
		if err := certs.current.Leaf.VerifyHostname(name); err != nil {
			t.Errorf("the self-signed certificate is not for %s: %v", name, err)
		}
	}

	// A client that trusts the CA connects without skipping verification,
	// and speaks HTTP/1.1 even when it offers HTTP/2.
	client := &http.Client{Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: roots, ServerName: "localhost"},
		ForceAttemptHTTP2: true,
	}}
	defer client.CloseIdleConnections()
	_, port, _ := net.SplitHostPort(addr.String())
	resp, err := client.Get("https://127.0.0.1:" + port + "/")
	if err != nil {
		t.Fatalf("GET over HTTPS with the CA trusted: %v", err)
	}
	defer resp.Body.Close()
	proto, _ := io.ReadAll(resp.Body)
	if string(proto) != "HTTP/1.1" {
		t.Errorf("the server spoke %s, want HTTP/1.1", proto)
	}
}
