package workload

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// Revision identifies a pod template: two templates have the same Revision
// exactly when they are equal once Sluice's own labels (LabelWorkload,
// LabelColor) and the Deployment controller's pod-template-hash are left
// out, and the labels a primary carries renamed (AnnotationRenamedLabels)
// are read with their user's values. So the user's Deployment and a copy Sluice made of it have the same
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
	t := UserTemplate(tmpl)
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

// UserTemplate is the user's pod template a copy's (or one of its
// ReplicaSets') template was made from: without Sluice's labels and the
// Deployment controller's pod-template-hash, and with the labels a primary
// carries renamed (AnnotationRenamedLabels) given their user's values back.
// A user's template comes back as it is, less pod-template-hash.
func UserTemplate(tmpl *corev1.PodTemplateSpec) *corev1.PodTemplateSpec {
	t := tmpl.DeepCopy()
	if renamed, ok := t.Annotations[AnnotationRenamedLabels]; ok {
		for _, key := range strings.Split(renamed, ",") {
			if v, ok := t.Labels[key]; ok {
				t.Labels[key] = strings.TrimSuffix(v, PrimarySuffix)
			}
		}
		delete(t.Annotations, AnnotationRenamedLabels)
		if len(t.Annotations) == 0 {
			t.Annotations = nil
		}
	}
	for _, key := range []string{LabelWorkload, LabelColor, LabelPodTemplateHash} {
		delete(t.Labels, key)
	}
	return t
}
