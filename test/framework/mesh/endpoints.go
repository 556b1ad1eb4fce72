package mesh

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sluice-dev/sluice/internal/workload"
)

// HeaderImage is the request header in which the emulator tells a stand-in
// the image of the pod it resolved the request to, so that the stand-in
// answers as Options.Images says that image does.
const HeaderImage = "X-Sluice-Image"

// endpointScale multiplies route weights before they are shared among the
// workloads behind one Service, so that the shares stay whole numbers.
const endpointScale = 100

// endpoint is one workload behind a Service: the Deployment owning some of
// the ready pods the Service selects, the image they run and how many there
// are.
type endpoint struct {
	workload string
	image    string
	pods     int
}

// resolved is what a Service resolves to: whether it exists, and the
// workloads behind it.
type resolved struct {
	exists    bool
	endpoints []endpoint
}

// endpointsOf lists the workloads behind a Service as kube-proxy and Envoy
// see them: the ready, not terminating pods its selector matches, grouped by
// owning Deployment and image, in a stable order. A Service with no selector
// has none; one that does not exist is reported as such. A failed read
// reports the Service as existing, with no endpoint.
func endpointsOf(ctx context.Context, c client.Reader, svc service) (resolved, error) {
	s := &corev1.Service{}
	if err := c.Get(ctx, types.NamespacedName{Namespace: svc.namespace, Name: svc.name}, s); err != nil {
		if apierrors.IsNotFound(err) {
			return resolved{}, nil
		}
		return resolved{exists: true}, fmt.Errorf("read Service %s: %w", svc.fqdn(), err)
	}
	if len(s.Spec.Selector) == 0 {
		return resolved{exists: true}, nil
	}
	pods := &corev1.PodList{}
	if err := c.List(ctx, pods, client.InNamespace(svc.namespace), client.MatchingLabels(s.Spec.Selector)); err != nil {
		return resolved{exists: true}, fmt.Errorf("list the pods of Service %s: %w", svc.fqdn(), err)
	}
	count := map[endpoint]int{}
	for i := range pods.Items {
		p := &pods.Items[i]
		if !podReady(p) {
			continue
		}
		w := owningDeployment(p)
		if w == "" || len(p.Spec.Containers) == 0 {
			continue
		}
		count[endpoint{workload: w, image: p.Spec.Containers[0].Image}]++
	}
	out := make([]endpoint, 0, len(count))
	for e, n := range count {
		e.pods = n
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b endpoint) int {
		return strings.Compare(a.workload+" "+a.image, b.workload+" "+b.image)
	})
	return resolved{exists: true, endpoints: out}, nil
}

// podReady reports a pod that receives traffic: Ready and not terminating.
func podReady(p *corev1.Pod) bool {
	if p.DeletionTimestamp != nil {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// owningDeployment names the Deployment a pod belongs to, from the name of
// the ReplicaSet that owns it (the Deployment's name plus the pod template
// hash), as Istio derives destination_workload. A pod with no such owner
// has no workload.
func owningDeployment(p *corev1.Pod) string {
	hash := p.Labels[workload.LabelPodTemplateHash]
	for _, ref := range p.OwnerReferences {
		if ref.Kind == "ReplicaSet" && hash != "" && strings.HasSuffix(ref.Name, "-"+hash) {
			return strings.TrimSuffix(ref.Name, "-"+hash)
		}
	}
	return ""
}

// imageTag is the tag of an image reference, the part after the last colon
// of its last path element; "latest" when it has none. A digest is ignored.
func imageTag(image string) string {
	image, _, _ = strings.Cut(image, "@")
	last := image[strings.LastIndex(image, "/")+1:]
	if i := strings.LastIndex(last, ":"); i >= 0 {
		return last[i+1:]
	}
	return "latest"
}

// resolver resolves the destinations of one read of the route object to
// weighted targets, reading each Service's endpoints at most once.
type resolver struct {
	m         *Mesh
	ctx       context.Context
	endpoints map[service]resolved
	err       error
}

// resolve turns weighted destinations into weighted targets. A host the
// Hosts table maps goes to its workload; with Options.Endpoints, any other
// Service host goes to the workloads behind it, its weight shared by their
// ready pods. A destination nobody serves keeps its weight as a target with
// the cause, so that its share of the traffic fails as it would in a mesh.
func (r *resolver) resolve(dests []destination, namespace string) ([]target, []int32) {
	var targets []target
	var weights []int32
	scale := int32(1)
	if r.m.opts.Endpoints {
		scale = endpointScale
	}
	for _, d := range dests {
		if svc, w, ok := r.m.hosts.resolve(d.host, namespace); ok {
			targets, weights = append(targets, target{svc: svc, workload: w}), append(weights, d.weight*scale)
			continue
		}
		svc, ok := parseHost(d.host, namespace)
		res := r.lookup(svc, ok)
		total := 0
		for _, e := range res.endpoints {
			total += e.pods
		}
		if total == 0 {
			cause := CauseNoEndpoint
			if !res.exists {
				cause = CauseDestinationMissing
			}
			targets, weights = append(targets, target{svc: svc, cause: cause}), append(weights, d.weight*scale)
			continue
		}
		for _, e := range res.endpoints {
			t := target{svc: svc, workload: e.workload, image: e.image}
			if _, known := r.m.standIns[e.workload]; !known {
				t = target{svc: svc, cause: CauseNoStandIn}
			}
			targets = append(targets, t)
			weights = append(weights, int32(int64(d.weight)*int64(scale)*int64(e.pods)/int64(total)))
		}
	}
	return targets, weights
}

// lookup reads a Service's endpoints once per resolver. Without
// Options.Endpoints a host the Hosts table does not map is a Service no
// stand-in serves, as if it did not exist; so is a host that names no
// Service.
func (r *resolver) lookup(svc service, ok bool) resolved {
	if !ok || !r.m.opts.Endpoints {
		return resolved{}
	}
	if res, seen := r.endpoints[svc]; seen {
		return res
	}
	res, err := endpointsOf(r.ctx, r.m.opts.Client, svc)
	if err != nil && r.err == nil {
		r.err = err
	}
	r.endpoints[svc] = res
	return res
}

// imagesByTag copies Options.Images, checking its behaviours.
func imagesByTag(images map[string]Behaviour) (map[string]Behaviour, error) {
	out := maps.Clone(images)
	for tag, b := range out {
		if err := b.validate(); err != nil {
			return nil, fmt.Errorf("image tag %s: %w", tag, err)
		}
	}
	return out, nil
}
