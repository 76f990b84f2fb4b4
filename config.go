package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/client-go/util/flowcontrol"

	crddemov1 "github.com/domac/crddemo/pkg/apis/crddemo/v1"
	clientset "github.com/domac/crddemo/pkg/client/clientset/versioned"
	informers "github.com/domac/crddemo/pkg/client/informers/externalversions"
	"github.com/domac/crddemo/pkg/client/informers/externalversions/internalinterfaces"

	"github.com/domac/crddemo/internal/leaderelection"
	"github.com/domac/crddemo/internal/serving"
	"github.com/domac/crddemo/internal/sharding"
	"github.com/domac/crddemo/internal/version"
)

// inClusterNamespaceFile is where Kubernetes mounts the pod's namespace,
// beside its service account token.
const inClusterNamespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

// config is everything crddemo runs with: the clients, the informers and the
// settings that options and the environment it runs in decide.
type config struct {
	// host is the API server's address, for log lines.
	host         string
	mydemoClient clientset.Interface
	namespace    string
	resyncPeriod time.Duration
	// health tells whether the Mydemo API can be used; the informer's calls
	// go through it.
	health   *apiHealth
	recorder eventRecorder
	workers  int
	// maxRetryDelay caps the backoff between retries of a failing key.
	maxRetryDelay time.Duration

	// leaderElection is nil when --leader-elect is off. Its Lease is written
	// by leaseClient, whose requests time out at the renew deadline so that
	// no lease call outlives the lease.
	leaderElection *leaderelection.Config
	leaseClient    kubernetes.Interface
	// sharding is nil without --shards; with it, it holds leaderElection
	// as the group's election.
	sharding *sharding.Config

	// servers are the HTTP servers to start; an off one is nil.
	servers serving.Config
}

// newConfig connects nothing yet: it builds the clients and informers that
// run will start.
func newConfig(o *options) (*config, error) {
	restConfig, err := loadRESTConfig(o)
	if err != nil {
		return nil, err
	}
	if o.leaderElect {
		// The leader's writes are checked against its fence when sent, not
		// only when their context is.
		restConfig.Wrap(leaderelection.FenceTransport)
	}
	mydemoClient, err := clientset.NewForConfig(restConfig)
	if err != nil {
		return nil, fmt.Errorf("creating the Mydemo client for %s: %w", restConfig.Host, err)
	}
	kubeClient, err := kubernetes.NewForConfig(restConfig)
	if err != nil {
		return nil, fmt.Errorf("creating the Kubernetes client for %s: %w", restConfig.Host, err)
	}
	identity, err := leaderelection.NewIdentity()
	if err != nil {
		return nil, err
	}
	hostname, err := os.Hostname()
	if err != nil {
		return nil, fmt.Errorf("reading the host name for event sources: %w", err)
	}

	c := &config{
		host:          restConfig.Host,
		mydemoClient:  mydemoClient,
		namespace:     o.namespace,
		resyncPeriod:  o.resyncPeriod,
		health:        newAPIHealth(restConfig.Host, describeCredentials(restConfig)),
		recorder:      newAPIEventRecorder(kubeClient.CoreV1(), hostname, identity),
		workers:       o.workers,
		maxRetryDelay: o.maxRetryDelay,
	}
	if !serving.Off(o.healthProbeAddr) {
		c.servers.Probes = &serving.ProbesConfig{Address: o.healthProbeAddr}
	}
	if !serving.Off(o.metricsAddress) {
		c.servers.Metrics = &serving.MetricsConfig{Address: o.metricsAddress, Profiling: o.profiling}
		if o.metricsSecure {
			if c.servers.Metrics.Secure, err = newMetricsSecurity(o, restConfig); err != nil {
				return nil, err
			}
		}
	}
	if o.leaderElect {
		election := o.election
		election.Identity = identity
		c.leaderElection = &election
		c.leaseClient, err = kubernetes.NewForConfig(leaderelection.ClientConfig(restConfig, election.RenewDeadline))
		if err != nil {
			return nil, fmt.Errorf("creating the leader election client for %s: %w", restConfig.Host, err)
		}
	}
	if o.shards > 1 {
		c.sharding = &sharding.Config{Election: *c.leaderElection, Shards: o.shards}
	}
	return c, nil
}

// newMetricsSecurity loads the serving certificate, or makes one, and the
// clients that review the metrics' callers.
func newMetricsSecurity(o *options, restConfig *rest.Config) (*serving.SecureConfig, error) {
	var certs *serving.Certificates
	var err error
	if o.tlsCertFile != "" {
		certs, err = serving.LoadCertificates(o.tlsCertFile, o.tlsKeyFile)
	} else {
		certs, err = serving.SelfSignedCertificates()
	}
	if err != nil {
		return nil, fmt.Errorf("loading the metrics server's certificate: %w", err)
	}
	// The namespace where crddemo runs is the Lease's by default.
	attributes := serving.ResourceAttributes(leaseNamespace(""))
	if o.metricsAuthz == "path" {
		attributes = serving.PathAttributes
	}
	reviewClient, err := kubernetes.NewForConfig(serving.ReviewClientConfig(restConfig))
	if err != nil {
		return nil, fmt.Errorf("creating the client that reviews metrics callers for %s: %w", restConfig.Host, err)
	}
	return &serving.SecureConfig{
		Certificates:  certs,
		Authenticator: serving.NewTokenReviewAuthenticator(reviewClient.AuthenticationV1().TokenReviews()),
		Authorizer:    serving.NewSubjectAccessReviewAuthorizer(reviewClient.AuthorizationV1().SubjectAccessReviews(), attributes),
	}, nil
}

// informerFactory returns an informer factory (each runner makes its own)
// whose Mydemo informer is the one that newInformer makes, with crddemo's
// resync period and lean cache. newInformer lists the namespace itself: the
// factory's WithNamespace reaches only the informers it makes.
func (c *config) informerFactory(newInformer internalinterfaces.NewInformerFunc) informers.SharedInformerFactory {
	factory := informers.NewSharedInformerFactoryWithOptions(c.mydemoClient, c.resyncPeriod,
		informers.WithTransform(leanForCache))
	// Registered first, this is the informer that factory.Crddemo().V1().Mydemos() then shares.
	factory.InformerFor(&crddemov1.Mydemo{}, newInformer)
	return factory
}

// inClusterConfig is the pod's own configuration: its ServiceAccount's token
// and CA, and the API server's Service address. A variable so that tests can
// point it at files they write: client-go reads fixed paths under
// /var/run/secrets.
var inClusterConfig = rest.InClusterConfig

// loadRESTConfig finds the API server the way kubectl does: --kubeconfig,
// else $KUBECONFIG, else ~/.kube/config, else the pod's in-cluster config;
// --master replaces the server address of whichever is used.
func loadRESTConfig(o *options) (*rest.Config, error) {
	config, err := findRESTConfig(o.kubeconfig, o.master)
	if err != nil {
		return nil, err
	}
	config.QPS = float32(o.kubeAPIQPS)
	config.Burst = o.kubeAPIBurst
	// One token bucket for every client made from this config (Mydemos,
	// events), so that --kube-api-qps limits crddemo's requests as a whole;
	// each client would otherwise get a bucket of its own.
	config.RateLimiter = flowcontrol.NewTokenBucketRateLimiter(config.QPS, config.Burst)
	// The API server's audit log and metrics then tell crddemo's requests,
	// and its version, from other clients'.
	config.UserAgent = "crddemo/" + version.Get().Version
	return config, nil
}

// findRESTConfig is the configuration of loadRESTConfig before crddemo's own
// settings.
//
// It does what clientcmd's deferred loading does, but for --master in a pod:
// that loading sees a config with a server, the override, and so never falls
// back to the in-cluster config, which leaves every request anonymous. Here
// the in-cluster config keeps its token and CA, and --master replaces only
// its host.
func findRESTConfig(kubeconfigPath, master string) (*rest.Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = kubeconfigPath
	kubeconfig, err := rules.Load()
	if err != nil {
		return nil, fmt.Errorf("loading kubeconfig: %w", err)
	}
	overrides := &clientcmd.ConfigOverrides{ClusterInfo: clientcmdapi.Cluster{Server: master}}
	config, err := clientcmd.NewNonInteractiveClientConfig(*kubeconfig, "", overrides, rules).ClientConfig()
	// A kubeconfig with no current context names no server, and counts as
	// none, as it does for clientcmd.
	if clientcmdapi.IsConfigEmpty(kubeconfig) || clientcmd.IsEmptyConfig(err) {
		inCluster, inClusterErr := inClusterConfig()
		switch {
		case inClusterErr == nil:
			if master != "" {
				inCluster.Host = master
			}
			if err := plainHTTPWith(inCluster, master, "which would send "+describeCredentials(inCluster)+" in clear text"); err != nil {
				return nil, err
			}
			return inCluster, nil
		// Outside a pod, or in one without a token, clientcmd's own answer
		// stands: --master alone, with no credentials, or none at all.
		case !errors.Is(inClusterErr, rest.ErrNotInCluster) && !errors.Is(inClusterErr, fs.ErrNotExist):
			return nil, fmt.Errorf("loading the in-cluster configuration: %w", inClusterErr)
		}
	}
	if clientcmd.IsEmptyConfig(err) {
		return nil, errors.New("no Kubernetes configuration found: pass --kubeconfig, set KUBECONFIG, " +
			"create ~/.kube/config or run inside a cluster")
	}
	if err != nil {
		return nil, fmt.Errorf("loading kubeconfig: %w", err)
	}
	// Over plain HTTP, clientcmd leaves the user's credentials out, which
	// would leave crddemo anonymous without a word.
	if credentials := kubeconfigCredentials(kubeconfig); credentials != "" {
		if err := plainHTTPWith(config, master, "over which client-go leaves out "+credentials+
			", so every request would be anonymous"); err != nil {
			return nil, err
		}
	}
	return config, nil
}

// plainHTTPWith refuses a plain-HTTP API server address that credentials
// exist for, named by what, such as the ServiceAccount token that client-go
// would send in clear text from a pod, where anyone on the way could read
// and use it. A host without a scheme is plain HTTP to client-go unless
// config has TLS settings.
func plainHTTPWith(config *rest.Config, master, what string) error {
	server, _, err := rest.DefaultServerUrlFor(config)
	if err != nil || server.Scheme != "http" {
		return nil
	}
	where := fmt.Sprintf("the kubeconfig's server %q", config.Host)
	if master != "" {
		where = fmt.Sprintf("--master=%q", master)
	}
	return usageError{fmt.Errorf("%s is plain HTTP, %s: use https", where, what)}
}

// kubeconfigCredentials names the credentials of the kubeconfig's current
// user, or returns "" if it has none.
func kubeconfigCredentials(kubeconfig *clientcmdapi.Config) string {
	context := kubeconfig.Contexts[kubeconfig.CurrentContext]
	if context == nil || kubeconfig.AuthInfos[context.AuthInfo] == nil {
		return ""
	}
	user := kubeconfig.AuthInfos[context.AuthInfo]
	if user.Token == "" && user.TokenFile == "" && user.Password == "" && user.Exec == nil && user.AuthProvider == nil {
		return ""
	}
	return fmt.Sprintf("the credentials of the kubeconfig's user %q", context.AuthInfo)
}

// describeCredentials says how config authenticates, without the secret
// itself, for the log line that explains a 401.
func describeCredentials(config *rest.Config) string {
	switch {
	case config.BearerTokenFile != "":
		return "a bearer token from " + config.BearerTokenFile
	case config.BearerToken != "":
		return "a bearer token"
	case config.ExecProvider != nil:
		return "credentials from the command " + config.ExecProvider.Command
	case config.AuthProvider != nil:
		return "credentials from the auth provider " + config.AuthProvider.Name
	case config.CertFile != "":
		return "the client certificate " + config.CertFile
	case len(config.CertData) > 0:
		return "a client certificate"
	case config.Username != "":
		return "the user name and password of " + config.Username
	default:
		return "no credentials (anonymous)"
	}
}

// leaseNamespace is the namespace of the leader election Lease: the flag's,
// else the pod's own (from the POD_NAMESPACE variable that deploy/ sets, or
// the service account mount), else "default" for a run outside a cluster.
func leaseNamespace(flagValue string) string {
	if flagValue != "" {
		return flagValue
	}
	if ns := os.Getenv("POD_NAMESPACE"); ns != "" {
		return ns
	}
	if data, err := os.ReadFile(inClusterNamespaceFile); err == nil && strings.TrimSpace(string(data)) != "" {
		return strings.TrimSpace(string(data))
	}
	return "default"
}
