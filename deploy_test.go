package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/yaml"

	"github.com/domac/crddemo/internal/image"
	"github.com/domac/crddemo/internal/sizing"
)

// measuredFile is where the figures that deploy/ is sized by are recorded,
// from one make bench run.
const measuredFile = "hack/bench/measured.json"

// measurement is a make bench run's figures that deploy/ must cover, as
// measuredFile records them; the field names are those of its RESULT line.
type measurement struct {
	Command    string  `json:"command"`
	Commit     string  `json:"commit"`
	Date       string  `json:"date"`
	N          int     `json:"n"`
	CPUs       int     `json:"cpus"`
	LoadBefore float64 `json:"load_average_before"`
	LoadAfter  float64 `json:"load_average_after"`
	// PeakRSSBytes is the peak over the whole run, whose burst phase
	// leaves crddemo caching 2N Mydemos.
	PeakRSSBytes int64 `json:"peak_rss_bytes"`
}

// TestDeploymentFitsMeasurement holds deploy/deployment.yaml to what crddemo
// was measured to need: a memory limit of at least the peak RSS recorded in
// measuredFile + sizing.Headroom, and a grace period longer than a graceful
// shutdown may take, which is the syncs in flight (syncTimeout) and then the
// release of the Lease (bounded by the renew deadline that the Deployment's
// flags give crddemo).
func TestDeploymentFitsMeasurement(t *testing.T) {
	data, err := os.ReadFile(measuredFile)
	if err != nil {
		t.Fatal(err)
	}
	var measured measurement
	if err := json.Unmarshal(data, &measured); err != nil {
		t.Fatalf("%s: %v", measuredFile, err)
	}
	if measured.N < 10000 || measured.PeakRSSBytes <= 0 || measured.Command == "" || measured.Commit == "" {
		t.Fatalf("%s does not record a make bench run at N=10000 or more, with its command and commit: %+v", measuredFile, measured)
	}
	data, err = os.ReadFile("deploy/deployment.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var deploy appsv1.Deployment
	if err := yaml.UnmarshalStrict(data, &deploy); err != nil {
		t.Fatalf("deploy/deployment.yaml: %v", err)
	}

	if err := checkFits(&deploy, measured.PeakRSSBytes); err != nil {
		t.Error(err)
	}

	// The check must be able to fail: a limit a MiB short of the figure,
	// and a grace period that leaves nothing for the Lease.
	short := deploy.DeepCopy()
	short.Spec.Template.Spec.Containers[0].Resources.Limits["memory"] =
		*resource.NewQuantity((sizing.MinMemoryLimitMiB(measured.PeakRSSBytes)-1)<<20, resource.BinarySI)
	if checkFits(short, measured.PeakRSSBytes) == nil {
		t.Error("a memory limit below the measured peak + headroom passes")
	}
	short = deploy.DeepCopy()
	grace := int64(syncTimeout / time.Second)
	short.Spec.Template.Spec.TerminationGracePeriodSeconds = &grace
	if checkFits(short, measured.PeakRSSBytes) == nil {
		t.Error("a grace period of only the sync timeout passes")
	}
}

// checkFits returns why deploy's crddemo container does not fit a peak RSS
// of peakRSS bytes or a graceful shutdown, or nil.
func checkFits(deploy *appsv1.Deployment, peakRSS int64) error {
	pod := deploy.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		return fmt.Errorf("the Deployment has %d containers, want crddemo's alone", len(pod.Containers))
	}
	c := pod.Containers[0]
	limit, ok := c.Resources.Limits["memory"]
	if minimum := sizing.MinMemoryLimitMiB(peakRSS); !ok || limit.Value() < minimum<<20 {
		return fmt.Errorf("memory limit %s is below %d MiB, the measured peak RSS of %.1f MiB + %.0f %%",
			limit.String(), minimum, float64(peakRSS)/(1<<20), (sizing.Headroom-1)*100)
	}
	opts, err := parseOptions(c.Args, io.Discard)
	if err != nil {
		return fmt.Errorf("the Deployment's args %q: %w", c.Args, err)
	}
	// Unset, it is Kubernetes' default of 30 s.
	grace := 30 * time.Second
	if pod.TerminationGracePeriodSeconds != nil {
		grace = time.Duration(*pod.TerminationGracePeriodSeconds) * time.Second
	}
	if shutdown := syncTimeout + opts.renewDeadline; grace <= shutdown {
		return fmt.Errorf("terminationGracePeriodSeconds of %v is not above %v, the sync timeout %v + the renew deadline %v",
			grace, shutdown, syncTimeout, opts.renewDeadline)
	}
	return nil
}

// TestDeploymentRunsAsTheImageUser holds the pod's runAsUser and runAsGroup
// to the user that make image gives the image (internal/image), so that the
// two never name different users, and the Deployment's image to the name
// that make image tags.
func TestDeploymentRunsAsTheImageUser(t *testing.T) {
	data, err := os.ReadFile("deploy/deployment.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var deploy appsv1.Deployment
	if err := yaml.UnmarshalStrict(data, &deploy); err != nil {
		t.Fatalf("deploy/deployment.yaml: %v", err)
	}
	sc := deploy.Spec.Template.Spec.SecurityContext
	if sc == nil || sc.RunAsUser == nil || sc.RunAsGroup == nil {
		t.Fatalf("the pod's securityContext sets no runAsUser and runAsGroup: %+v", sc)
	}
	if got := fmt.Sprintf("%d:%d", *sc.RunAsUser, *sc.RunAsGroup); got != image.User {
		t.Errorf("the pod runs as %s, the image as %s", got, image.User)
	}
	if got := deploy.Spec.Template.Spec.Containers[0].Image; !strings.HasPrefix(got, "crddemo:") {
		t.Errorf("the Deployment runs image %q, want crddemo:TAG, the name make image gives", got)
	}
}
