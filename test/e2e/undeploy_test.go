//go:build linux

package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
)

// TestDeleteRemovesEverything runs kubectl delete -k on the overlay, as
// make undeploy does, and checks that the pods stop within their grace
// period and that nothing of deploy/ is left: the namespace, the CRD and
// so every Mydemo, and the cluster-wide RBAC objects. It runs last (go test
// runs the files in name order, and this one is named to come last): it
// removes what the other tests share.
func TestDeleteRemovesEverything(t *testing.T) {
	c := requireCluster(t)
	pods := c.deploy(t, 2)
	grace := time.Duration(*pods[0].Spec.TerminationGracePeriodSeconds) * time.Second

	started := time.Now()
	c.kubectl(t, "delete", "-k", c.overlay, "--wait=false")
	ctx, cancel := context.WithTimeout(t.Context(), grace+waitTimeout)
	defer cancel()
	var left []string
	err := wait.PollUntilContextCancel(ctx, pollInterval, true, func(ctx context.Context) (bool, error) {
		left = nil
		list, err := c.kube.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			return false, nil
		}
		for _, pod := range list.Items {
			left = append(left, pod.Name)
		}
		return len(left) == 0, nil
	})
	if err != nil {
		t.Fatalf("waiting for the pods to go (left: %v): %v", left, err)
	}
	if took := time.Since(started); took > grace {
		t.Errorf("the pods took %v to stop, more than their grace period of %v", took.Round(time.Second), grace)
	}

	err = wait.PollUntilContextCancel(ctx, pollInterval, true, func(ctx context.Context) (bool, error) {
		left = c.leftOfDeploy(ctx)
		return len(left) == 0, nil
	})
	if err != nil {
		t.Fatalf("waiting for everything of deploy/ to go (left: %v): %v", left, err)
	}
}

// leftOfDeploy names what of deploy/ still exists.
func (c *testCluster) leftOfDeploy(ctx context.Context) []string {
	var left []string
	exists := func(what string, err error) {
		if !apierrors.IsNotFound(err) {
			left = append(left, fmt.Sprintf("%s (%v)", what, err))
		}
	}
	_, err := c.kube.CoreV1().Namespaces().Get(ctx, namespace, metav1.GetOptions{})
	exists("namespace "+namespace, err)
	_, err = c.kube.RbacV1().ClusterRoles().Get(ctx, "crddemo", metav1.GetOptions{})
	exists("clusterrole crddemo", err)
	_, err = c.kube.RbacV1().ClusterRoleBindings().Get(ctx, "crddemo", metav1.GetOptions{})
	exists("clusterrolebinding crddemo", err)
	_, err = c.client.CrddemoV1().Mydemos("").List(ctx, metav1.ListOptions{})
	exists("the Mydemo API", err)
	return left
}
