package cluster

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The annotation that hands a node to kwok, which plays its kubelet.
const (
	nodeAnnotation      = "kwok.x-k8s.io/node"
	nodeAnnotationValue = "fake"
)

// NodeLabel and NodeLabelValue label every fake node, for node selectors.
const (
	NodeLabel      = "type"
	NodeLabelValue = "kwok"
)

// createNodes creates the fake nodes, with room for far more pods than a test
// runs and no taint, so that ordinary pods schedule on them. kwok reports
// them Ready.
func (c *Cluster) createNodes(ctx context.Context) error {
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("64"),
		corev1.ResourceMemory: resource.MustParse("256Gi"),
		corev1.ResourcePods:   resource.MustParse("1000"),
	}
	for _, name := range c.nodes {
		node := &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{
				Name:        name,
				Annotations: map[string]string{nodeAnnotation: nodeAnnotationValue},
				Labels: map[string]string{
					NodeLabel:                NodeLabelValue,
					"kubernetes.io/hostname": name,
					"kubernetes.io/os":       "linux",
					"kubernetes.io/arch":     "amd64",
				},
			},
			Status: corev1.NodeStatus{Capacity: capacity, Allocatable: capacity},
		}
		if _, err := c.clientset.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("create node %s: %w", name, err)
		}
	}
	return nil
}

// waitSettled waits until pods can run: the `default` ServiceAccount, which
// kube-controller-manager creates and the ServiceAccount admission plugin
// requires of every pod, exists in `default`, and every node is Ready and
// untainted.
func (c *Cluster) waitSettled(ctx context.Context) error {
	err := c.waitFor(ctx, "the default ServiceAccount in namespace default", func(ctx context.Context) (bool, error) {
		_, err := c.clientset.CoreV1().ServiceAccounts(metav1.NamespaceDefault).Get(ctx, "default", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, errors.New("not created yet; kube-controller-manager creates it")
		}
		return err == nil, err
	})
	if err != nil {
		return err
	}
	for _, name := range c.nodes {
		err := c.waitFor(ctx, "node "+name+" to be Ready", func(ctx context.Context) (bool, error) {
			node, err := c.clientset.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			return nodeReady(node)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// nodeReady reports whether node is Ready and has no taint, which
// kube-controller-manager puts on a node until kwok has reported it Ready.
func nodeReady(node *corev1.Node) (bool, error) {
	for _, cond := range node.Status.Conditions {
		if cond.Type != corev1.NodeReady {
			continue
		}
		if cond.Status != corev1.ConditionTrue {
			return false, fmt.Errorf("condition Ready is %s: %s", cond.Status, cond.Message)
		}
		if len(node.Spec.Taints) > 0 {
			return false, fmt.Errorf("tainted %v", node.Spec.Taints)
		}
		return true, nil
	}
	return false, errors.New("no Ready condition yet; kwok sets it")
}
