package zerodowntime

import (
	"context"
	"encoding/json"
	"strings"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
)

// replicaWrite is one write of the operator that sets spec.replicas of a
// Deployment that exists: the value sent and the value found just before.
type replicaWrite struct {
	key          types.NamespacedName
	manager      string
	sent, found  int32
	autoscaledBy string // the HorizontalPodAutoscaler scaling it then, if any
}

// replicaWrites are every such write the operator made in the suite.
var replicaWrites struct {
	sync.Mutex
	list []replicaWrite
}

// writesOf returns the replica writes to the Deployment key.
func writesOf(key types.NamespacedName) []replicaWrite {
	replicaWrites.Lock()
	defer replicaWrites.Unlock()
	var out []replicaWrite
	for _, w := range replicaWrites.list {
		if w.key == key {
			out = append(out, w)
		}
	}
	return out
}

// recordReplicaWrites watches the operator's writes (the client it acts
// through) for spec.replicas of a Deployment, and records each with what
// the API server held then and the autoscaler scaling it: the evidence for
// "Sluice never writes a replica count an autoscaler owns".
func recordReplicaWrites() interceptor.Funcs {
	return interceptor.Funcs{
		Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
			if _, ok := obj.(*appsv1.Deployment); ok {
				if data, err := patch.Data(obj); err == nil {
					o := &client.PatchOptions{}
					o.ApplyOptions(opts)
					note(ctx, c, client.ObjectKeyFromObject(obj), o.FieldManager, data)
				}
			}
			return c.Patch(ctx, obj, patch, opts...)
		},
		Apply: func(ctx context.Context, c client.WithWatch, obj runtime.ApplyConfiguration, opts ...client.ApplyOption) error {
			if data, err := json.Marshal(obj); err == nil && strings.Contains(string(data), `"kind":"Deployment"`) {
				var meta struct {
					Metadata struct{ Name, Namespace string } `json:"metadata"`
				}
				if json.Unmarshal(data, &meta) == nil {
					o := &client.ApplyOptions{}
					o.ApplyOptions(opts)
					note(ctx, c, types.NamespacedName{Namespace: meta.Metadata.Namespace, Name: meta.Metadata.Name},
						o.FieldManager, data)
				}
			}
			return c.Apply(ctx, obj, opts...)
		},
		Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
			if d, ok := obj.(*appsv1.Deployment); ok && d.Spec.Replicas != nil {
				data, _ := json.Marshal(d)
				note(ctx, c, client.ObjectKeyFromObject(d), "update", data)
			}
			return c.Update(ctx, obj, opts...)
		},
	}
}

// note records a write whose body sets spec.replicas of an existing
// Deployment.
func note(ctx context.Context, c client.Reader, key types.NamespacedName, manager string, body []byte) {
	var w struct {
		Spec struct {
			Replicas *int32 `json:"replicas"`
		} `json:"spec"`
	}
	if json.Unmarshal(body, &w) != nil || w.Spec.Replicas == nil {
		return
	}
	d := &appsv1.Deployment{}
	if err := c.Get(ctx, key, d); err != nil {
		return // a creation: no count to overwrite yet
	}
	rec := replicaWrite{key: key, manager: manager, sent: *w.Spec.Replicas, found: 1}
	if d.Spec.Replicas != nil {
		rec.found = *d.Spec.Replicas
	}
	var hpas autoscalingv2.HorizontalPodAutoscalerList
	if err := c.List(ctx, &hpas, client.InNamespace(key.Namespace)); err == nil {
		for _, h := range hpas.Items {
			if h.Spec.ScaleTargetRef.Kind == "Deployment" && h.Spec.ScaleTargetRef.Name == key.Name {
				rec.autoscaledBy = h.Name
			}
		}
	}
	replicaWrites.Lock()
	defer replicaWrites.Unlock()
	replicaWrites.list = append(replicaWrites.list, rec)
}
