package podnet

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

// sliceName names the one slice of a Service.
func sliceName(svc string) string {
	return svc + "-podnet"
}

// applySlice writes the EndpointSlice of svc when it differs from the last
// one written.
func (n *Net) applySlice(ctx context.Context, svc *corev1.Service, pods []*corev1.Pod) error {
	if len(svc.Spec.Selector) == 0 || svc.DeletionTimestamp != nil {
		return nil
	}
	data, err := json.Marshal(desiredSlice(svc, pods))
	if err != nil {
		return fmt.Errorf("encode the EndpointSlice of Service %s: %w", svc.Name, err)
	}
	n.mu.Lock()
	same := n.applied[svc.Name] == string(data)
	n.mu.Unlock()
	if same {
		return nil
	}
	_, err = n.client.DiscoveryV1().EndpointSlices(svc.Namespace).Patch(ctx, sliceName(svc.Name), types.ApplyPatchType, data,
		metav1.PatchOptions{FieldManager: FieldManager, Force: ptr.To(true)})
	if err != nil {
		return fmt.Errorf("write the EndpointSlice of Service %s: %w", svc.Name, err)
	}
	n.mu.Lock()
	n.applied[svc.Name] = string(data)
	n.mu.Unlock()
	return nil
}

// desiredSlice lists the pods svc selects that have an address, in name
// order, with the Service's ports resolved against each pod's containers
// (the first pod that names a port decides its number, as all of a
// Service's pods are expected to agree).
func desiredSlice(svc *corev1.Service, pods []*corev1.Pod) *discoveryv1.EndpointSlice {
	sel := labels.SelectorFromSet(svc.Spec.Selector)
	var chosen []*corev1.Pod
	for _, pod := range pods {
		if pod.Status.PodIP != "" && sel.Matches(labels.Set(pod.Labels)) &&
			pod.Status.Phase != corev1.PodSucceeded && pod.Status.Phase != corev1.PodFailed {
			chosen = append(chosen, pod)
		}
	}
	slices.SortFunc(chosen, func(a, b *corev1.Pod) int { return strings.Compare(a.Name, b.Name) })
	es := &discoveryv1.EndpointSlice{
		TypeMeta: metav1.TypeMeta{APIVersion: "discovery.k8s.io/v1", Kind: "EndpointSlice"},
		ObjectMeta: metav1.ObjectMeta{
			Name: sliceName(svc.Name), Namespace: svc.Namespace,
			Labels: map[string]string{
				discoveryv1.LabelServiceName: svc.Name,
				discoveryv1.LabelManagedBy:   ManagedBy,
			},
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "v1", Kind: "Service", Name: svc.Name, UID: svc.UID,
			}},
		},
		// The API server refuses loopback addresses in IPv4 slices; a dotted
		// address passes as an FQDN.
		AddressType: discoveryv1.AddressTypeFQDN,
		Endpoints:   []discoveryv1.Endpoint{},
		Ports:       []discoveryv1.EndpointPort{},
	}
	for _, pod := range chosen {
		r := ready(pod)
		es.Endpoints = append(es.Endpoints, discoveryv1.Endpoint{
			Addresses: []string{pod.Status.PodIP},
			Conditions: discoveryv1.EndpointConditions{
				Ready: ptr.To(r), Serving: ptr.To(r), Terminating: ptr.To(pod.DeletionTimestamp != nil),
			},
			NodeName:  ptr.To(pod.Spec.NodeName),
			TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID},
		})
	}
	for _, sp := range svc.Spec.Ports {
		if port, ok := targetPort(sp, chosen); ok {
			es.Ports = append(es.Ports, discoveryv1.EndpointPort{
				Name: ptr.To(sp.Name), Port: ptr.To(port), Protocol: ptr.To(cmpProtocol(sp.Protocol)),
			})
		}
	}
	return es
}

// targetPort resolves a Service port's target: a number as it is, a name by
// the first pod whose containers declare it.
func targetPort(sp corev1.ServicePort, pods []*corev1.Pod) (int32, bool) {
	switch {
	case sp.TargetPort.Type == intstr.String && sp.TargetPort.StrVal != "":
		for _, pod := range pods {
			for _, c := range pod.Spec.Containers {
				for _, p := range c.Ports {
					if p.Name == sp.TargetPort.StrVal {
						return p.ContainerPort, true
					}
				}
			}
		}
		return 0, false
	case sp.TargetPort.IntVal != 0:
		return sp.TargetPort.IntVal, true
	default:
		return sp.Port, true
	}
}

// cmpProtocol is a port's protocol, TCP when unset.
func cmpProtocol(p corev1.Protocol) corev1.Protocol {
	if p == "" {
		return corev1.ProtocolTCP
	}
	return p
}
