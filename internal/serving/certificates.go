package serving

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"sync"

	certutil "k8s.io/client-go/util/cert"
	"k8s.io/klog/v2"
)

// selfSignedHost is the name the self-signed certificate is made for.
// Nobody can verify it against a CA anyway; scrapers skip the check.
const selfSignedHost = "localhost"

// Certificates is the serving certificate of an HTTPS server: read from
// files, and read again when they change, or self-signed at start.
type Certificates struct {
	// certFile and keyFile are empty for a self-signed certificate.
	certFile, keyFile string

	mu sync.Mutex
	// certPEM and keyPEM are what current was made of.
	certPEM, keyPEM []byte
	current         *tls.Certificate
	// failedPEM is the last pair of files that could not be used, so that
	// a bad pair is logged once, not at every handshake.
	failedPEM []byte
}

// LoadCertificates reads a PEM certificate (with any intermediates after
// it) and its private key, and fails at once if either cannot be read or
// they do not match. The server reads the files again at each TLS
// handshake and switches to the new pair when they change, as cert-manager
// or the kubelet's Secret volume change them, and keeps the old one while
// the new pair cannot be used (such as between the writes of the two
// files).
func LoadCertificates(certFile, keyFile string) (*Certificates, error) {
	c := &Certificates{certFile: certFile, keyFile: keyFile}
	certPEM, keyPEM, err := c.read()
	if err != nil {
		return nil, err
	}
	cert, err := parseKeyPair(certFile, keyFile, certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	c.certPEM, c.keyPEM, c.current = certPEM, keyPEM, cert
	return c, nil
}

// SelfSignedCertificates makes a certificate for localhost, 127.0.0.1 and
// ::1 that only itself vouches for, valid for a year, with client-go's
// helper, as kube-controller-manager does when given none.
func SelfSignedCertificates() (*Certificates, error) {
	certPEM, keyPEM, err := certutil.GenerateSelfSignedCertKey(selfSignedHost, []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}, nil)
	if err != nil {
		return nil, fmt.Errorf("making a self-signed serving certificate: %w", err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("using the self-signed serving certificate: %w", err)
	}
	return &Certificates{certPEM: certPEM, keyPEM: keyPEM, current: &cert}, nil
}

// GetCertificate is for tls.Config: it returns the certificate to present,
// after reading the files again if there are any.
func (c *Certificates) GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.certFile == "" {
		return c.current, nil
	}
	logger := klog.FromContext(hello.Context())
	certPEM, keyPEM, err := c.read()
	if err == nil && bytes.Equal(certPEM, c.certPEM) && bytes.Equal(keyPEM, c.keyPEM) {
		return c.current, nil
	}
	var cert *tls.Certificate
	if err == nil {
		cert, err = parseKeyPair(c.certFile, c.keyFile, certPEM, keyPEM)
	}
	if err != nil {
		// Reading the files is what every handshake does; a problem is
		// worth one line until the files change again.
		if failed := append(append([]byte(err.Error()), certPEM...), keyPEM...); !bytes.Equal(failed, c.failedPEM) {
			c.failedPEM = failed
			logger.Error(err, "Cannot use the changed serving certificate; still serving the previous one",
				"certFile", c.certFile, "keyFile", c.keyFile, "notAfter", c.current.Leaf.NotAfter)
		}
		return c.current, nil
	}
	c.certPEM, c.keyPEM, c.current, c.failedPEM = certPEM, keyPEM, cert, nil
	logger.Info("Serving a new certificate", "certFile", c.certFile, "subject", cert.Leaf.Subject.String(),
		"notAfter", cert.Leaf.NotAfter)
	return c.current, nil
}

// read reads the certificate and key files.
func (c *Certificates) read() (certPEM, keyPEM []byte, err error) {
	certPEM, err = os.ReadFile(c.certFile)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the serving certificate: %w", err)
	}
	keyPEM, err = os.ReadFile(c.keyFile)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the serving certificate's private key: %w", err)
	}
	return certPEM, keyPEM, nil
}

// parseKeyPair makes a certificate of PEM data, and says which files it
// came from when it cannot.
func parseKeyPair(certFile, keyFile string, certPEM, keyPEM []byte) (*tls.Certificate, error) {
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("using the certificate %s with the key %s: %w", certFile, keyFile, err)
	}
	return &cert, nil
}
