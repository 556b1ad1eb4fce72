package workload

import (
	"encoding/json"
	"fmt"
	"hash/fnv"

	corev1 "k8s.io/api/core/v1"
)

// Revision identifies a pod template: two templates have the same Revision
// exactly when they are equal once Sluice's own labels (LabelWorkload,
// LabelColor) and the Deployment controller's pod-template-hash are left
// out. So the user's Deployment and a copy Sluice made of it have the same
// Revision, and any change to the user's template (image, env, a restart
// annotation) gives a new one.
//
// It is the 64-bit FNV-1a hash of the template's JSON encoding, as 16 hex
// digits. encoding/json writes struct fields in declaration order and map
// keys sorted, so the result is stable across processes and restarts. Pass
// templates as read from the API server (defaults applied), not as written
// in a manifest. An upgrade of k8s.io/api that adds a field without
// omitempty would change every Revision once, starting one release of an
// unchanged template.
func Revision(tmpl *corev1.PodTemplateSpec) string {
	t := tmpl.DeepCopy()
	for _, key := range []string{LabelWorkload, LabelColor, LabelPodTemplateHash} {
		delete(t.Labels, key)
	}
	if len(t.Labels) == 0 {
		t.Labels = nil
	}
	data, err := json.Marshal(t)
	if err != nil {
		// A PodTemplateSpec always encodes; this would be a bug in k8s.io/api.
		panic(fmt.Sprintf("encode pod template: %v", err))
	}
	h := fnv.New64a()
	_, _ = h.Write(data)
	return fmt.Sprintf("%016x", h.Sum64())
}
